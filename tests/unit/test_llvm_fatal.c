/*
 * The safety net behind the target checks (driver/llvm_fatal.c): an LLVM
 * fatal error becomes one `onnxc:` line and exit status 1, and removes the
 * unfinished outputs.  The fatal error is provoked on purpose by creating
 * an x86_64 target machine for a CPU LLVM does not know, which the driver
 * itself never does (tgt_check refuses the name first).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/driver.h"

static void provoke_llvm_fatal_error(void) {
  LLVMInitializeAllTargetInfos();
  LLVMInitializeAllTargets();
  LLVMInitializeAllTargetMCs();
  LLVMInitializeAllAsmPrinters();
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple("x86_64-unknown-linux-gnu", &target, &msg)) _exit(90);
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, "x86_64-unknown-linux-gnu", "bogus",
                                                    "", LLVMCodeGenLevelDefault, LLVMRelocPIC,
                                                    LLVMCodeModelDefault);
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("m", ctx);
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(ctx), NULL, 0, 0);
  LLVMValueRef fn = LLVMAddFunction(mod, "f", fty);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
  LLVMBuildRetVoid(b);
  LLVMSetTarget(mod, "x86_64-unknown-linux-gnu");
  LLVMMemoryBufferRef out;
  LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &out);
  _exit(91); /* not reached: the emission is fatal */
}

static void fatal_error_is_an_onnxc_error(void **state) {
  (void)state;
  char dir[] = "/tmp/onnxc-fatal-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char out[256], errfile[256];
  snprintf(out, sizeof out, "%s/x.o", dir);
  snprintf(errfile, sizeof errfile, "%s/stderr", dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (!freopen(errfile, "w", stderr)) _exit(92);
    drv_install_llvm_fatal_handler();
    Outputs outs;
    outputs_init(&outs);
    Error err;
    const char *tmp;
    if (outputs_add(&outs, out, "the object file (-o)", &tmp, &err) != ST_OK) _exit(93);
    FILE *f = fopen(tmp, "w");
    if (!f) _exit(94);
    fputs("half written", f);
    fclose(f);
    provoke_llvm_fatal_error();
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), EXIT_FAIL);
  char text[4096] = "";
  FILE *f = fopen(errfile, "r");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  const char *line = strstr(text, "onnxc: internal error: LLVM gave up: ");
  if (!line) fail_msg("no onnxc error line in: %s", text);
  assert_null(strstr(text, "LLVM ERROR"));
  char cmd[512];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v '^stderr$')\"", dir);
  if (system(cmd) != 0) fail_msg("the unfinished output was left in %s", dir);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fatal_error_is_an_onnxc_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
