/*
 * What LLVM itself knows about a target triple: its architecture, OS and
 * object format, and the CPU and feature names of its backend.  The LLVM C
 * API cannot list CPUs or features, nor check them without printing raw
 * warnings ("'bogus' is not a recognized processor") and later aborting, so
 * this one small file (llvm_subtarget.cpp) is C++ behind a C interface.
 * target_check.c builds onnxc's checks and messages on top of it.
 */
#ifndef ONNXC_TARGETS_LLVM_SUBTARGET_H
#define ONNXC_TARGETS_LLVM_SUBTARGET_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct TgtTripleFacts {
  bool has_backend;      /* this LLVM build has a backend for the triple */
  bool is_x86_64, is_aarch64;
  bool is_linux;
  bool is_elf;
  bool ilp32;            /* x32 / aarch64 ILP32: 32-bit pointers on a 64-bit arch */
  char normalized[128];  /* "x86_64-unknown-linux-gnu" */
  char arch[32];         /* LLVM's architecture name: "x86_64", "aarch64", "riscv64" */
  char object_format[16];/* "ELF", "MachO", "COFF", ... */
} TgtTripleFacts;

/* x86-64 medium code model: globals over `bytes` go to the large data
 * sections (.lrodata), reached with 64-bit addresses, so more than 2 GiB of
 * embedded weights still link (the C API cannot set the threshold).
 * tm is an LLVMTargetMachineRef. */
void tgt_llvm_set_large_data_threshold(void *tm, unsigned long long bytes);
/* Registers every target LLVM was built with (idempotent). */
void tgt_llvm_init(void);
void tgt_llvm_triple_facts(const char *triple, TgtTripleFacts *out);
/* CPU / feature names of the triple's backend, in LLVM's (sorted) order.
 * The strings are LLVM's static tables.  Returns how many there are, which
 * may exceed max (only max are stored); 0 when the triple has no backend. */
int tgt_llvm_cpu_names(const char *triple, const char **names, int max);
int tgt_llvm_feature_names(const char *triple, const char **names, int max);
/* True when cpu with features (both already valid names) enables or
 * disables everything `required` lists ("+64bit,+sse2"). */
bool tgt_llvm_has_features(const char *triple, const char *cpu, const char *features,
                           const char *required);

#ifdef __cplusplus
}
#endif

#endif
