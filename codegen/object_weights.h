/*
 * Embedded weights written into the object file by onnxc, not by LLVM.
 *
 * LLVM's object writer copies every byte of a constant's initializer into
 * its own fragment buffers before writing, so with embedded weights the
 * compiler held the weights twice at its peak (the module's constants and
 * the writer's copy): ViT-L/16 peaked at 2.1 x its weights.  Instead, just
 * before code generation each large weight global gets an all-zero
 * initializer (which the writer emits as a fill, with no buffer) and is
 * marked externally_initialized, so that no code generation step may fold
 * a load of it; after the object is written, its bytes are written over the
 * zeros at the place the object's symbol table gives for the global.  The
 * sections hold byte for byte what LLVM would have written with the data;
 * the symbol table has one more local symbol per such weight.
 *
 * Only for ELF64 little-endian objects (x86-64 and AArch64 Linux); other
 * formats and assembly output keep LLVM's way.
 */
#ifndef ONNXC_CODEGEN_OBJECT_WEIGHTS_H
#define ONNXC_CODEGEN_OBJECT_WEIGHTS_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stddef.h>

#include "../ir/status.h"

typedef struct CgDeferredGlobal {
  char *name;         /* the global's (and the object symbol's) name */
  const char *bytes;  /* its former initializer's data, owned by the LLVM context */
  size_t len;
} CgDeferredGlobal;

typedef struct CgDeferredWeights {
  CgDeferredGlobal *items; /* sorted by name */
  int count;
  size_t bytes;
} CgDeferredWeights;

/* Whether objects for this triple are ELF64 little-endian. */
bool cg_object_is_elf64le(const char *triple);

/* Zeroes the initializers of mod's weight globals of at least min_bytes
 * and records their data; the globals become internal (a local symbol in
 * the object) and externally initialized.  Call after optimization, right
 * before the object is written. */
Status cg_defer_weight_data(LLVMModuleRef mod, size_t min_bytes, CgDeferredWeights *out,
                            Error *err);

/* Writes each deferred global's bytes into the ELF object at path. */
Status cg_write_deferred_weights(const char *path, const CgDeferredWeights *w, Error *err);

void cg_deferred_weights_free(CgDeferredWeights *w);

#endif
