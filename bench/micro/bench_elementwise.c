/*
 * Micro-benchmark of the vector lowerings in codegen/vec/lower_elementwise.c on
 * ViT-B/16 shapes, single thread: Softmax [12,197,197], LayerNorm
 * [197,768], Gelu [197,3072] (erf and tanh forms) and a bias Add
 * [197,768] + [768].  Each is a one-node graph compiled with cg_compile
 * (-O3, host CPU), linked into a shared object and timed as the median of
 * 25 runs after 3 warm-ups, once with the lowering and once through the
 * reference kernel (CgOptions.reference_kernels_only).  Prints ns per
 * element, GB/s of compulsory traffic (inputs + outputs once) and the
 * speedup.
 *
 * Built with micro_util.c by bench/micro/CMakeLists.txt; run
 * <build>/bench/micro/bench_elementwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "ir/graph.h"
#include "ops/ops.h"
#include "bench/micro/micro_util.h"

typedef int (*RunFn)(const void *const *, void *const *, void *);

typedef struct Case {
  const char *name;
  OpKind op;
  int rank;
  int64_t dims[4];
  int rank2; /* second input (0: none) */
  int64_t dims2[3];
  int rank3; /* third input (LayerNorm bias) */
  int64_t dims3[3];
  const char *gelu_mode; /* Gelu "approximate" */
  int64_t perm[4];       /* Transpose (rank 4) */
} Case;

static Graph *build(const Case *k, Error *err) {
  Graph *g = ir_graph_new("bench", "<bench>");
  if (!g) return NULL;
  Value *ins[3];
  int nin = 1 + (k->rank2 > 0) + (k->rank3 > 0);
  const int ranks[3] = {k->rank, k->rank2, k->rank3};
  const int64_t *dims[3] = {k->dims, k->dims2, k->dims3};
  for (int i = 0; i < nin; i++) {
    char name[8];
    snprintf(name, sizeof name, "x%d", i);
    ins[i] = ir_value_new(g, name);
    if (ir_value_set_type(ins[i], DT_FLOAT32, ranks[i], dims[i], err) != ST_OK ||
        ir_graph_add_input(g, ins[i], err) != ST_OK)
      return NULL;
  }
  Node *n = ir_node_new(g, k->op, "n", nin, 1);
  for (int i = 0; i < nin; i++)
    n->inputs[i] = ins[i];
  n->opset = 17;
  ir_node_set_output(n, 0, ir_value_new(g, "y"));
  if (k->gelu_mode) ir_node_set_attr_string(g, n, "approximate", k->gelu_mode, err);
  if (k->op == OP_TRANSPOSE) ir_node_set_attr_ints(g, n, "perm", k->perm, 4, err);
  if (ops_infer_node(g, n, err) != ST_OK || ir_graph_add_output(g, n->outputs[0], err) != ST_OK)
    return NULL;
  return g;
}

