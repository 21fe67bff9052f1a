/*
 * Cross compilation to aarch64: `onnxc compile --target aarch64-linux-gnu
 * -mcpu=neoverse-n1` (ONNXC_BINARY) on an ONNX node test (Conv with strides
 * and padding) and on a tests/models fixture (vit_tiny_op17).  The object
 * must be an aarch64 ELF (e_machine 183).  When aarch64-linux-gnu-gcc and
 * qemu-aarch64 are on PATH, a small harness is linked statically with it,
 * run under qemu, and its output compared with ONNX's output_0.pb /
 * PyTorch's output_0.npy (read on the host): max |got - want| <= 1e-4 *
 * max |want|.  Without those tools the run part is skipped, saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/tensor_pb.h"
#include "runtime/npy.h"

#define NODE_TESTS ONNXC_SHARED_DIR "/onnx-node-tests"
#define MODELS ONNXC_SOURCE_DIR "/tests/models"
#define EM_AARCH64_VALUE 183
#define MAX_INPUTS 2

/* Reads M_NUM_INPUTS (1 or 2) raw float32 files, runs m_run, writes the
 * single float32 output. */
static const char *harness_c =
    "#include <stdio.h>\n#include <stdlib.h>\n#include \"m.h\"\n"
    "static int load(const char *p, float *d, size_t n) {\n"
    "  FILE *f = fopen(p, \"rb\");\n  if (!f) return 1;\n"
    "  size_t r = fread(d, sizeof *d, n, f);\n  fclose(f);\n  return r != n;\n}\n"
    "int main(int argc, char **argv) {\n"
    "  float *in0 = malloc(sizeof(float) * M_INPUT_0_SIZE), *out = malloc(sizeof(float) * "
    "M_OUTPUT_0_SIZE);\n"
    "  if (!in0 || !out || argc != M_NUM_INPUTS + 2 || load(argv[1], in0, M_INPUT_0_SIZE)) "
    "return 3;\n"
    "#if M_NUM_INPUTS == 2\n"
    "  float *in1 = malloc(sizeof(float) * M_INPUT_1_SIZE);\n"
    "  if (!in1 || load(argv[2], in1, M_INPUT_1_SIZE)) return 3;\n"
    "  const void *ins[2] = {in0, in1};\n"
    "#else\n"
    "  const void *ins[1] = {in0};\n"
    "#endif\n"
    "  void *ws = aligned_alloc(M_WORKSPACE_ALIGN, (M_WORKSPACE_SIZE + M_WORKSPACE_ALIGN) / "
    "M_WORKSPACE_ALIGN * M_WORKSPACE_ALIGN);\n"
    "  void *outs[1] = {out};\n"
    "  if (!ws || m_run(ins, outs, ws)) return 5;\n"
    "  FILE *f = fopen(argv[argc - 1], \"wb\");\n"
    "  if (!f || fwrite(out, sizeof *out, M_OUTPUT_0_SIZE, f) != M_OUTPUT_0_SIZE) return 6;\n"
    "  return fclose(f) != 0;\n}\n";

static char work[64];

static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool on_path(const char *tool) { return sh("command -v %s >/dev/null 2>&1", tool) == 0; }

/* ELF header: magic, ELFCLASS64, little endian, e_machine (offset 18). */
static int elf_machine(const char *path) {
  unsigned char h[20];
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t n = fread(h, 1, sizeof h, f);
  fclose(f);
  if (n != sizeof h || memcmp(h, "\177ELF", 4) != 0 || h[4] != 2 || h[5] != 1) return -1;
  return h[18] | h[19] << 8;
}

static bool write_floats(const char *path, const void *data, size_t nbytes) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(data, 1, nbytes, f) == nbytes;
  return fclose(f) == 0 && ok;
}

static int setup(void **state) {
  (void)state;
  snprintf(work, sizeof work, "/tmp/onnxc-cross-XXXXXX");
  if (!mkdtemp(work)) return -1;
  char path[128];
  snprintf(path, sizeof path, "%s/harness.c", work);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(harness_c, f);
  return fclose(f);
}

static int teardown(void **state) {
  (void)state;
  sh("rm -rf '%s'", work);
  return 0;
}

/* Compiles model for aarch64 into work/m.o + m.h and checks the ELF. */
static void compile_for_aarch64(const char *model, const char *extra) {
  int rc = sh("cd '%s' && rm -f m.o m.h && '%s' compile '%s' --target aarch64-linux-gnu "
              "-mcpu=neoverse-n1 -o m.o --header m.h --name m %s 2>compile.err",
              work, ONNXC_BINARY, model, extra);
  if (rc != 0) sh("cat '%s/compile.err'", work);
  assert_int_equal(rc, 0);
  char path[128];
  snprintf(path, sizeof path, "%s/m.o", work);
  assert_int_equal(elf_machine(path), EM_AARCH64_VALUE);
}

