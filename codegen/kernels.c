/* Links the embedded kernel bitcode into a model module; see kernels.h. */
#include "kernels.h"

#include <llvm-c/BitReader.h>
#include <llvm-c/Linker.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Defined in kernels_blob.c (bytes of build/kernels-<arch>.bc and their
 * sizes; the aarch64 blob is empty when the build found no aarch64 libc
 * headers). */
extern const unsigned char cg_kernels_x86_64_bc[];
extern const uint64_t cg_kernels_x86_64_bc_size;
extern const unsigned char cg_kernels_aarch64_bc[];
extern const uint64_t cg_kernels_aarch64_bc_size;

Status cg_link_kernels(LLVMModuleRef mod, const char *arch, Error *err) {
  const unsigned char *begin = NULL;
  uint64_t size = 0;
  if (strcmp(arch, "x86_64") == 0) {
    begin = cg_kernels_x86_64_bc;
    size = cg_kernels_x86_64_bc_size;
  } else if (strcmp(arch, "aarch64") == 0 || strcmp(arch, "arm64") == 0) {
    begin = cg_kernels_aarch64_bc;
    size = cg_kernels_aarch64_bc_size;
    if (size == 0)
      return err_set(err, ST_UNSUPPORTED,
                     "target architecture '%s' is not supported by this build (kernels are built "
                     "for x86_64 only: install libc6-dev-arm64-cross and re-run cmake)",
                     arch);
  } else {
    return err_set(err, ST_UNSUPPORTED,
                   "target architecture '%s' is not supported yet (kernels are built for x86_64 "
                   "and aarch64)",
                   arch);
  }
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(
      (const char *)begin, (size_t)size, "kernels.bc", 0);
  if (!buf) return err_set(err, ST_LLVM, "cannot wrap the kernel bitcode");
  LLVMModuleRef kernels = NULL;
  if (LLVMParseBitcodeInContext2(LLVMGetModuleContext(mod), buf, &kernels)) {
    LLVMDisposeMemoryBuffer(buf);
    return err_set(err, ST_LLVM, "the embedded kernel bitcode does not parse");
  }
  LLVMDisposeMemoryBuffer(buf);
  /* The model module's triple and data layout win. */
  LLVMSetTarget(kernels, LLVMGetTarget(mod));
  LLVMSetDataLayout(kernels, LLVMGetDataLayoutStr(mod));
  if (LLVMLinkModules2(mod, kernels)) /* consumes `kernels` */
    return err_set(err, ST_LLVM, "linking the kernel bitcode failed");
  return ST_OK;
}

static void set_fn_attr(LLVMValueRef fn, const char *key, const char *value) {
  LLVMContextRef ctx = LLVMGetTypeContext(LLVMTypeOf(fn));
  LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, key, (unsigned)strlen(key));
  if (value && *value) {
    LLVMAttributeRef a = LLVMCreateStringAttribute(ctx, key, (unsigned)strlen(key), value,
                                                   (unsigned)strlen(value));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
  }
}

static bool is_exported(const char *name, const char *const exported[], int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(name, exported[i]) == 0) return true;
  return false;
}

void cg_finalize_linkage(LLVMModuleRef mod, const char *const exported[], int num_exported,
                         const char *cpu, const char *features) {
  for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn)) {
    if (LLVMIsDeclaration(fn)) continue;
    size_t len;
    if (!is_exported(LLVMGetValueName2(fn, &len), exported, num_exported)) {
      LLVMSetLinkage(fn, LLVMInternalLinkage);
      /* Nothing compares the addresses of internal functions (the task
       * trampolines only go to the hook), so mergefunc may replace one
       * by an equal one instead of keeping a thunk. */
      LLVMSetUnnamedAddress(fn, LLVMGlobalUnnamedAddr);
    }
    set_fn_attr(fn, "target-cpu", cpu);
    set_fn_attr(fn, "target-features", features);
    set_fn_attr(fn, "tune-cpu", NULL);
  }
  for (LLVMValueRef gv = LLVMGetFirstGlobal(mod); gv; gv = LLVMGetNextGlobal(gv)) {
    if (LLVMIsDeclaration(gv)) continue;
    if (LLVMGetLinkage(gv) != LLVMPrivateLinkage) LLVMSetLinkage(gv, LLVMInternalLinkage);
  }
}
