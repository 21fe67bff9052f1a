/*
 * --target, -mcpu and -mattr are checked against LLVM's own tables before
 * any target machine exists (targets/target_check.h): a bad name is one
 * `onnxc:` usage error with the nearest valid names, never a raw LLVM
 * warning or an LLVM abort; only ELF for Linux on x86_64/aarch64 is
 * accepted, and what is accepted really produces such an object.
 */
#include "test_cli_util.h"

static void bad_cpus_and_features_are_usage_errors(void **state) {
  (void)state;
  static const struct {
    const char *args, *want;
  } cases[] = {
      {"-mcpu=bogus", "-mcpu=bogus: LLVM knows no x86_64 CPU of that name; nearest: "},
      {"-mcpu=skylake-avx51", "nearest: skylake-avx512"},
      {"-mcpu=help", "LLVM knows no x86_64 CPU"},
      {"-mcpu=i386", "-mcpu=i386: without 64bit it cannot run onnxc's x86_64 kernels"},
      {"-mcpu=x86-64 -mattr=-sse2", "without sse2"},
      {"-mcpu=x86-64 -mattr=+bogus", "LLVM knows no x86_64 feature 'bogus'"},
      {"-mcpu=x86-64 -mattr=+avx2,,+fma", "each feature is +NAME or -NAME"},
      {"-mcpu=x86-64 -mattr=avx2", "each feature is +NAME or -NAME"},
      {"-mcpu=x86-64 -mattr=+help", "LLVM knows no x86_64 feature 'help'"},
      {"-mcpu=x86-64 -mattr=+soft-float", "+soft-float is not a feature onnxc can compile with"},
      {"-mcpu=x86-64 -mattr=-64bit-mode", "-64bit-mode is not a feature onnxc"},
      {"-mcpu=x86-64 -mattr=+avx512f,-evex512", "AVX-512 without evex512"},
      {"--target aarch64-linux-gnu -mcpu=x86-64-v3",
       "'x86-64-v3' is a CPU of x86_64, not of aarch64"},
      {"--target aarch64-linux-gnu -mcpu=neoverse-n9", "nearest: neoverse-n1"},
      {"--target aarch64-linux-gnu -mcpu=generic -mattr=-neon", "without neon"},
      {"--target aarch64-linux-gnu", "--target aarch64-linux-gnu needs -mcpu=CPU"},
      {"--target aarch64-linux-gnu -mcpu=native", "needs -mcpu=CPU"},
      {"--target x86_64-apple-darwin -mcpu=x86-64", "not Linux (Mach-O objects)"},
      {"--target x86_64-pc-windows-msvc -mcpu=x86-64", "not Linux (COFF objects)"},
      {"--target riscv64-linux-gnu -mcpu=generic", "no kernels for the riscv64 architecture"},
      {"--target i686-linux-gnu -mcpu=generic", "no kernels for the i686 architecture"},
      {"--target x86_64-linux-gnux32 -mcpu=x86-64", "32-bit pointers (ILP32)"},
      {"--target garbage", "--target 'garbage': LLVM knows no such target triple; onnxc compiles "
                           "for x86_64-unknown-linux-gnu"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = run_onnxc("compile %s -o %s.o %s", CONV_MODEL, work_dir, cases[i].args);
    if (rc != 2) fail_msg("'%s': exit %d, stderr '%s'", cases[i].args, rc, err_text);
    expect_error(cases[i].want);
    char o[300];
    snprintf(o, sizeof o, "%s.o", work_dir);
    if (access(o, F_OK) == 0) fail_msg("'%s' wrote %s", cases[i].args, o);
  }
}

/* Reads the ELF header of path: class 64, little endian, e_machine. */
static int elf_machine(const char *path) {
  unsigned char h[20] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t n = fread(h, 1, sizeof h, f);
  fclose(f);
  if (n != sizeof h || memcmp(h, "\x7f" "ELF", 4) != 0 || h[4] != 2 || h[5] != 1) return -1;
  return h[18] | h[19] << 8;
}

/* What is accepted compiles to the object format it promises. */
static void accepted_targets_make_elf(void **state) {
  (void)state;
  static const struct {
    const char *args;
    int machine;
  } cases[] = {
      {"", 62},                                              /* host: EM_X86_64 */
      {"--target x86_64-linux-gnu", 62},                     /* another spelling, native CPU */
      {"--target x86_64-unknown-linux-gnu -mcpu=x86-64-v2 -mattr=+avx2,-avx512f", 62},
      {"--target aarch64-linux-gnu -mcpu=neoverse-n1", 183}, /* EM_AARCH64 */
      {"--target arm64-linux-gnu -mcpu=generic -mattr=+sve", 183},
  };
  char o[300];
  snprintf(o, sizeof o, "%s.o", work_dir);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = run_onnxc("compile %s -o %s --header %s.h -O1 %s", CONV_MODEL, o, work_dir,
                       cases[i].args);
    if (rc != 0) fail_msg("'%s': exit %d: %s", cases[i].args, rc, err_text);
    assert_string_equal(err_text, "");
    if (elf_machine(o) != cases[i].machine)
      fail_msg("'%s': e_machine %d, expected %d", cases[i].args, elf_machine(o), cases[i].machine);
  }
  remove(o);
  snprintf(o, sizeof o, "%s.h", work_dir);
  remove(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(bad_cpus_and_features_are_usage_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(accepted_targets_make_elf, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
