/*
 * MatMul and Gemm lowerings for float32: decide whether a node fits the
 * generated matrix-product kernel (codegen/gemm/gemm_emit.c) and describe it as
 * a GemmPlan.  A constant B is packed here, at compile time, into the
 * micro-kernel's panel layout (transB folded into the packing); a constant
 * transposed A is stored transposed.  Everything else that is odd (1-D
 * MatMul operands, other dtypes, a non-constant transposed operand, empty
 * dims) is left to the reference kernel (*handled = false).  The MatMul
 * planning is shared with onnxc.FusedMatMul (gemm_lower_matmul_fused),
 * which adds a bias and an epilogue hook on the final store.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ops/ops.h"
#include "gemm_emit.h"
#include "../lower.h"

enum {
  GEMM_MAX_BATCHES = 1 << 16, /* offset tables are compile-time constants */
};
#define GEMM_MAX_PACKED ((int64_t)1 << 30) /* floats in one packed constant */


static bool is_f32_static(const Value *v) {
  return v && v->dtype == DT_FLOAT32 && ir_value_is_static(v);
}

/* Packs constant B (B'[p][j] = b[p*sp + j*sj]) into a new blob. */
static Status pack_const_b(CgCtx *c, GemmPlan *p, const float *b, int64_t sp, int64_t sj,
                           LLVMValueRef *out, bool *ok, Error *err) {
  int64_t nf = gemm_packed_floats(&p->t, p->n, p->k);
  *ok = false;
  if (nf <= 0 || nf > GEMM_MAX_PACKED) return ST_OK;
  float *buf = malloc((size_t)nf * sizeof *buf);
  if (!buf) return err_set(err, ST_NOMEM, "out of memory packing a Gemm weight");
  gemm_pack_b(&p->t, p->n, p->k, b, sp, sj, buf);
  *out = cg_weight_blob(c, buf, (size_t)nf * sizeof *buf, "gemm_b");
  free(buf);
  p->b_packed = true;
  *ok = true;
  return ST_OK;
}

/* Strides (in matrices) of an operand's batch dims seen from the output's
 * batch dims: 0 where the operand broadcasts.  False when the dims do not
 * broadcast to the output's (the offset tables would leave the operand). */
static bool batch_strides(const Value *v, int out_rank, const int64_t *out_dims, int64_t *st) {
  int r = v->rank - 2, shift = out_rank - r;
  if (shift < 0) return false;
  int64_t s = 1;
  for (int i = out_rank - 1; i >= 0; i--) {
    int j = i - shift;
    if (j < 0 || v->dims[j] == 1)
      st[i] = 0;
    else if (v->dims[j] != out_dims[i])
      return false;
    else {
      st[i] = s;
      s *= v->dims[j];
    }
  }
  return true;
}

/* The residual's strides seen from the output (0 where it broadcasts):
 * element (i, j) of batch element t at r_off[t] + i*res_si + j*res_sj. */
static void residual_strides(const Value *r, const Value *y, int64_t *rs, GemmEpilogue *e) {
  ops_broadcast_strides(r->rank, r->dims, y->rank, y->dims, rs);
  e->res_si = rs[y->rank - 2];
  e->res_sj = rs[y->rank - 1];
}

Status cg_lower_matmul(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                       bool *handled, Error *err) {
  return gemm_lower_matmul_fused(c, n, in, out, NULL, NULL, NULL, NULL, handled, err);
}

