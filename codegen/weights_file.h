/*
 * --weights=FILE.bin: the weights leave the object file for a separate file
 * that the caller loads and passes to <prefix>_run_with_weights.
 *
 * Codegen first builds the module exactly as for embedded weights; then
 * cg_externalize_weights moves every weight global (onnxc.weight.* and the
 * pre-packed onnxc.wblob.*) into the file at a 64-byte aligned offset and
 * rewrites each function that reads one to take the file's base address as
 * an extra trailing parameter, which its callers pass down from the entry
 * point.  Weights that a constant initializer points at (the descriptors of
 * reference-kernel nodes: small shape and axis tensors) stay in the .o.
 *
 * File layout (little-endian), 64-byte header then the payload:
 *   0  u64 magic "ONNXCW01"   8  u64 file size   16  u64 FNV-1a 64 hash of
 *   bytes [64, size)          24..63  zero
 * The entry point checks the header against the values compiled into the
 * .o on every call (cheap); <prefix>_weights_check also hashes the payload.
 */
#ifndef ONNXC_CODEGEN_WEIGHTS_FILE_H
#define ONNXC_CODEGEN_WEIGHTS_FILE_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../ir/status.h"

#define CG_WEIGHTS_MAGIC 0x31305743584e4e4fULL /* "ONNXCW01" read as a little-endian u64 */
#define CG_WEIGHTS_HEADER 64

typedef struct CgWeightsInfo {
  size_t file_size;        /* bytes written, header included */
  uint64_t hash;           /* FNV-1a 64 of the payload */
  int moved;               /* globals moved to the file */
  int kept;                /* weight globals left in the .o (used by constant data) */
  size_t kept_bytes;
} CgWeightsInfo;

/* Writes path and rewrites mod.  *body is the internal function holding the
 * model's code (parameters: inputs, outputs, workspace); on return it is the
 * function to call, with the weights base appended as a 4th parameter when
 * *body_takes_weights. */
Status cg_externalize_weights(LLVMModuleRef mod, const char *path, LLVMValueRef *body,
                              bool *body_takes_weights, CgWeightsInfo *info, Error *err);

/* Adds the public entry points <prefix>_run_with_weights(weights, inputs,
 * outputs, workspace), <prefix>_run_parallel_with_weights(..., par),
 * <prefix>_weights_check(weights, size) and, when the body takes the
 * profile's times (profile.h), <prefix>_run_profiled_with_weights(...,
 * par, times). */
void cg_emit_weights_entries(LLVMModuleRef mod, const char *prefix, LLVMValueRef body,
                             bool body_takes_weights, bool profile, const CgWeightsInfo *info);

#endif
