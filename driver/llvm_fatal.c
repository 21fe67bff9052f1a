/*
 * LLVM's last resort, report_fatal_error, prints "LLVM ERROR: ..." and
 * aborts (exit 134, maybe a core dump).  The target checks keep user input
 * away from every known path there, but should one remain, the handler
 * installed here makes it an onnxc error: one `onnxc:` line, the unfinished
 * outputs removed, exit status 1.  LLVM requires the handler not to return.
 */
#include <llvm-c/ErrorHandling.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

static void on_llvm_fatal_error(const char *reason) {
  fflush(stdout);
  if (!reason) reason = "no reason given";
  /* Instruction-selection failures append a DAG dump: keep the first line. */
  int len = (int)strcspn(reason, "\n");
  fprintf(stderr, "onnxc: internal error: LLVM gave up: %.*s (please report this with the "
          "command line)\n", len, reason);
  fflush(stderr);
  outputs_remove_unfinished();
  _exit(EXIT_FAIL);
}

void drv_install_llvm_fatal_handler(void) { LLVMInstallFatalErrorHandler(on_llvm_fatal_error); }
