/*
 * The files onnxc writes never destroy a user's file (driver/outputs.h):
 * an output that is the model (however spelled: ./, ../, a symlink, a hard
 * link), its external data, an --input file or another output of the same
 * command is a usage error and nothing is written; a command that fails
 * half way leaves existing files as they were and no temporary folder
 * behind; symlinks and devices as outputs behave.
 */
#include "test_cli_util.h"

#include <sys/stat.h>

#include "runtime/npy.h"
#include "test_frontend_util.h"

static char dir[512]; /* fresh folder per test, under the build's test folder */

static int setup_dir(void **state) {
  setup(state);
  char here[4096];
  if (!getcwd(here, sizeof here)) return -1;
  snprintf(dir, sizeof dir, "%s/%s.d", here, work_dir);
  sh("rm -rf '%s'", dir);
  return mkdir(dir, 0777);
}

static int teardown_dir(void **state) {
  sh("rm -rf '%s'", dir);
  return teardown(state);
}

/* No .onnxc-XXXXXX folder is left in dir. */
static void assert_no_leftovers(const char *where) {
  if (sh("ls -a '%s' | grep -q '^\\.onnxc-'", where) == 0)
    fail_msg("a temporary .onnxc-* folder was left in %s", where);
}

static void assert_same_bytes(const char *a, const char *b) {
  if (sh("cmp -s '%s' '%s'", a, b) != 0) fail_msg("%s was changed", a);
}

static void model_is_never_overwritten(void **state) {
  (void)state;
  assert_int_equal(sh("cp '%s' '%s/c.onnx' && cp '%s' '%s/keep.onnx' && mkdir '%s/sub' && "
                      "ln -s c.onnx '%s/link.onnx' && ln '%s/c.onnx' '%s/hard.onnx'",
                      CNN_MODEL, dir, CNN_MODEL, dir, dir, dir, dir, dir),
                   0);
  static const char *const cases[] = {
      "compile c.onnx -o c.onnx",
      "compile c.onnx --header c.onnx",
      "compile c.onnx --weights=c.onnx",
      "compile c.onnx -o ./c.onnx",
      "compile c.onnx -o sub/../c.onnx",
      "compile ./c.onnx -o link.onnx",
      "compile link.onnx -o c.onnx",
      "compile c.onnx -o hard.onnx",
      "compile c.onnx -o x.o --header x.o",
      "compile c.onnx -o x.o --weights=x.o",
      "compile c.onnx --header h.h --weights=./h.h",
      "compile c.onnx -o x.o --header sub/../x.o",
      "dump c.onnx -o c.onnx",
      "dump c.onnx -o link.onnx",
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = run_onnxc_in(dir, "%s", cases[i]);
    if (rc != 2) fail_msg("'onnxc %s': exit %d (%s)", cases[i], rc, err_text);
    expect_error("refusing to write");
    char model[600], keep[600];
    snprintf(model, sizeof model, "%s/c.onnx", dir);
    snprintf(keep, sizeof keep, "%s/keep.onnx", dir);
    assert_same_bytes(model, keep);
    if (sh("test -e '%s/x.o' || test -e '%s/h.h' || test -e '%s/c.h'", dir, dir, dir) == 0)
      fail_msg("'onnxc %s' wrote an output although it refused", cases[i]);
    assert_no_leftovers(dir);
  }
}

/* `run --output-dir` never overwrites the model or an --input file. */
static void run_outputs_spare_inputs(void **state) {
  (void)state;
  /* The conv model's output is "y": DIR/y.npy. */
  assert_int_equal(sh("cp '%s' '%s/y.npy' && cp '%s' '%s/keep'", CONV_MODEL, dir, CONV_MODEL, dir), 0);
  assert_int_equal(run_onnxc_in(dir, "run y.npy --input x=%s --input W=%s --output-dir .", CONV_X,
                                CONV_W), 2);
  expect_error("refusing to write an output (--output-dir) to './y.npy': that is the model");
  char a[600], b[600];
  snprintf(a, sizeof a, "%s/y.npy", dir);
  snprintf(b, sizeof b, "%s/keep", dir);
  assert_same_bytes(a, b);

  assert_int_equal(sh("cp '%s' '%s/y.npy' && cp '%s' '%s/keep'", CONV_W, dir, CONV_W, dir), 0);
  assert_int_equal(run_onnxc("run %s --input x=%s --input W=%s/y.npy --output-dir %s", CONV_MODEL,
                             CONV_X, dir, dir), 2);
  expect_error("that is an --input file");
  assert_same_bytes(a, b);
  assert_no_leftovers(dir);
}