Status gemm_lower_matmul_fused(CgCtx *c, const Node *n, LLVMValueRef const in[],
                               LLVMValueRef const out[], LLVMValueRef bias,
                               const GemmEpilogue *epi, const Value *r, LLVMValueRef rptr,
                               bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 2 || n->num_outputs < 1) return ST_OK;
  const Value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
  if (!is_f32_static(a) || !is_f32_static(b) || !is_f32_static(y) || !in[0] || !in[1] || !out[0])
    return ST_OK;
  if (a->rank < 2 || b->rank < 2 || y->rank != (a->rank > b->rank ? a->rank : b->rank))
    return ST_OK;
  GemmPlan p = {.alpha = 1.0f, .beta = 1.0f, .batches = 1};
  p.m = a->dims[a->rank - 2];
  p.k = a->dims[a->rank - 1];
  p.n = b->dims[b->rank - 1];
  if (b->dims[b->rank - 2] != p.k || p.m < 1 || p.n < 1 || p.k < 1) return ST_OK;
  if (y->dims[y->rank - 2] != p.m || y->dims[y->rank - 1] != p.n) return ST_OK;
  int br = y->rank - 2;
  int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK], a_mats = 1;
  if (!batch_strides(a, br, y->dims, sa) || !batch_strides(b, br, y->dims, sb)) return ST_OK;
  bool b_shared = true;
  for (int i = 0; i < br; i++) {
    p.batches *= y->dims[i];
    if (sb[i]) b_shared = false;
  }
  for (int i = 0; i < a->rank - 2; i++) a_mats *= a->dims[i];
  if (p.batches > GEMM_MAX_BATCHES) return ST_OK;
  int64_t rs[IR_MAX_RANK] = {0};
  if (epi) p.epi = *epi;
  if (bias) {
    p.has_bias = true;
    p.bias_sj = 1;
  }
  bool r_folds = true; /* the residual still addresses rows linearly after folding */
  if (p.epi.has_res) {
    if (!r || !rptr || !is_f32_static(r) || r->rank > y->rank) return ST_OK;
    residual_strides(r, y, rs, &p.epi);
    int64_t want = p.m * p.epi.res_si;
    for (int i = br - 1; i >= 0; i--) {
      if (y->dims[i] != 1 && rs[i] != want) r_folds = false;
      want *= y->dims[i];
    }
  }
  /* A shared B and an unbroadcast A: the batch is just more rows. */
  if (b_shared && a_mats == p.batches && r_folds) {
    p.m *= p.batches;
    p.batches = 1;
    br = 0;
  }
  p.lda = p.k;
  p.ldc = p.n;
  p.ldb = p.n;
  gemm_choose_tile(c->vf32, p.m, p.n, p.k, &p.t);
  LLVMValueRef bptr = in[1];
  if (b->data && b_shared) {
    bool ok;
    TRY(pack_const_b(c, &p, b->data, p.n, 1, &bptr, &ok, err));
    if (!ok) return ST_OK;
  }
  int64_t *tab = NULL;
  if (p.batches > 1) {
    tab = malloc((size_t)p.batches * 3 * sizeof *tab);
    if (!tab) return err_set(err, ST_NOMEM, "out of memory for MatMul batch offsets");
    int64_t idx[IR_MAX_RANK] = {0};
    for (int64_t bt = 0; bt < p.batches; bt++) {
      int64_t ao = 0, bo = 0, ro = 0;
      for (int i = 0; i < br; i++) {
        ao += idx[i] * sa[i];
        bo += idx[i] * sb[i];
        ro += idx[i] * rs[i];
      }
      tab[bt] = ao * p.m * p.k;
      tab[p.batches + bt] = p.b_packed ? 0 : bo * p.k * p.n;
      tab[2 * p.batches + bt] = ro;
      for (int i = br - 1; i >= 0; i--) {
        if (++idx[i] < y->dims[i]) break;
        idx[i] = 0;
      }
    }
    p.a_off = tab;
    p.b_off = tab + p.batches;
    if (p.epi.has_res) p.epi.r_off = tab + 2 * p.batches;
  }
  Status st = gemm_emit_fused(c, &p, in[0], bptr, bias, p.epi.has_res ? rptr : NULL, out[0], err);
  free(tab);
  if (st == ST_OK) *handled = true;
  return st;
}

Status cg_lower_gemm(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                     bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 2 || n->num_outputs < 1) return ST_OK;
  const Value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
  const Value *bias = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (!is_f32_static(a) || !is_f32_static(b) || !is_f32_static(y) || !in[0] || !in[1] || !out[0])
    return ST_OK;
  if (a->rank != 2 || b->rank != 2 || y->rank != 2) return ST_OK;
  if (bias && (!is_f32_static(bias) || bias->rank > 2 || !in[2])) return ST_OK;
  bool ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
  if ((ta && !a->data) || (tb && !b->data)) return ST_OK;
  GemmPlan p = {.batches = 1};
  p.alpha = ir_attr_float(n, "alpha", 1.0f);
  p.beta = ir_attr_float(n, "beta", 1.0f);
  p.m = ta ? a->dims[1] : a->dims[0];
  p.k = ta ? a->dims[0] : a->dims[1];
  p.n = tb ? b->dims[0] : b->dims[1];
  if ((tb ? b->dims[1] : b->dims[0]) != p.k || p.m < 1 || p.n < 1 || p.k < 1) return ST_OK;
  if (y->dims[0] != p.m || y->dims[1] != p.n) return ST_OK;
  if (bias) {
    /* C broadcasts unidirectionally to [M, N]. */
    int64_t d0 = bias->rank == 2 ? bias->dims[0] : 1;
    int64_t d1 = bias->rank >= 1 ? bias->dims[bias->rank - 1] : 1;
    if ((d0 != 1 && d0 != p.m) || (d1 != 1 && d1 != p.n)) return ST_OK;
    p.has_bias = true;
    p.bias_sj = d1 == 1 ? 0 : 1;
    p.bias_si = d0 == 1 ? 0 : d1;
  }
  p.lda = p.k;
  p.ldc = p.n;
  p.ldb = p.n;
  gemm_choose_tile(c->vf32, p.m, p.n, p.k, &p.t);
  LLVMValueRef aptr = in[0], bptr = in[1];
  if (b->data) {
    bool ok;
    TRY(pack_const_b(c, &p, b->data, tb ? 1 : p.n, tb ? p.k : 1, &bptr, &ok, err));
    if (!ok) return ST_OK;
  }
  if (ta) {
    int64_t na = p.m * p.k;
    if (na > GEMM_MAX_PACKED) return ST_OK;
    float *t = malloc((size_t)na * sizeof *t);
    if (!t) return err_set(err, ST_NOMEM, "out of memory transposing a Gemm constant");
    const float *src = a->data;
    for (int64_t i = 0; i < p.m; i++)
      for (int64_t q = 0; q < p.k; q++) t[i * p.k + q] = src[q * p.m + i];
    aptr = cg_weight_blob(c, t, (size_t)na * sizeof *t, "gemm_at");
    free(t);
  }
  TRY(gemm_emit(c, &p, aptr, bptr, bias ? in[2] : NULL, out[0], err));
  *handled = true;
  return ST_OK;
}