/* Links and runs the harness under qemu on the n_in inputs; compares the
 * output with want (float32, numel elements).  Returns false (after saying
 * why) when the cross tools are missing. */
static bool run_under_qemu(const void *const in_data[], const size_t in_bytes[], int n_in,
                           const float *want, size_t numel, const char *what) {
  if (!on_path("aarch64-linux-gnu-gcc") || !on_path("qemu-aarch64")) {
    printf("  %s: compiled for aarch64; run part SKIPPED: aarch64-linux-gnu-gcc or qemu-aarch64 "
           "not on PATH (Debian: gcc-aarch64-linux-gnu qemu-user)\n",
           what);
    return false;
  }
  char path[128], args[256] = "";
  for (int i = 0; i < n_in; i++) {
    snprintf(path, sizeof path, "%s/in%d.bin", work, i);
    assert_true(write_floats(path, in_data[i], in_bytes[i]));
    size_t at = strlen(args);
    snprintf(args + at, sizeof args - at, "in%d.bin ", i);
  }
  int rc = sh("cd '%s' && rm -f h out.bin && aarch64-linux-gnu-gcc -static -O1 -o h harness.c "
              "m.o -lm && qemu-aarch64 ./h %sout.bin",
              work, args);
  assert_int_equal(rc, 0);
  float *got = malloc(numel * sizeof *got);
  assert_non_null(got);
  snprintf(path, sizeof path, "%s/out.bin", work);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  size_t n = fread(got, sizeof *got, numel, f);
  fclose(f);
  assert_int_equal(n, numel);
  double max_abs = 0, max_ref = 0;
  for (size_t i = 0; i < numel; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= max_abs)) max_abs = d; /* NaN sticks */
    if (fabs(want[i]) > max_ref) max_ref = fabs(want[i]);
  }
  printf("  %s: ran under qemu-aarch64, %zu outputs, max_abs=%.3g, max|ref|=%.3g\n", what, numel,
         max_abs, max_ref);
  free(got);
  assert_true(max_ref > 0); /* a real reference, not all zeros */
  assert_true(max_abs <= 1e-4 * max_ref);
  return true;
}

static void node_test_conv_runs_on_aarch64(void **state) {
  (void)state;
  const char *dir = NODE_TESTS "/test_conv_with_strides_padding";
  compile_for_aarch64(NODE_TESTS "/test_conv_with_strides_padding/model.onnx", "");
  TensorFile in[MAX_INPUTS], out;
  Error err;
  char path[512];
  for (int i = 0; i < MAX_INPUTS; i++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
    assert_int_equal(fe_read_tensor_pb(path, &in[i], &err), ST_OK);
    assert_int_equal(in[i].dtype, DT_FLOAT32);
  }
  snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
  assert_int_equal(fe_read_tensor_pb(path, &out, &err), ST_OK);
  assert_int_equal(out.dtype, DT_FLOAT32);
  const void *data[MAX_INPUTS] = {in[0].data, in[1].data};
  size_t bytes[MAX_INPUTS] = {in[0].nbytes, in[1].nbytes};
  run_under_qemu(data, bytes, MAX_INPUTS, out.data, out.nbytes / sizeof(float),
                 "test_conv_with_strides_padding");
  for (int i = 0; i < MAX_INPUTS; i++) fe_tensor_file_free(&in[i]);
  fe_tensor_file_free(&out);
}

static void fixture_vit_tiny_runs_on_aarch64(void **state) {
  (void)state;
  compile_for_aarch64(MODELS "/vit_tiny_op17/model.onnx", "--input-shape x=1,3,32,32");
  NpyArray x, y;
  Error err;
  assert_int_equal(npy_read(MODELS "/vit_tiny_op17/input_0.npy", &x, &err), ST_OK);
  assert_int_equal(npy_read(MODELS "/vit_tiny_op17/output_0.npy", &y, &err), ST_OK);
  assert_int_equal(x.dtype, DT_FLOAT32);
  assert_int_equal(y.dtype, DT_FLOAT32);
  const void *data[1] = {x.data};
  size_t bytes[1] = {x.nbytes};
  run_under_qemu(data, bytes, 1, y.data, y.nbytes / sizeof(float), "vit_tiny_op17");
  npy_free(&x);
  npy_free(&y);
}

/* An architecture without kernels is refused with a message naming it. */
static void unknown_arch_is_refused(void **state) {
  (void)state;
  int rc = sh("cd '%s' && '%s' compile '%s' --target riscv64-linux-gnu -mcpu=generic-rv64 "
              "-o r.o 2>riscv.err",
              work, ONNXC_BINARY, NODE_TESTS "/test_conv_with_strides_padding/model.onnx");
  assert_int_equal(rc, 2);
  assert_int_equal(sh("grep -q 'no kernels for the riscv64 architecture' '%s/riscv.err'", work), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(node_test_conv_runs_on_aarch64),
      cmocka_unit_test(fixture_vit_tiny_runs_on_aarch64),
      cmocka_unit_test(unknown_arch_is_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
