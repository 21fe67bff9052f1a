/*
 * Timing harness for one onnxc-compiled model (bench/, not part of the
 * library).  Built per model: cc -O2 -DMODEL_HEADER='"m.h"' harness.c m.o,
 * against a header generated with --name m (so the macros are M_*).
 * Two modes:
 *   harness [-w WARMUP] [-n RUNS] [-o OUT.bin] IN0.bin [IN1.bin ...]
 *       standalone: warm-up runs, RUNS timed runs, prints median/min ms;
 *   harness --serve IN0.bin ...
 *       driven by bench/bench.py over stdin so onnxc and ONNX Runtime rounds
 *       can alternate: "warm N", "run N" (prints N "wall:cpu" ms pairs on one
 *       line; cpu = CLOCK_PROCESS_CPUTIME_ID),
 *       "threads N" (runs through m_run_parallel on an onnxc_pool of N
 *       threads from then on; N = 1: m_run), "dump PATH" (writes output
 *       0..k raw, concatenated), "quit".
 * Times are per m_run call, CLOCK_MONOTONIC; inputs are raw little-endian
 * buffers of exactly M_INPUT_i_SIZE elements of the header's dtype.
 * A model compiled with --weights=FILE (M_WEIGHTS_EXTERNAL) needs
 * `--weights FILE` first: it is loaded once and checked with m_weights_check.
 * `--threads N` (both modes) starts with N threads.  Built with
 * runtime/onnxc_pool.c and -pthread.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include MODEL_HEADER
#include "onnxc_pool.h"

#define MAX_IO 4
#if M_NUM_INPUTS > MAX_IO || M_NUM_OUTPUTS > MAX_IO
#error "harness supports at most 4 inputs and 4 outputs"
#endif

static size_t dtype_bytes(const char *d) {
  static const struct { const char *name; size_t bytes; } t[] = {
      {"float32", 4}, {"float", 4}, {"f32", 4}, {"float16", 2}, {"f16", 2}, {"bfloat16", 2},
      {"float64", 8}, {"double", 8}, {"f64", 8}, {"int64", 8}, {"i64", 8}, {"uint64", 8},
      {"int32", 4},   {"i32", 4},   {"uint32", 4}, {"int16", 2}, {"uint16", 2}, {"int8", 1},
      {"uint8", 1},   {"bool", 1},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(d, t[i].name) == 0) return t[i].bytes;
  return 0;
}

typedef struct {
  size_t numel;
  const char *dtype;
} IoDesc;

static const IoDesc in_desc[MAX_IO] = {
    {M_INPUT_0_SIZE, M_INPUT_0_DTYPE},
#ifdef M_INPUT_1_SIZE
    {M_INPUT_1_SIZE, M_INPUT_1_DTYPE},
#endif
#ifdef M_INPUT_2_SIZE
    {M_INPUT_2_SIZE, M_INPUT_2_DTYPE},
#endif
#ifdef M_INPUT_3_SIZE
    {M_INPUT_3_SIZE, M_INPUT_3_DTYPE},
#endif
};

static const IoDesc out_desc[MAX_IO] = {
    {M_OUTPUT_0_SIZE, M_OUTPUT_0_DTYPE},
#ifdef M_OUTPUT_1_SIZE
    {M_OUTPUT_1_SIZE, M_OUTPUT_1_DTYPE},
#endif
#ifdef M_OUTPUT_2_SIZE
    {M_OUTPUT_2_SIZE, M_OUTPUT_2_DTYPE},
#endif
#ifdef M_OUTPUT_3_SIZE
    {M_OUTPUT_3_SIZE, M_OUTPUT_3_DTYPE},
#endif
};

static void *inputs[MAX_IO];
static void *outputs[MAX_IO];
static size_t out_bytes[MAX_IO];
static void *workspace;
static const void *weights; /* the loaded weights file (M_WEIGHTS_EXTERNAL) */
static onnxc_pool *pool;
static const onnxc_parallel *par; /* NULL: one thread, m_run */

static int set_threads(long n) {
  onnxc_pool_destroy(pool);
  pool = NULL;
  par = NULL;
  if (n == 1) return 0;
  if (n < 1 || n > ONNXC_POOL_MAX_THREADS || !(pool = onnxc_pool_create((int)n))) {
    fprintf(stderr, "harness: cannot make a pool of %ld threads\n", n);
    return 1;
  }
  par = onnxc_pool_parallel(pool);
  return 0;
}

#ifdef M_WEIGHTS_EXTERNAL
static int load_weights(const char *path) {
  size_t n = (size_t)M_WEIGHTS_SIZE;
  char *w = aligned_alloc(M_WEIGHTS_ALIGN, (n + M_WEIGHTS_ALIGN - 1) / M_WEIGHTS_ALIGN * M_WEIGHTS_ALIGN);
  FILE *f = path ? fopen(path, "rb") : NULL;
  if (!w || !f || fread(w, 1, n, f) != n || fgetc(f) != EOF || m_weights_check(w, n) != 0) {
    fprintf(stderr, "harness: %s is not this model's weights file\n", path ? path : "(none)");
    if (f) fclose(f);
    return 1;
  }
  fclose(f);
  weights = w;
  return 0;
}
#define RUN_MODEL(in, out, ws)                                                                     \
  (par ? m_run_parallel_with_weights(weights, in, out, ws, par) : m_run_with_weights(weights, in, out, ws))
