/* Target machine, new-pass-manager pipeline, object/asm/IR output; see target.h. */
#include "target.h"

#include <errno.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "object_weights.h"
#include "../targets/llvm_subtarget.h"
#include "../targets/target_check.h"

static char *dup_llvm(const char *s) { return LLVMCreateMessage(s ? s : ""); }

Status cg_target_create(const CgOptions *o, CgTarget *t, Error *err) {
  return cg_target_create_sized(o, 0, t, err);
}

Status cg_target_create_sized(const CgOptions *o, size_t data_bytes, CgTarget *t, Error *err) {
  memset(t, 0, sizeof *t);
  /* Names LLVM does not know would make it warn on stderr and abort later. */
  TRY(tgt_check(o->triple, o->cpu, o->features, NULL, err));
  LLVMInitializeAllTargetInfos();
  LLVMInitializeAllTargets();
  LLVMInitializeAllTargetMCs();
  LLVMInitializeAllAsmPrinters();
  char *host = LLVMGetDefaultTargetTriple();
  char *norm = LLVMNormalizeTargetTriple(o->triple ? o->triple : host);
  t->triple = norm;
  t->is_host = strcmp(norm, host) == 0;
  LLVMDisposeMessage(host);
  bool native = !o->cpu || strcmp(o->cpu, "native") == 0;
  t->cpu = native ? LLVMGetHostCPUName() : dup_llvm(o->cpu);
  if (o->features) t->features = dup_llvm(o->features);
  else t->features = native ? LLVMGetHostCPUFeatures() : dup_llvm("");
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(t->triple, &target, &msg)) {
    err_set(err, ST_INVALID, "unknown target '%s': %s", t->triple, msg ? msg : "");
    LLVMDisposeMessage(msg);
    cg_target_dispose(t);
    return ST_INVALID;
  }
  size_t n = strcspn(t->triple, "-");
  if (n >= sizeof t->arch) n = sizeof t->arch - 1;
  memcpy(t->arch, t->triple, n);
  t->arch[n] = 0;
  LLVMCodeGenOptLevel lvl = o->opt_level <= 0   ? LLVMCodeGenLevelNone
                            : o->opt_level == 1 ? LLVMCodeGenLevelLess
                            : o->opt_level == 2 ? LLVMCodeGenLevelDefault
                                                : LLVMCodeGenLevelAggressive;
  /* PIC so the .o links into executables and shared libraries alike. */
  bool large = data_bytes > CG_LARGE_DATA_BYTES && strcmp(t->arch, "x86_64") == 0;
  t->tm = LLVMCreateTargetMachine(target, t->triple, t->cpu, t->features, lvl, LLVMRelocPIC,
                                  large ? LLVMCodeModelMedium : LLVMCodeModelDefault);
  /* Weights and packed panels (64 KiB and up) go to .lrodata; tables and
   * small constants stay near the code. */
  if (t->tm && large) tgt_llvm_set_large_data_threshold(t->tm, 65536);
  if (!t->tm) {
    cg_target_dispose(t);
    return err_set(err, ST_LLVM, "LLVM cannot create a target machine for '%s' cpu '%s'",
                   o->triple ? o->triple : "host", o->cpu ? o->cpu : "native");
  }
  return ST_OK;
}

void cg_target_dispose(CgTarget *t) {
  if (t->tm) LLVMDisposeTargetMachine(t->tm);
  if (t->triple) LLVMDisposeMessage(t->triple);
  if (t->cpu) LLVMDisposeMessage(t->cpu);
  if (t->features) LLVMDisposeMessage(t->features);
  memset(t, 0, sizeof *t);
}

/* LLVM reports some problems (an unsupported construct for the chosen
 * features, say) through the context's diagnostic handler, whose default
 * prints them raw and exits.  Keep the first error for our own message. */
typedef struct Diagnostics {
  char first_error[1024];
} Diagnostics;

static void keep_diagnostic(LLVMDiagnosticInfoRef info, void *ctx) {
  Diagnostics *d = ctx;
  if (LLVMGetDiagInfoSeverity(info) != LLVMDSError || d->first_error[0]) return;
  char *text = LLVMGetDiagInfoDescription(info);
  snprintf(d->first_error, sizeof d->first_error, "%s", text ? text : "unknown error");
  LLVMDisposeMessage(text);
}

static Status emit_checked(CgTarget *t, LLVMModuleRef mod, const CgOptions *o, CgEmitTimes *tm,
                           Error *err);

double cg_now_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* VmHWM, this process image's own high-water mark: ru_maxrss also counts
 * what the parent had resident when it forked us (a 2 GB Python bench
 * made every compile report 2 GB), since Linux carries it across exec. */
