/*
 * End-to-end tests of the onnxc binary (ONNXC_BINARY) on ONNX node test
 * models: exit statuses (0 ok, 1 bad input, 2 usage), error messages, the
 * IR that `dump` prints, the .npy files `run` writes (checked against ONNX's
 * expected output_0.pb), `verify`, every flag in --help documented in
 * docs/CLI.md, bad flag values as usage errors, and per-command --help.
 * (test_cli_outputs.c: output files; test_cli_targets.c: --target/-mcpu/
 * -mattr; test_cli_limits.c: resource limits and constant indices.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/tensor_pb.h"
#include "runtime/npy.h"
#include "test_cli_util.h"

static void usage_errors_exit_2(void **state) {
  (void)state;
  static const char *const cases[] = {
      "",
      "dump",
      "frobnicate " CONV_MODEL,
      "dump " CONV_MODEL " --no-such-flag",
      "dump " CONV_MODEL " --format=xml",
      "dump " CONV_MODEL " --print-ir-after=no-such-pass",
      "dump " CONV_MODEL " --stop-after",
      "run " CONV_MODEL " --each",
      "dump " CONV_MODEL " --output-dir x",
      "verify " CONV_MODEL " --rtol=-1",
      "verify " CONV_MODEL " --seed abc",
      "run " CONV_MODEL " --input x",
      "dump " CONV_MODEL " --input-shape x=1,a",
      "dump " CONV_MODEL " " CONV_MODEL,
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = run_onnxc("%s", cases[i]);
    if (rc != 2 || strncmp(err_text, "onnxc: ", 7) != 0)
      fail_msg("'onnxc %s': exit %d, stderr '%s'", cases[i], rc, err_text);
  }
}

/* Bad flag values found from the command line alone: exit 2, one message
 * naming the flag, before the model is read. */