/* A model whose weight lives in external data: that file is guarded too. */
static void external_data_is_never_overwritten(void **state) {
  (void)state;
  float w[4] = {1, 2, 3, 4};
  char path[700];
  snprintf(path, sizeof path, "%s/w.bin", dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(w, sizeof w, 1, f), 1);
  fclose(f);
  Onnx__ModelProto *m = mb_model(8, 17);
  const int64_t d4[] = {4};
  mb_input(m, mb_vi("x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d4, NULL));
  Onnx__TensorProto *t = mb_tensor("w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d4);
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  Onnx__StringStringEntryProto *loc = tb_alloc(sizeof *loc);
  onnx__string_string_entry_proto__init(loc);
  loc->key = tb_str("location");
  loc->value = tb_str("w.bin");
  TB_PUSH(t->external_data, t->n_external_data, loc);
  mb_init(m, t);
  mb_node(m, "Add", "add", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  char *model = mb_write(m, dir);
  assert_int_equal(run_onnxc("dump %s", model), 0); /* loads */
  static const char *const cases[] = {"-o w.bin --header e.h", "-o e.o --header ./w.bin",
                                      "-o e.o --weights=sub/../w.bin"};
  assert_int_equal(sh("mkdir '%s/sub'", dir), 0);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = run_onnxc_in(dir, "compile %s %s", model, cases[i]);
    if (rc != 2) fail_msg("'%s': exit %d (%s)", cases[i], rc, err_text);
    expect_error("that is external data of the model");
  }
  f = fopen(path, "rb");
  float back[4];
  assert_int_equal(fread(back, sizeof back, 1, f), 1);
  fclose(f);
  assert_memory_equal(back, w, sizeof w);
  assert_no_leftovers(dir);
  tb_free_all();
}

/* A run whose second output cannot be written (bfloat16 has no .npy
 * dtype) fails without touching the existing first output file. */
static void failure_keeps_existing_files(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 17);
  const int64_t d2[] = {2};
  mb_input(m, mb_vi("x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d2, NULL));
  mb_node(m, "Relu", "relu", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  Onnx__NodeProto *c = mb_node(m, "Cast", "cast", 1, (const char *[]){"x"}, 1, (const char *[]){"z"});
  mb_attr_int(c, "to", ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16);
  mb_output(m, "y");
  mb_output(m, "z");
  char *model = mb_write(m, dir);
  char x[700];
  snprintf(x, sizeof x, "%s/x.npy", dir);
  Error err = {0};
  float xv[2] = {-1, 2};
  assert_int_equal(npy_write(x, DT_FLOAT32, 1, d2, xv, &err), ST_OK);
  assert_int_equal(sh("mkdir '%s/out' && echo precious > '%s/out/y.npy' && cp '%s/out/y.npy' "
                      "'%s/keep'", dir, dir, dir, dir), 0);
  assert_int_equal(run_onnxc("run %s --input x=%s --output-dir %s/out", model, x, dir), 1);
  expect_error("output 'z'");
  char a[700], b[700], out[700];
  snprintf(a, sizeof a, "%s/out/y.npy", dir);
  snprintf(b, sizeof b, "%s/keep", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  assert_same_bytes(a, b);
  assert_no_leftovers(out);
  tb_free_all();
}

/* SIGTERM in the middle of a compile: the existing object file is intact
 * or complete, never half-written, and no temporary folder stays. */
static void interrupted_compile_leaves_no_partial_file(void **state) {
  (void)state;
  assert_int_equal(sh("echo precious > '%s/v.o' && cp '%s/v.o' '%s/keep'", dir, dir, dir), 0);
  int rc = sh("cd '%s' && ('%s' compile '%s/tests/models/vit_tiny_op17/model.onnx' -o v.o "
              "2>/dev/null & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid)", dir, ONNXC_BINARY,
              ONNXC_SOURCE_DIR);
  char vo[700], keep[700];
  snprintf(vo, sizeof vo, "%s/v.o", dir);
  snprintf(keep, sizeof keep, "%s/keep", dir);
  if (rc == 0) {
    assert_int_equal(sh("head -c 4 '%s' | grep -q ELF", vo), 0); /* finished first: complete */
  } else {
    assert_int_equal(rc, 128 + 15);
    assert_same_bytes(vo, keep);
  }
  assert_no_leftovers(dir);
}

/* An output that is a symlink replaces the link's target (the link stays);
 * /dev/null works as every output at once. */
static void symlinks_and_devices(void **state) {
  (void)state;
  assert_int_equal(sh("cd '%s' && echo old > real.o && ln -s real.o link.o", dir), 0);
  assert_int_equal(sh("cd '%s' && '%s' compile '%s' -o link.o --header h.h 2>/dev/null", dir,
                      ONNXC_BINARY, CONV_MODEL), 0);
  assert_int_equal(sh("cd '%s' && test -L link.o && head -c 4 real.o | grep -q ELF", dir), 0);
  assert_int_equal(run_onnxc("compile %s -o /dev/null --header /dev/null", CONV_MODEL), 0);
  assert_int_equal(sh("test -c /dev/null"), 0);
  assert_int_equal(run_onnxc("dump %s -o /dev/stdout", CONV_MODEL), 0);
  assert_non_null(strstr(out_text, "Conv"));
  assert_no_leftovers(dir);
}

/* Outputs that cannot be placed are usage errors, before any work. */
static void unplaceable_outputs(void **state) {
  (void)state;
  assert_int_equal(run_onnxc("compile %s -o %s", CONV_MODEL, dir), 2);
  expect_error("is a folder");
  assert_int_equal(run_onnxc("compile %s -o %s/no/such/x.o", CONV_MODEL, dir), 2);
  expect_error("does not exist");
  assert_int_equal(run_onnxc("dump %s -o %s/", CONV_MODEL, dir), 2);
  expect_error("names a folder");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(model_is_never_overwritten, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(run_outputs_spare_inputs, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(external_data_is_never_overwritten, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(failure_keeps_existing_files, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(interrupted_compile_leaves_no_partial_file, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(symlinks_and_devices, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(unplaceable_outputs, setup_dir, teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