double cg_peak_mb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    fclose(f);
    if (kb >= 0) return (double)kb / 1024.0;
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

Status cg_target_emit(CgTarget *t, LLVMModuleRef mod, const CgOptions *o, CgEmitTimes *times,
                      Error *err) {
  CgEmitTimes ignored;
  Diagnostics d = {{0}};
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMDiagnosticHandler old = LLVMContextGetDiagnosticHandler(ctx);
  void *old_ctx = LLVMContextGetDiagnosticContext(ctx);
  LLVMContextSetDiagnosticHandler(ctx, keep_diagnostic, &d);
  Status st = emit_checked(t, mod, o, times ? times : &ignored, err);
  LLVMContextSetDiagnosticHandler(ctx, old, old_ctx);
  if (st == ST_OK && d.first_error[0])
    return err_set(err, ST_LLVM, "LLVM cannot compile for %s (cpu %s, features '%s'): %s",
                   t->triple, t->cpu, t->features, d.first_error);
  return st;
}

/* Weights from this size up bypass LLVM's object writer (object_weights.h):
 * small ones are not worth a symbol each. */
#define DEFER_MIN_BYTES 4096

/* The object can be patched after it is written: a regular file, or none
 * yet (not a pipe or a device the user named as the output). */
static bool writable_in_place(const char *path) {
  struct stat st;
  return path && (stat(path, &st) != 0 ? errno == ENOENT : S_ISREG(st.st_mode));
}

static Status emit_checked(CgTarget *t, LLVMModuleRef mod, const CgOptions *o, CgEmitTimes *tm,
                           Error *err) {
  *tm = (CgEmitTimes){0};
  char *msg = NULL;
  double t0 = cg_now_ms();
  bool bad = LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg);
  tm->verify = cg_now_ms() - t0;
  tm->verify_mb = cg_peak_mb();
  if (bad) {
    err_set(err, ST_INTERNAL, "generated LLVM module does not verify: %.1500s", msg ? msg : "");
    LLVMDisposeMessage(msg);
    return ST_INTERNAL;
  }
  LLVMDisposeMessage(msg);
  char pipeline[96];
  snprintf(pipeline, sizeof pipeline, "constmerge,mergefunc,default<O%d>%s%s",
           o->opt_level < 0 ? 0 : o->opt_level > 3 ? 3 : o->opt_level,
           o->sanitize_address ? ",asan" : "",
           o->sanitize_thread ? ",tsan-module,function(tsan)" : "");
  const char *sanitize_attr = o->sanitize_address ? "sanitize_address"
                              : o->sanitize_thread ? "sanitize_thread" : NULL;
  if (sanitize_attr) {
    unsigned kind = LLVMGetEnumAttributeKindForName(sanitize_attr, strlen(sanitize_attr));
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn))
      if (!LLVMIsDeclaration(fn))
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(ctx, kind, 0));
  }
  LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(pbo, o->opt_level >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(pbo, o->opt_level >= 2);
  t0 = cg_now_ms();
  LLVMErrorRef e = LLVMRunPasses(mod, pipeline, t->tm, pbo);
  tm->optimize = cg_now_ms() - t0;
  tm->optimize_mb = cg_peak_mb();
  LLVMDisposePassBuilderOptions(pbo);
  if (e) {
    char *m = LLVMGetErrorMessage(e);
    err_set(err, ST_LLVM, "LLVM optimization failed: %s", m);
    LLVMDisposeErrorMessage(m);
    return ST_LLVM;
  }
  if (o->emit == CG_EMIT_LLVM) {
    if (LLVMPrintModuleToFile(mod, o->output_path, &msg)) {
      err_set(err, ST_IO, "%s: %s", o->output_path, msg ? msg : "cannot write");
      LLVMDisposeMessage(msg);
      return ST_IO;
    }
    return ST_OK;
  }
  LLVMCodeGenFileType ft = o->emit == CG_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile;
  t0 = cg_now_ms();
  CgDeferredWeights deferred = {0};
  Status st = ST_OK;
  if (ft == LLVMObjectFile && writable_in_place(o->output_path) && cg_object_is_elf64le(t->triple))
    st = cg_defer_weight_data(mod, DEFER_MIN_BYTES, &deferred, err);
  if (st == ST_OK && LLVMTargetMachineEmitToFile(t->tm, mod, o->output_path, ft, &msg)) {
    st = err_set(err, ST_IO, "%s: %s", o->output_path, msg ? msg : "cannot emit");
    LLVMDisposeMessage(msg);
  }
  if (st == ST_OK) st = cg_write_deferred_weights(o->output_path, &deferred, err);
  cg_deferred_weights_free(&deferred);
  tm->codegen = cg_now_ms() - t0;
  tm->codegen_mb = cg_peak_mb();
  return st;
}