/* Median seconds per run of the compiled case, or -1 on failure. */
static double time_case(const Case *k, bool lowered) {
  Error err;
  Graph *g = build(k, &err);
  if (!g) {
    fprintf(stderr, "%s: %s\n", k->name, err.msg);
    return -1;
  }
  char dir[] = "/tmp/bench-elw-XXXXXX";
  if (!mkdtemp(dir)) return -1;
  char obj[64], so[64], cmd[256];
  snprintf(obj, sizeof obj, "%s/m.o", dir);
  snprintf(so, sizeof so, "%s/m.so", dir);
  CgOptions o = {.prefix = "m", .opt_level = 3, .emit = CG_EMIT_OBJ, .output_path = obj};
  o.reference_kernels_only = !lowered;
  Status st = cg_compile(g, &o, &err);
  if (st != ST_OK) {
    fprintf(stderr, "%s: %s\n", k->name, err.msg);
    return -1;
  }
  snprintf(cmd, sizeof cmd, "cc -shared -o %s %s -lm", so, obj);
  if (system(cmd) != 0) return -1;
  void *dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  RunFn run = NULL;
  if (dl) *(void **)&run = dlsym(dl, "m_run");
  if (!run) return -1;
  const void *ins[3] = {0};
  void *outs[1];
  for (int i = 0; i < g->num_inputs; i++) {
    size_t n = (size_t)ir_value_numel(g->inputs[i]);
    float *p = malloc(n * sizeof *p + 64);
    for (size_t j = 0; j < n; j++)
      p[j] = (float)((j * 7919 % 2001) / 1000.0 - 1.0) * 3.0f;
    ins[i] = p;
  }
  outs[0] = malloc(ir_value_nbytes(g->outputs[0]) + 64);
  void *ws = aligned_alloc(64, 1 << 26);
  double t[25];
  for (int r = 0; r < 3; r++)
    run(ins, outs, ws);
  for (int r = 0; r < 25; r++) {
    double t0 = micro_now_wall();
    run(ins, outs, ws);
    t[r] = micro_now_wall() - t0;
  }
  qsort(t, 25, sizeof *t, micro_cmp_double);
  for (int i = 0; i < g->num_inputs; i++)
    free((void *)ins[i]);
  free(outs[0]);
  free(ws);
  dlclose(dl);
  unlink(obj);
  unlink(so);
  rmdir(dir);
  ir_graph_free(g);
  return t[12];
}

int main(void) {
  static const Case cases[] = {
      {"Softmax [12,197,197]", OP_SOFTMAX, 3, {12, 197, 197}, 0, {0}, 0, {0}, NULL, {0}},
      {"LayerNorm [197,768]", OP_LAYER_NORMALIZATION, 2, {197, 768}, 1, {768}, 1, {768}, NULL, {0}},
      {"Gelu erf [197,3072]", OP_GELU, 2, {197, 3072}, 0, {0}, 0, {0}, "none", {0}},
      {"Gelu tanh [197,3072]", OP_GELU, 2, {197, 3072}, 0, {0}, 0, {0}, "tanh", {0}},
      {"Add bias [197,768]+[768]", OP_ADD, 2, {197, 768}, 1, {768}, 0, {0}, NULL, {0}},
      {"Transpose 0213 [1,197,12,64]",
       OP_TRANSPOSE,
       4,
       {1, 197, 12, 64},
       0,
       {0},
       0,
       {0},
       NULL,
       {0, 2, 1, 3}},
      {"Transpose 0231 [1,12,197,64]",
       OP_TRANSPOSE,
       4,
       {1, 12, 197, 64},
       0,
       {0},
       0,
       {0},
       NULL,
       {0, 2, 3, 1}},
      {"Transpose 0132 [1,12,197,64]",
       OP_TRANSPOSE,
       4,
       {1, 12, 197, 64},
       0,
       {0},
       0,
       {0},
       NULL,
       {0, 1, 3, 2}},
  };
  printf("%-30s %12s %10s %10s %12s %10s %9s\n", "case", "lowered us", "ns/elem", "GB/s",
         "reference us", "GB/s", "speedup");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const Case *k = &cases[i];
    double numel = 1;
    for (int d = 0; d < k->rank; d++)
      numel *= (double)k->dims[d];
    double extra = 0;
    if (k->rank2) extra += k->dims2[0];
    if (k->rank3) extra += k->dims3[0];
    double bytes = (2 * numel + extra) * 4;
    double tl = time_case(k, true), tr = time_case(k, false);
    if (tl <= 0 || tr <= 0) {
      printf("%-30s failed\n", k->name);
      continue;
    }
    printf("%-30s %12.1f %10.3f %10.2f %12.1f %10.2f %8.1fx\n", k->name, tl * 1e6, tl * 1e9 / numel,
           bytes / tl * 1e-9, tr * 1e6, bytes / tr * 1e-9, tr / tl);
  }
  return 0;
}
