/*
 * Target selection, optimization and emission through the LLVM C API.
 * The vector width the kernels get comes from the target machine (its CPU
 * and features), never from the machine onnxc runs on unless the user asks
 * for -mcpu=native (the default).
 */
#ifndef ONNXC_CODEGEN_TARGET_H
#define ONNXC_CODEGEN_TARGET_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "codegen.h"

typedef struct CgTarget {
  LLVMTargetMachineRef tm;
  char *triple;     /* LLVM-owned (LLVMDisposeMessage) */
  char *cpu;        /* LLVM-owned */
  char *features;   /* LLVM-owned */
  char arch[32];    /* "x86_64", "aarch64", ... */
  bool is_host;     /* triple equals the host's: layout self-check applies */
} CgTarget;

Status cg_target_create(const CgOptions *o, CgTarget *t, Error *err);
/* Embedded data above this makes x86-64 code use the medium code model
 * with large data sections: a .rodata over 2 GiB cannot be reached with
 * the default 32-bit PC-relative addresses (torchvision ViT-H/14: 2.5 GB),
 * and the program's own small sections must stay near each other. */
#define CG_LARGE_DATA_BYTES ((size_t)1 << 30)
/* cg_target_create for a module embedding data_bytes of weights. */
Status cg_target_create_sized(const CgOptions *o, size_t data_bytes, CgTarget *t, Error *err);
void cg_target_dispose(CgTarget *t);
/* Wall times of cg_target_emit's steps, in ms. */
typedef struct CgEmitTimes {
  double verify, optimize, codegen;
  double verify_mb, optimize_mb, codegen_mb; /* the process's peak RSS after each */
} CgEmitTimes;

/* Verifies, optimizes at o->opt_level, then writes o->output_path;
 * times may be NULL. */
Status cg_target_emit(CgTarget *t, LLVMModuleRef mod, const CgOptions *o, CgEmitTimes *times,
                      Error *err);
/* CLOCK_MONOTONIC in ms, for the stage times. */
double cg_now_ms(void);
/* The process's peak resident memory so far, in MB. */
double cg_peak_mb(void);

#endif
