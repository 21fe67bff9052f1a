/*
 * codegen/conv/conv_epilogue.c: the FusedConv epilogue at the output stores of
 * the conv emitters (see conv_epilogue.h).  The residual offset is the
 * pointer difference from the kernel's Y parameter; the stores are built
 * from Y by inbounds GEPs, so instcombine folds the difference back into
 * the index arithmetic.
 */
#include "conv_epilogue.h"

#include "../vec/epilogue.h"
#include "../vec/vec_loops.h"

static bool has_residual(const CvConv *cv) { return cv->epi && cv->epi->r; }

int cv_epi_nptr(const CvConv *cv) { return has_residual(cv) ? 3 : 2; }

int cv_epi_args(const CvConv *cv, LLVMValueRef x, LLVMValueRef y, LLVMValueRef args[3]) {
  args[0] = x;
  args[1] = y;
  if (!has_residual(cv)) return 2;
  args[2] = cv->epi->r;
  return 3;
}

LLVMValueRef cv_epi_residual_ptr(CvB *cb, LLVMValueRef p) {
  LLVMValueRef off = LLVMBuildPtrDiff2(cb->b, cb->f32, p, LLVMGetParam(cb->fn, 1), "");
  return cv_gep(cb, LLVMGetParam(cb->fn, 2), off);
}

void cv_epi_store_vec(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p, int lanes) {
  if (cv->epi) {
    LLVMValueRef r = NULL;
    if (has_residual(cv))
      r = cg_epilogue_load_residual(cb->c, cb->b, cb->vf, cv_epi_residual_ptr(cb, p),
                                    cv_i64(cb, 0), lanes);
    v = cg_epilogue_finish(cb->c, cb->b, cv->epi->node, v, r);
  }
  if (lanes < cb->vf) cv_store_masked(cb, v, p, lanes);
  else cv_store(cb, v, p);
}

void cv_epi_store_lanes(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef const ptrs[], int n) {
  if (cv->epi) {
    LLVMValueRef r = NULL;
    if (has_residual(cv)) {
      r = LLVMConstNull(cb->vty);
      for (int l = 0; l < n; l++)
        r = LLVMBuildInsertElement(cb->b, r, cv_load(cb, cv_epi_residual_ptr(cb, ptrs[l])),
                                   LLVMConstInt(cb->i32, (unsigned)l, 0), "");
    }
    v = cg_epilogue_finish(cb->c, cb->b, cv->epi->node, v, r);
  }
  for (int l = 0; l < n; l++)
    cv_store(cb, LLVMBuildExtractElement(cb->b, v, LLVMConstInt(cb->i32, (unsigned)l, 0), ""),
             ptrs[l]);
}

void cv_epi_store_scalar(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p) {
  if (cv->epi) {
    LLVMValueRef r = has_residual(cv) ? cv_load(cb, cv_epi_residual_ptr(cb, p)) : NULL;
    v = cg_epilogue_finish(cb->c, cb->b, cv->epi->node, v, r);
  }
  cv_store(cb, v, p);
}

LLVMValueRef cv_epi_strided(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p,
                            int64_t stride, int lanes) {
  if (!cv->epi) return v;
  LLVMValueRef r = NULL;
  if (has_residual(cv)) {
    /* One scalar load per valid lane: the lanes live in different planes. */
    LLVMValueRef rp = cv_epi_residual_ptr(cb, p);
    r = LLVMConstNull(cb->vty);
    for (int l = 0; l < lanes && l < cb->vf; l++)
      r = LLVMBuildInsertElement(cb->b, r, cv_load(cb, cv_gepc(cb, rp, (int64_t)l * stride)),
                                 LLVMConstInt(cb->i32, (unsigned)l, 0), "");
  }
  return cg_epilogue_finish(cb->c, cb->b, cv->epi->node, v, r);
}

void cv_epi_store_wide(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p, int count) {
  int n = (int)LLVMGetVectorSize(LLVMTypeOf(v));
  if (cv->epi) {
    LLVMValueRef r = NULL;
    if (has_residual(cv))
      r = cg_epilogue_load_residual(cb->c, cb->b, n, cv_epi_residual_ptr(cb, p), cv_i64(cb, 0),
                                    count);
    v = cg_epilogue_finish(cb->c, cb->b, cv->epi->node, v, r);
  }
  vl_store(cb->c, cb->b, v, p, cv_i64(cb, 0), count);
}
