/*
 * The reference kernels (the ops/ sources and the few ir/ helpers they call),
 * compiled to LLVM bitcode by clang at build time and embedded in onnxc.
 * cg_link_kernels parses that bitcode into the model's context and links it
 * into the module; afterwards every kernel is made internal so that two
 * models linked into one program never clash, and retargeted to the user's
 * CPU (clang stamped them with a generic target-cpu).
 */
#ifndef ONNXC_CODEGEN_KERNELS_H
#define ONNXC_CODEGEN_KERNELS_H

#include <llvm-c/Core.h>

#include "../ir/status.h"

/* arch: the triple's architecture ("x86_64", "aarch64"). */
Status cg_link_kernels(LLVMModuleRef mod, const char *arch, Error *err);
/* After linking and emitting: internal linkage for every definition except
 * the exported entry points, and the target's cpu/features on every
 * function definition. */
void cg_finalize_linkage(LLVMModuleRef mod, const char *const exported[], int num_exported,
                         const char *cpu, const char *features);

#endif