#else
static int load_weights(const char *path) {
  if (path) fprintf(stderr, "harness: --weights given, but the weights are embedded\n");
  return path != NULL;
}
#define RUN_MODEL(in, out, ws) (par ? m_run_parallel(in, out, ws, par) : m_run(in, out, ws))
#endif

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int read_input(int i, const char *path) {
  size_t eb = dtype_bytes(in_desc[i].dtype);
  if (eb == 0) {
    fprintf(stderr, "harness: input %d: unknown dtype %s\n", i, in_desc[i].dtype);
    return 1;
  }
  size_t want = in_desc[i].numel * eb;
  inputs[i] = malloc(want ? want : 1);
  if (!inputs[i]) {
    fprintf(stderr, "harness: out of memory for input %d\n", i);
    return 1;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "harness: cannot open %s\n", path);
    return 1;
  }
  size_t got = fread(inputs[i], 1, want, f);
  int extra = fgetc(f);
  fclose(f);
  if (got != want || extra != EOF) {
    fprintf(stderr, "harness: %s: expected exactly %zu bytes for input %d\n", path, want, i);
    return 1;
  }
  return 0;
}

static int setup(int nfiles, char **files) {
  if (nfiles != M_NUM_INPUTS) {
    fprintf(stderr, "harness: model has %d inputs, got %d files\n", M_NUM_INPUTS, nfiles);
    return 1;
  }
  for (int i = 0; i < M_NUM_INPUTS; i++)
    if (read_input(i, files[i])) return 1;
  for (int i = 0; i < M_NUM_OUTPUTS; i++) {
    size_t eb = dtype_bytes(out_desc[i].dtype);
    out_bytes[i] = out_desc[i].numel * (eb ? eb : 8);
    outputs[i] = malloc(out_bytes[i] ? out_bytes[i] : 1);
    if (!outputs[i]) return 1;
  }
  size_t align = M_WORKSPACE_ALIGN;
  size_t ws = ((size_t)M_WORKSPACE_SIZE_FOR_THREADS(ONNXC_POOL_MAX_THREADS) + align - 1) / align * align;
  workspace = aligned_alloc(align, ws ? ws : align);
  if (!workspace) {
    fprintf(stderr, "harness: cannot allocate %zu bytes of workspace\n", ws);
    return 1;
  }
  return 0;
}

/* CPU time of the process (all threads, should the code ever use more):
 * unlike wall time it leaves out preemption on a shared machine, which
 * stretches long runs more than short ones, so it is reported beside it. */
static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int run_once(double *ms, double *cpu) {
  double c0 = cpu_ms(), t0 = now_ms();
  int rc = RUN_MODEL((const void *const *)inputs, outputs, workspace);
  double t1 = now_ms(), c1 = cpu_ms();
  if (ms) *ms = t1 - t0;
  if (cpu) *cpu = c1 - c0;
  if (rc != 0) fprintf(stderr, "harness: m_run returned %d\n", rc);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int dump(const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return 1;
  for (int i = 0; i < M_NUM_OUTPUTS; i++)
    if (fwrite(outputs[i], 1, out_bytes[i], f) != out_bytes[i]) {
      fclose(f);
      return 1;
    }
  return fclose(f) != 0;
}

static int serve(void) {
  char line[4200];
  while (fgets(line, sizeof line, stdin)) {
    long n = 0;
    char path[4096];
    if (sscanf(line, "warm %ld", &n) == 1 && n >= 0 && n <= 100000) {
      for (long i = 0; i < n; i++)
        if (run_once(NULL, NULL)) return 1;
      printf("ok\n");
    } else if (sscanf(line, "run %ld", &n) == 1 && n > 0 && n <= 100000) {
      for (long i = 0; i < n; i++) {
        double ms, cpu;
        if (run_once(&ms, &cpu)) return 1;
        printf("%s%.6f:%.6f", i ? " " : "", ms, cpu);
      }
      printf("\n");
    } else if (sscanf(line, "threads %ld", &n) == 1) {
      printf(set_threads(n) ? "error\n" : "ok\n");
    } else if (sscanf(line, "dump %4095s", path) == 1) {
      printf(dump(path) ? "error\n" : "ok\n");
    } else if (strncmp(line, "quit", 4) == 0) {
      return 0;
    } else {
      printf("error unknown command\n");
    }
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  long warm = 3, runs = 20, threads = 1;
  const char *out = NULL, *weights_path = NULL;
  int is_serve = 0, i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--serve") == 0) is_serve = 1;
    else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) warm = atol(argv[++i]);
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) runs = atol(argv[++i]);
    else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out = argv[++i];
    else if (strcmp(argv[i], "--weights") == 0 && i + 1 < argc) weights_path = argv[++i];
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atol(argv[++i]);
    else {
      fprintf(stderr,
              "usage: %s [--serve] [--weights FILE] [--threads N] [-w WARMUP] [-n RUNS] [-o OUT.bin] "
              "IN.bin...\n",
              argv[0]);
      return 2;
    }
  }
  if (load_weights(weights_path) || setup(argc - i, argv + i) || set_threads(threads)) return 1;
  if (is_serve) {
    printf("ready %d %d\n", M_NUM_INPUTS, M_NUM_OUTPUTS);
    fflush(stdout);
    return serve();
  }
  if (runs < 1 || runs > 1000000 || warm < 0) return 2;
  for (long k = 0; k < warm; k++)
    if (run_once(NULL, NULL)) return 1;
  double *t = malloc((size_t)runs * sizeof *t);
  if (!t) return 1;
  for (long k = 0; k < runs; k++)
    if (run_once(&t[k], NULL)) return 1;
  qsort(t, (size_t)runs, sizeof *t, cmp_double);
  double med = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
  printf("runs %ld median %.4f ms min %.4f ms\n", runs, med, t[0]);
  free(t);
  if (out && dump(out)) {
    fprintf(stderr, "harness: cannot write %s\n", out);
    return 1;
  }
  return 0;
}