static void bad_flag_values_exit_2(void **state) {
  (void)state;
  static const struct {
    const char *args, *want;
  } cases[] = {
      {"compile " CONV_MODEL " --name 1abc", "--name '1abc' is not a C identifier"},
      {"compile " CONV_MODEL " --output=", "--output needs a value"},
      {"compile " CONV_MODEL " -o ''", "--output needs a value"},
      {"compile " CONV_MODEL " --header=", "--header needs a value"},
      {"compile " CONV_MODEL " --weights=", "--weights needs a value"},
      {"compile " CONV_MODEL " -mcpu=", "-mcpu needs a value"},
      {"compile " CONV_MODEL " --target aarch64-linux-gnu", "needs -mcpu=CPU"},
      {"compile " CONV_MODEL " --target garbage", "--target 'garbage': LLVM knows no such"},
      {"run " CONV_MODEL " --output-dir=", "--output-dir needs a value"},
      {"dump " CONV_MODEL " --input-shape x=1,1,7,5 --input-shape x=1,1,7,6",
       "--input-shape 'x=1,1,7,5' and --input-shape 'x=1,1,7,6' both set"},
      {"dump " CONV_MODEL " --input-shape x=1,0,7,5", "dimension 1 is 0"},
      {"dump " CONV_MODEL " --input-shape x=1,-1,7,5", "is not a positive integer"},
      {"dump " CONV_MODEL " --stop-after=simplify --print-ir-after=dce",
       "--print-ir-after=dce never prints: --stop-after=simplify"},
      {"dump " CONV_MODEL " --stop-after=infer-shapes --print-ir-before=cse",
       "--print-ir-before=cse never prints"},
      {"dump " CONV_MODEL " --max-tensor-bytes=12x", "--max-tensor-bytes wants a size"},
      {"dump " CONV_MODEL " --max-tensor-bytes=0", "--max-tensor-bytes wants a size"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = run_onnxc("%s", cases[i].args);
    if (rc != 2) fail_msg("'onnxc %s': exit %d, stderr '%s'", cases[i].args, rc, err_text);
    expect_error(cases[i].want);
  }
  /* --target garbage is about the triple, not about -mcpu=native. */
  assert_int_equal(run_onnxc("compile %s --target garbage", CONV_MODEL), 2);
  assert_null(strstr(err_text, "native"));
  /* The print flag of the last pass that runs is fine. */
  assert_int_equal(run_onnxc("dump %s --stop-after=simplify --print-ir-after=simplify "
                             "--max-tensor-bytes=64M", CONV_MODEL), 0);
  assert_non_null(strstr(err_text, "; IR after simplify"));
}

/* `onnxc COMMAND --help` lists that command's options (and the common
 * ones), one line each. */
static void help_per_command(void **state) {
  (void)state;
  static const struct {
    const char *args, *has, *lacks;
  } cases[] = {
      {"compile --help", "--header FILE", "--output-dir"},
      {"--help compile", "-mcpu=CPU", "--rtol"},
      {"run --help", "--output-dir DIR", "--header"},
      {"help verify", "--rtol R", "--emit"},
      {"dump -h", "--format=text|dot", "--seed"},
      {"dump " CONV_MODEL " --help", "--format=text|dot", "--weights"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    if (run_onnxc("%s", cases[i].args) != 0) fail_msg("'onnxc %s' failed", cases[i].args);
    if (!strstr(out_text, cases[i].has)) fail_msg("'onnxc %s' lacks %s", cases[i].args, cases[i].has);
    if (strstr(out_text, cases[i].lacks))
      fail_msg("'onnxc %s' lists %s, an option of another command", cases[i].args, cases[i].lacks);
    if (!strstr(out_text, "--input-shape NAME=D0,D1,...") || !strstr(out_text, "fix the dims"))
      fail_msg("'onnxc %s' lacks the options of every command", cases[i].args);
  }
  assert_int_equal(run_onnxc("compile --help"), 0);
  assert_non_null(strstr(out_text, "usage: onnxc compile MODEL.onnx"));
}

static void help_version_passes(void **state) {
  (void)state;
  assert_int_equal(run_onnxc("--help"), 0);
  assert_non_null(strstr(out_text, "usage: onnxc"));
  assert_int_equal(run_onnxc("--version"), 0);
  assert_non_null(strstr(out_text, "onnxc " ONNXC_VERSION "\nLLVM 19."));
  assert_non_null(strstr(out_text, "targets:\n  x86_64-unknown-linux-gnu (ELF)\n"));
  assert_int_equal(run_onnxc("--passes"), 0);
  assert_non_null(strstr(out_text, "infer-shapes"));
  assert_non_null(strstr(out_text, "dce"));
}

/* Every "--flag" token of --help appears in docs/CLI.md. */
static void help_flags_are_documented(void **state) {
  (void)state;
  assert_int_equal(run_onnxc("--help"), 0);
  char *doc = read_text(ONNXC_SOURCE_DIR "/docs/CLI.md");
  int flags = 0;
  for (const char *p = out_text; (p = strstr(p, "--")) != NULL;) {
    size_t n = 2;
    while (p[n] == '-' || (p[n] >= 'a' && p[n] <= 'z')) n++;
    char flag[64];
    snprintf(flag, sizeof flag, "%.*s", (int)n, p);
    if (n > 3) {
      flags++;
      if (!strstr(doc, flag)) fail_msg("%s is in --help but not in docs/CLI.md", flag);
    }
    p += n;
  }
  assert_true(flags >= 20);
  free(doc);
}

static void missing_file_exits_1_naming_it(void **state) {
  (void)state;
  assert_int_equal(run_onnxc("dump no/such/model.onnx"), 1);
  assert_non_null(strstr(err_text, "onnxc: "));
  assert_non_null(strstr(err_text, "no/such/model.onnx"));
  assert_int_equal(run_onnxc("run %s --input x=no/such/x.npy --input W=%s", CONV_MODEL, CONV_W), 1);
  assert_non_null(strstr(err_text, "no/such/x.npy"));
}

static void dump_prints_the_op(void **state) {
  (void)state;
  assert_int_equal(run_onnxc("dump %s", CONV_MODEL), 0);
  assert_non_null(strstr(out_text, "= Conv %x, %W"));
  assert_non_null(strstr(out_text, "f32[1,1,4,3]")); /* output shape from ONNX's output_0.pb */
  assert_int_equal(run_onnxc("dump %s --format=dot", CONV_MODEL), 0);
  assert_non_null(strstr(out_text, "digraph"));
  assert_non_null(strstr(out_text, "Conv"));

  char file[300];
  snprintf(file, sizeof file, "%s.ir", work_dir);
  assert_int_equal(run_onnxc("dump %s -o %s", CONV_MODEL, file), 0);
  assert_string_equal(out_text, "");
  char *ir = read_text(file);
  assert_non_null(strstr(ir, "Conv"));
  free(ir);
  remove(file);
}

static void pipeline_flags_print_to_stderr(void **state) {
  (void)state;
  assert_int_equal(run_onnxc("dump %s --print-ir-after=dce --print-ir-before infer-shapes "
                             "--time-passes --verify-each",
                             CONV_MODEL),
                   0);
  assert_non_null(strstr(err_text, "Conv"));
  assert_non_null(strstr(err_text, "fold-constants")); /* in the time table */
  assert_non_null(strstr(out_text, "Conv"));
  assert_int_equal(run_onnxc("dump %s --stop-after=infer-shapes --print-ir-after-all "
                             "--no-verify-each",
                             CONV_MODEL),
                   0);
  assert_non_null(strstr(out_text, "Conv"));
}

static void compare_with_expected(const char *npy_path, const char *pb_path) {
  NpyArray got;
  TensorFile want;
  memset(&want, 0, sizeof want);
  Error err = {0};
  if (npy_read(npy_path, &got, &err) != ST_OK) fail_msg("%s", err.msg);
  if (fe_read_tensor_pb(pb_path, &want, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(got.dtype, want.dtype);
  assert_int_equal(got.rank, want.rank);
  for (int i = 0; i < got.rank; i++) assert_int_equal(got.dims[i], want.dims[i]);
  assert_int_equal(got.nbytes, want.nbytes);
  const float *a = got.data, *e = want.data;
  for (size_t i = 0; i < got.nbytes / sizeof(float); i++)
    if (fabsf(a[i] - e[i]) > 1e-7f + 1e-3f * fabsf(e[i]))
      fail_msg("element %zu: got %g, expected %g", i, a[i], e[i]);
  npy_free(&got);
  fe_tensor_file_free(&want);
}

static void run_writes_expected_npy(void **state) {
  (void)state;
  char dir[300], y[400];
  snprintf(dir, sizeof dir, "%s.outdir", work_dir);
  snprintf(y, sizeof y, "%s/y.npy", dir);
  assert_int_equal(run_onnxc("run %s --input x=%s --input W=%s --output-dir %s", CONV_MODEL,
                             CONV_X, CONV_W, dir),
                   0);
  assert_non_null(strstr(out_text, "y  f32  [1,1,4,3]  min="));
  compare_with_expected(y, CONV_Y);
  remove(y);

  /* The same run with the inputs as .npy files. */
  TensorFile t;
  Error err = {0};
  char xn[400], wn[400];
  snprintf(xn, sizeof xn, "%s/x.npy", dir);
  snprintf(wn, sizeof wn, "%s/w.npy", dir);
  memset(&t, 0, sizeof t);
  assert_int_equal(fe_read_tensor_pb(CONV_X, &t, &err), ST_OK);
  assert_int_equal(npy_write(xn, t.dtype, t.rank, t.dims, t.data, &err), ST_OK);
  fe_tensor_file_free(&t);
  memset(&t, 0, sizeof t);
  assert_int_equal(fe_read_tensor_pb(CONV_W, &t, &err), ST_OK);
  assert_int_equal(npy_write(wn, t.dtype, t.rank, t.dims, t.data, &err), ST_OK);
  fe_tensor_file_free(&t);
  assert_int_equal(run_onnxc("run %s --input=x=%s --input W=%s --output-dir=%s", CONV_MODEL, xn,
                             wn, dir),
                   0);
  compare_with_expected(y, CONV_Y);

  /* Wrong shape (W given as x) and a missing input are bad input: exit 1. */
  assert_int_equal(run_onnxc("run %s --input x=%s --input W=%s", CONV_MODEL, wn, wn), 1);
  assert_non_null(strstr(err_text, "input 'x'"));
  assert_non_null(strstr(err_text, "f32[1,1,7,5]"));
  assert_int_equal(run_onnxc("run %s --input x=%s", CONV_MODEL, xn), 1);
  assert_non_null(strstr(err_text, "no --input for graph input 'W'"));
  assert_int_equal(run_onnxc("run %s --input x=%s --input W=%s --input z=%s", CONV_MODEL, xn, wn,
                             wn),
                   1);
  assert_non_null(strstr(err_text, "no input named 'z'"));
  remove(xn);
  remove(wn);
  remove(y);
  rmdir(dir);
}

/* Models exported by PyTorch with its own outputs (tests/models/, see docs/FIXTURES.md). */
static void run_matches_pytorch_fixtures(void **state) {
  (void)state;
  static const struct {
    const char *model, *shape;
  } cases[] = {{"cnn_small_op13", ""}, {"vit_tiny_op17_dynbatch", "--input-shape x=2,3,32,32"}};
  char dir[300], y[400];
  snprintf(dir, sizeof dir, "%s.fixtures", work_dir);
  snprintf(y, sizeof y, "%s/y.npy", dir);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *m = cases[i].model;
    int rc = run_onnxc("run %s/tests/models/%s/model.onnx %s --input x=%s/tests/models/%s/input_0.npy "
                       "--output-dir %s",
                       ONNXC_SOURCE_DIR, m, cases[i].shape, ONNXC_SOURCE_DIR, m, dir);
    if (rc != 0) fail_msg("%s: exit %d: %s", m, rc, err_text);
    NpyArray got, want;
    Error err = {0};
    char ref[400];
    snprintf(ref, sizeof ref, "%s/tests/models/%s/output_0.npy", ONNXC_SOURCE_DIR, m);
    if (npy_read(y, &got, &err) != ST_OK) fail_msg("%s", err.msg);
    if (npy_read(ref, &want, &err) != ST_OK) fail_msg("%s", err.msg);
    assert_int_equal(got.dtype, DT_FLOAT32);
    assert_int_equal(want.dtype, DT_FLOAT32);
    assert_int_equal(got.nbytes, want.nbytes);
    assert_int_equal(got.rank, want.rank);
    const float *a = got.data, *e = want.data;
    for (size_t k = 0; k < got.nbytes / sizeof(float); k++)
      if (fabsf(a[k] - e[k]) > 1e-4f + 1e-3f * fabsf(e[k]))
        fail_msg("%s: y[%zu] = %g, PyTorch gives %g", m, k, a[k], e[k]);
    npy_free(&got);
    npy_free(&want);
    remove(y);
  }
  rmdir(dir);
}

static void verify_good_model(void **state) {
  (void)state;
  assert_int_equal(run_onnxc("verify %s", CONV_MODEL), 0);
  assert_non_null(strstr(out_text, "verify: ok"));
  assert_int_equal(run_onnxc("verify %s --each --seed 7 --rtol 1e-5 --atol 0", CONV_MODEL), 0);
  assert_non_null(strstr(out_text, "after dce"));
  assert_non_null(strstr(out_text, "after fold-constants"));
  assert_int_equal(run_onnxc("verify %s --input x=%s --input W=%s", CONV_MODEL, CONV_X, CONV_W), 0);
  assert_non_null(strstr(out_text, "2 from files"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(usage_errors_exit_2, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_flag_values_exit_2, setup, teardown),
      cmocka_unit_test_setup_teardown(help_per_command, setup, teardown),
      cmocka_unit_test_setup_teardown(help_version_passes, setup, teardown),
      cmocka_unit_test_setup_teardown(help_flags_are_documented, setup, teardown),
      cmocka_unit_test_setup_teardown(missing_file_exits_1_naming_it, setup, teardown),
      cmocka_unit_test_setup_teardown(dump_prints_the_op, setup, teardown),
      cmocka_unit_test_setup_teardown(pipeline_flags_print_to_stderr, setup, teardown),
      cmocka_unit_test_setup_teardown(run_writes_expected_npy, setup, teardown),
      cmocka_unit_test_setup_teardown(run_matches_pytorch_fixtures, setup, teardown),
      cmocka_unit_test_setup_teardown(verify_good_model, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
