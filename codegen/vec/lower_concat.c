/*
 * Concat as one partitioned copy: the output is [outer, L] with input k
 * owning columns [off_k, off_k + len_k) of every row (len_k = its dim on
 * the axis times everything after).  A unit copies one piece of at most
 * CONCAT_PIECE bytes of one input's block in one row, so a channel concat
 * of two big NCHW maps (outer == 1) still splits across threads.
 */
#include "../lower.h"
#include "../parallel.h"
#include "vec_loops.h"

enum { CONCAT_PIECE = 64 * 1024 };

typedef struct Piece {
  int64_t first, count; /* unit range [first, first + count) within a row */
  int64_t bytes;        /* the input's block per row */
  int64_t dst_off;      /* byte offset of the block in an output row */
} Piece;

static LLVMValueRef i8_gep(CgCtx *c, LLVMBuilderRef b, LLVMValueRef p, LLVMValueRef off) {
  return LLVMBuildGEP2(b, LLVMInt8TypeInContext(c->ctx), p, &off, 1, "");
}

Status cg_lower_concat(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                       bool *handled, Error *err) {
  (void)err;
  *handled = false;
  int nin = n->num_inputs;
  const Value *y = n->num_outputs > 0 ? n->outputs[0] : NULL;
  if (nin < 1 || nin > CG_PAR_MAX_ARGS - CG_KERNEL_WEIGHT_SLOTS - 1 || !y || !out[0] ||
      !ir_value_is_static(y) || y->rank < 1 || ir_value_numel(y) <= 0)
    return ST_OK;
  int64_t axis = ir_attr_int(n, "axis", 0);
  if (axis < 0) axis += y->rank;
  if (axis < 0 || axis >= y->rank) return ST_OK;
  int64_t es = (int64_t)dtype_size(y->dtype), outer = 1, after = 1;
  if (es <= 0) return ST_OK;
  for (int i = 0; i < axis; i++) outer *= y->dims[i];
  for (int i = (int)axis + 1; i < y->rank; i++) after *= y->dims[i];
  int64_t row_bytes = y->dims[axis] * after * es;
  Piece pc[CG_PAR_MAX_ARGS];
  LLVMValueRef args[CG_PAR_MAX_ARGS];
  int np = 0;
  int64_t units_per_row = 0, dst = 0;
  for (int k = 0; k < nin; k++) {
    const Value *v = n->inputs[k];
    if (!v || !in[k] || v->dtype != y->dtype || v->rank != y->rank || !ir_value_is_static(v))
      return ST_OK;
    int64_t bytes = v->dims[axis] * after * es;
    if (bytes == 0) continue; /* an empty input adds nothing */
    int64_t cnt = (bytes + CONCAT_PIECE - 1) / CONCAT_PIECE;
    pc[np] = (Piece){units_per_row, cnt, bytes, dst};
    args[np++] = in[k];
    units_per_row += cnt;
    dst += bytes;
  }
  if (dst != row_bytes || np == 0) return ST_OK;

  LLVMValueRef fn, lo, hi;
  LLVMBuilderRef b;
  cg_begin_par_kernel(c, "concat", np + 1, false, &fn, &b, &lo, &hi);
  int64_t dims[2] = {outer, units_per_row};
  VlNest ns;
  vl_nest_begin(c, b, &ns, 2, dims, lo, hi);
  LLVMValueRef row = vl_nest_level(c, b, &ns);
  LLVMValueRef u = vl_nest_level(c, b, &ns);
  LLVMValueRef outp = LLVMGetParam(fn, (unsigned)np);
  /* Each input's pieces are a range of u; the chain of range checks picks
   * the one input this unit copies from. */
  for (int k = 0; k < np; k++) {
    VlIf f;
    LLVMValueRef ge = LLVMBuildICmp(b, LLVMIntSGE, u, vl_i64(c, pc[k].first), "");
    LLVMValueRef lt = LLVMBuildICmp(b, LLVMIntSLT, u, vl_i64(c, pc[k].first + pc[k].count), "");
    vl_if_begin(c, b, LLVMBuildAnd(b, ge, lt, ""), &f);
    LLVMValueRef j = LLVMBuildNSWSub(b, u, vl_i64(c, pc[k].first), "");
    LLVMValueRef at = LLVMBuildNSWMul(b, j, vl_i64(c, CONCAT_PIECE), "");
    LLVMValueRef left = LLVMBuildNSWSub(b, vl_i64(c, pc[k].bytes), at, "");
    LLVMValueRef small = LLVMBuildICmp(b, LLVMIntSLT, left, vl_i64(c, CONCAT_PIECE), "");
    LLVMValueRef len = pc[k].count == 1 ? vl_i64(c, pc[k].bytes)
                                        : LLVMBuildSelect(b, small, left, vl_i64(c, CONCAT_PIECE), "");
    LLVMValueRef src = LLVMBuildNSWAdd(b, LLVMBuildNSWMul(b, row, vl_i64(c, pc[k].bytes), ""), at, "");
    LLVMValueRef dsto = LLVMBuildNSWAdd(
        b, LLVMBuildNSWMul(b, row, vl_i64(c, row_bytes), ""), vl_i64(c, pc[k].dst_off), "");
    dsto = LLVMBuildNSWAdd(b, dsto, at, "");
    LLVMBuildMemCpy(b, i8_gep(c, b, outp, dsto), 1, i8_gep(c, b, LLVMGetParam(fn, (unsigned)k), src),
                    1, len);
    vl_if_end(c, b, &f);
  }
  vl_nest_end(c, b, &ns);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  args[np] = out[0];
  double bytes = 2.0 * (double)(outer * row_bytes);
  cg_call_par_kernel(c, fn, args, np + 1, vl_nest_units(2, dims), cg_cost_ns(c, 0.0, bytes));
  *handled = true;
  return ST_OK;
}
