/*
 * The targets onnxc compiles for, and the check of a user's --target,
 * -mcpu and -mattr against them before any LLVM target machine exists.
 *
 * LLVM warns on stderr about an unknown CPU or feature, carries on with
 * defaults, and may then abort ("64-bit code requested on a subtarget that
 * doesn't support it").  So every name is checked here against the
 * backend's own tables (llvm_subtarget.h) and refused with one message
 * naming the nearest valid names; LLVM only ever sees valid choices.
 * Supported: ELF objects for Linux on x86_64, and on aarch64 when the build
 * has the aarch64 kernel bitcode (ONNXC_HAVE_AARCH64_KERNELS).
 */
#ifndef ONNXC_TARGETS_TARGET_CHECK_H
#define ONNXC_TARGETS_TARGET_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../ir/status.h"

typedef struct TargetChoice {
  char triple[128]; /* normalized, e.g. "aarch64-unknown-linux-gnu" */
  char arch[16];    /* "x86_64" or "aarch64" */
  bool native_cpu;  /* the CPU (and, without features, its features) are the host's */
} TargetChoice;

/* triple NULL: the host's.  cpu NULL or "native": the host's CPU, which
 * only makes sense for the host's architecture.  features NULL: the CPU's
 * own.  ST_INVALID with a message naming the flag (--target, -mcpu,
 * -mattr), the bad value and the nearest valid names.  out may be NULL. */
Status tgt_check(const char *triple, const char *cpu, const char *features, TargetChoice *out,
                 Error *err);

/* One line per target this build supports ("x86_64-unknown-linux-gnu (ELF)"),
 * each prefixed with `indent`. */
void tgt_print_supported(FILE *f, const char *indent);

#endif
