/*
 * IR for float32 attention (see attn_emit.h).  Two levels:
 *
 *   rows function   QR query rows of one leading index against one key
 *                   chunk: key blocks of KV vectors, each one a Q.Kt
 *                   register tile (SSA accumulators around the D loop), then
 *                   the online softmax update per row, then a P.V register
 *                   tile (accumulators around the key loop) on the rows'
 *                   unnormalized output.  The softmax state comes from and
 *                   goes back to the driver's query-block buffers.  Variants
 *                   for the query tail and the last (shorter) key chunk.
 *   driver          leading index -> query block (state reset) -> key chunk
 *                   (transpose into Kt) -> row tiles; then O / l per row.
 *
 * Masked lanes (keys past M in the last block) get score -inf, so they add
 * exp(-inf) = 0.  A row whose scores so far are all -inf keeps max -inf;
 * its exponentials are taken against 0 instead (giving 0, not NaN), so the
 * final O / l is 0 / 0 = NaN exactly when every score of the row is -inf,
 * as in the reference kernel (ops/attention.c).
 */
#include "attn_emit.h"

#include <math.h>
#include <stdio.h>

#include "../parallel.h"
#include "../vec/vec_loops.h"
#include "../vec/vec_math.h"
#include "../vec/vec_transpose.h"


enum { MAXQR = 8, MAXKV = 4, MAXCV = 4 };
/* Most keys in a last score vector taken as dot products (block_scores). */
enum { ATTN_DOT_TAIL = 2 };
#define ATTN_LOG2E 1.4426950408889634
/* The online softmax's slack (block_softmax), in real score units. */
#define ATTN_MAX_SLACK 8.0

typedef struct AttnIR {
  CgCtx *c;
  const AttnPlan *p;
  int vf;          /* lanes */
  int qr, kv, cv;  /* rows per tile, key vectors per block, Dv vectors per P.V tile */
  int64_t kb;      /* keys per block: kv * vf */
  int64_t ck;      /* keys per full chunk (M when K fits one chunk) */
  int64_t ktld;    /* Kt row length: ck rounded up to vf */
  int64_t qb;      /* query rows per block, a multiple of qr unless N is smaller */
  int64_t nvv;     /* vectors per output row: ceil(dv / vf) */
  int64_t ostride; /* floats per state output row: nvv * vf */
  int64_t q_ld, k_ld, v_ld, o_ld; /* the plan's, dense defaults filled in */
  /* Scores in the kernel's own units: without a bias and for a positive
   * scale they stay the raw dot products (raw), the scale going into the
   * exponential's one FMA (emul = scale log2 e) and the max slack; else
   * they are scale q.k + bias (emul = log2 e). */
  bool raw;
  double emul;     /* exp(real score - real max) = 2^(emul (s - m)) */
  double slack;    /* ATTN_MAX_SLACK in score units */
  double to_real;  /* real score = to_real * s */
  LLVMTypeRef f32, vec, i64;
} AttnIR;

static void attn_ir_init(AttnIR *a, CgCtx *c, const AttnPlan *p) {
  a->c = c;
  a->p = p;
  a->vf = c->vf32;
  /* 32 vector registers: 24 accumulators in either product; 16: 12. */
  a->qr = a->vf >= 16 ? 6 : 3;
  a->kv = 4;
  a->cv = 4;
  a->kb = (int64_t)a->kv * a->vf;
  int64_t mpad = (p->m + a->vf - 1) / a->vf * a->vf;
  int64_t fit = ATTN_KT_MAX_BYTES / (4 * p->d); /* keys per Kt buffer, >= vf */
  if (mpad <= fit) {
    a->ck = p->m;
    a->ktld = mpad;
  } else {
    int64_t chunk = ATTN_KT_CHUNK_BYTES / (4 * p->d);
    if (chunk >= a->vf) fit = chunk;
    /* Whole key blocks when possible so full chunks have no key tail. */
    a->ck = fit >= a->kb ? fit / a->kb * a->kb : fit / a->vf * a->vf;
    a->ktld = a->ck;
  }
  a->nvv = (p->dv + a->vf - 1) / a->vf;
  a->q_ld = p->q_ld ? p->q_ld : p->d;
  a->k_ld = p->k_ld ? p->k_ld : p->d;
  a->v_ld = p->v_ld ? p->v_ld : p->dv;
  a->o_ld = p->o_ld ? p->o_ld : p->dv;
  a->ostride = a->nvv * a->vf;
  a->raw = !p->has_bias && p->scale > 0.0f && isfinite(p->scale);
  a->to_real = a->raw ? (double)p->scale : 1.0;
  a->emul = ATTN_LOG2E * a->to_real;
  a->slack = ATTN_MAX_SLACK / a->to_real;
  /* State per row: output row, max, lane-wise sum. */
  int64_t rows = ATTN_STATE_MAX_BYTES / (4 * (a->ostride + 1 + a->vf));
  a->qb = rows >= a->qr ? rows / a->qr * a->qr : a->qr;
  if (a->qb > p->n) a->qb = p->n;
  a->f32 = LLVMFloatTypeInContext(c->ctx);
  a->vec = LLVMVectorType(a->f32, (unsigned)a->vf);
  a->i64 = LLVMInt64TypeInContext(c->ctx);
}

bool attn_plan_fits(const CgCtx *c, const AttnPlan *p) {
  if (p->n < 1 || p->m < 1 || p->d < 1 || p->dv < 1 || p->batches < 1) return false;
  if (c->vf32 < 4 || c->vf32 > 16) return false;
  if (p->has_bias && p->bias_sm != 0 && p->bias_sm != 1) return false;
  /* Index arithmetic in i64 stays far from overflow. */
  if (p->n > (INT64_C(1) << 40) || p->m > (INT64_C(1) << 40)) return false;
  /* One vector of keys must fit the Kt buffer; a query block holds at
   * least one register tile of 1024-float rows (6 x 4 KB) in its state. */
  return p->d * c->vf32 * 4 <= ATTN_KT_MAX_BYTES && p->dv <= 1024;
}

static LLVMValueRef i64c(AttnIR *a, int64_t v) { return vl_i64(a->c, v); }

static LLVMValueRef gep(AttnIR *a, LLVMBuilderRef b, LLVMValueRef base, LLVMValueRef idx) {
  return vl_gep(a->c, b, a->f32, base, idx);
}

static LLVMValueRef load_f(AttnIR *a, LLVMBuilderRef b, LLVMValueRef base, LLVMValueRef idx) {
  return LLVMBuildLoad2(b, a->f32, gep(a, b, base, idx), "");
}

/* A float array of n elements on the stack, 64-byte aligned. */
static LLVMValueRef stack_array(AttnIR *a, LLVMBuilderRef b, int64_t n) {
  LLVMValueRef buf = vl_alloca(a->c, b, LLVMArrayType2(a->f32, (uint64_t)n));
  LLVMSetAlignment(buf, 64);
  return buf;
}

static void zero_fill(AttnIR *a, LLVMBuilderRef b, LLVMValueRef buf, int64_t floats) {
  LLVMBuildMemSet(b, buf, LLVMConstInt(LLVMInt8TypeInContext(a->c->ctx), 0, 0),
                  i64c(a, floats * 4), 64);
}

/* Lanes [0, lanes) true. */
static LLVMValueRef valid_lanes(AttnIR *a, int lanes) { return vl_mask(a->c, a->vf, lanes); }

/* A do-while loop `for (iv = 0; iv < trip; iv++)` (trip >= 1) carrying
 * nacc vector values in phis: open returns with b in the body. */
typedef struct AccLoop {
  LLVMBasicBlockRef body;
  LLVMValueRef iv;
  LLVMValueRef phi[MAXQR * MAXKV];
  int nacc;
} AccLoop;

static void acc_loop_open(AttnIR *a, LLVMBuilderRef b, AccLoop *l, LLVMValueRef const init[],
                          int nacc) {
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
  LLVMValueRef fn = LLVMGetBasicBlockParent(pre);
  l->body = LLVMAppendBasicBlockInContext(a->c->ctx, fn, "acc");
  l->nacc = nacc;
  LLVMBuildBr(b, l->body);
  LLVMPositionBuilderAtEnd(b, l->body);
  l->iv = LLVMBuildPhi(b, a->i64, "");
  LLVMValueRef zero = i64c(a, 0);
  LLVMAddIncoming(l->iv, &zero, &pre, 1);
  for (int i = 0; i < nacc; i++) {
    l->phi[i] = LLVMBuildPhi(b, a->vec, "");
    LLVMAddIncoming(l->phi[i], (LLVMValueRef *)&init[i], &pre, 1);
  }
}

static void acc_loop_close(AttnIR *a, LLVMBuilderRef b, AccLoop *l, LLVMValueRef const next[],
                           int64_t trip) {
  LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInsertBlock(b));
  LLVMValueRef iv1 = LLVMBuildNSWAdd(b, l->iv, i64c(a, 1), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(b);
  LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(a->c->ctx, fn, "");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, iv1, i64c(a, trip), ""), l->body, exit);
  LLVMAddIncoming(l->iv, &iv1, &latch, 1);
  for (int i = 0; i < l->nacc; i++) LLVMAddIncoming(l->phi[i], (LLVMValueRef *)&next[i], &latch, 1);
  LLVMPositionBuilderAtEnd(b, exit);
}

/* Stack state of one rows function. */
typedef struct RowState {
  LLVMValueRef q, kt, v, bias;      /* parameters (tile and chunk bases) */
  LLVMValueRef k;                   /* K of the leading index (whole rows), or NULL */
  LLVMValueRef mx[MAXQR], lsum[MAXQR]; /* per-row state: running max, lane-wise sum */
  LLVMValueRef pbuf;                /* [qr][kb] probabilities of the block */
  LLVMValueRef obuf;                /* [qr][ostride] unnormalized output rows (parameter) */
} RowState;

/* Keys [jt, jt + dots) against rows [0, qr) as dot products of Q's and
 * K's rows (vectors along D, then a horizontal sum), into lanes [0, dots)
 * of each row's last score vector (its other lanes are masked later).
 * Swin's and HRFormer's 49-key windows are 3 vectors and one key: a 4th
 * vector in the Q.K^T loop was 1/4 of its FMAs for 1 key in 16 lanes. */
static void dot_tail_scores(AttnIR *a, LLVMBuilderRef b, const RowState *st, int qr,
                            LLVMValueRef jt, int dots, int nvec, LLVMValueRef next[]) {
  CgCtx *c = a->c;
  int64_t nd = (a->p->d + a->vf - 1) / a->vf;
  LLVMValueRef krow[ATTN_DOT_TAIL][64];
  for (int u = 0; u < dots; u++)
    for (int64_t w = 0; w < nd && w < 64; w++) {
      int lanes = a->p->d - w * a->vf < a->vf ? (int)(a->p->d - w * a->vf) : a->vf;
      LLVMValueRef row = LLVMBuildMul(b, LLVMBuildAdd(b, jt, i64c(a, u), ""), i64c(a, a->k_ld), "");
      krow[u][w] = vl_load(c, b, a->vec, gep(a, b, st->k, row), i64c(a, w * a->vf), lanes, NULL);
    }
  for (int i = 0; i < qr; i++) {
    LLVMValueRef last = LLVMConstNull(a->vec);
    for (int u = 0; u < dots; u++) {
      LLVMValueRef acc = NULL;
      for (int64_t w = 0; w < nd && w < 64; w++) {
        int lanes = a->p->d - w * a->vf < a->vf ? (int)(a->p->d - w * a->vf) : a->vf;
        LLVMValueRef qv = vl_load(c, b, a->vec, st->q, i64c(a, i * a->q_ld + w * a->vf), lanes, NULL);
        acc = acc ? vm_fma(c, b, qv, krow[u][w], acc) : LLVMBuildFMul(b, qv, krow[u][w], "");
      }
      last = LLVMBuildInsertElement(b, last, vm_hsum(c, b, acc),
                                    LLVMConstInt(LLVMInt32TypeInContext(c->ctx), (unsigned)u, 0), "");
    }
    next[i * nvec + nvec - 1] = last;
  }
}

/* S = Q.Kt in score units (AttnIR.raw), plus the bias, for keys [j0, j0 + nvec*vf) of rows [0, qr);
 * lanes past `tail` of the last vector are -inf. */
static void block_scores(AttnIR *a, LLVMBuilderRef b, const RowState *st, int qr, LLVMValueRef j0,
                         int nvec, int tail, LLVMValueRef s[MAXQR][MAXKV]) {
  const AttnPlan *p = a->p;
  LLVMValueRef init[MAXQR * MAXKV], acc[MAXQR * MAXKV], next[MAXQR * MAXKV];
  /* A last vector of at most ATTN_DOT_TAIL keys, when K's rows are at
   * hand: dot products instead of a vf-key vector over the D loop. */
  int dots = st->k && nvec > 1 && tail <= ATTN_DOT_TAIL ? tail : 0;
  int nfma = dots ? nvec - 1 : nvec;
  int nacc = qr * nfma;
  for (int i = 0; i < nacc; i++) init[i] = LLVMConstNull(a->vec);
  AccLoop l;
  acc_loop_open(a, b, &l, init, nacc);
  LLVMValueRef ktrow =
      gep(a, b, st->kt, LLVMBuildAdd(b, LLVMBuildMul(b, l.iv, i64c(a, a->ktld), ""), j0, ""));
  LLVMValueRef kv[MAXKV];
  for (int v = 0; v < nfma; v++) {
    /* Kt rows are ktld (a multiple of vf) long: full, aligned loads even in
     * the tail, whose extra lanes (zero or an earlier chunk's keys) are
     * replaced by -inf below. */
    kv[v] = LLVMBuildLoad2(b, a->vec, gep(a, b, ktrow, i64c(a, (int64_t)v * a->vf)), "");
    LLVMSetAlignment(kv[v], (unsigned)a->vf * 4);
  }
  for (int i = 0; i < qr; i++) {
    LLVMValueRef qi =
        load_f(a, b, st->q, LLVMBuildAdd(b, l.iv, i64c(a, (int64_t)i * a->q_ld), ""));
    LLVMValueRef qs = vm_splat(a->c, b, qi, a->vf);
    for (int v = 0; v < nfma; v++) acc[i * nfma + v] = vm_fma(a->c, b, qs, kv[v], l.phi[i * nfma + v]);
  }
  acc_loop_close(a, b, &l, acc, p->d);
  for (int i = 0; i < qr; i++)
    for (int v = 0; v < nfma; v++) next[i * nvec + v] = acc[i * nfma + v];
  if (dots) dot_tail_scores(a, b, st, qr, LLVMBuildAdd(b, j0, i64c(a, (int64_t)nfma * a->vf), ""),
                            dots, nvec, next);

  LLVMValueRef scale = vm_const(a->c, a->vf, p->scale);
  LLVMValueRef ninf = vm_const(a->c, a->vf, -INFINITY);
  for (int i = 0; i < qr; i++)
    for (int v = 0; v < nvec; v++) {
      int lanes = v == nvec - 1 ? tail : a->vf;
      LLVMValueRef x = next[i * nvec + v];
      if (!a->raw && !p->has_bias) x = LLVMBuildFMul(b, x, scale, "");
      if (p->has_bias) {
        LLVMValueRef bv;
        if (p->bias_sm) {
          LLVMValueRef row = gep(a, b, st->bias, LLVMBuildAdd(b, j0, i64c(a, i * p->bias_sn), ""));
          bv = vl_load(a->c, b, a->vec, row, i64c(a, (int64_t)v * a->vf), lanes, NULL);
        } else {
          bv = vm_splat(a->c, b, load_f(a, b, st->bias, i64c(a, i * p->bias_sn)), a->vf);
        }
        x = vm_fma(a->c, b, x, scale, bv);
      }
      if (lanes < a->vf) x = LLVMBuildSelect(b, valid_lanes(a, lanes), x, ninf, "");
      s[i][v] = x;
    }
}

/* exp(real s - real m) is 2^(emul s - emul m): one FMA into
 * vm_exp2_softmax.  The splat of -emul m, whose rounding scales a row's
 * probabilities alike (by 1 + 6e-8 |emul m| at most). */
static LLVMValueRef exp2_offset(AttnIR *a, LLVMBuilderRef b, LLVMValueRef m) {
  return vm_splat(a->c, b, LLVMBuildFMul(b, m, LLVMConstReal(a->f32, -a->emul), ""), a->vf);
}

static LLVMValueRef exp2_arg(AttnIR *a, LLVMBuilderRef b, LLVMValueRef s, LLVMValueRef offset) {
  return vm_fma(a->c, b, s, vm_const(a->c, a->vf, a->emul), offset);
}

/* Online softmax update of row i with the block's scores; stores the
 * block's probabilities in pbuf.  The row's reference max moves only when
 * a score passes it by more than ATTN_MAX_SLACK (exp(8) ~ 3e3 keeps every
 * sum far from overflow), so after the first blocks a row skips the
 * horizontal max and the rescale of its output row: they were a tenth of
 * T2T-ViT's 3136-key attention. */
static void block_softmax(AttnIR *a, LLVMBuilderRef b, const RowState *st, int i,
                          LLVMValueRef s[MAXKV], int nvec) {
  CgCtx *c = a->c;
  LLVMValueRef mo = LLVMBuildLoad2(b, a->f32, st->mx[i], "");
  LLVMValueRef thr =
      vm_splat(c, b, LLVMBuildFAdd(b, mo, LLVMConstReal(a->f32, a->slack), ""), a->vf);
  LLVMValueRef past = NULL;
  for (int v = 0; v < nvec; v++) {
    LLVMValueRef gt = LLVMBuildFCmp(b, LLVMRealOGT, s[v], thr, "");
    past = past ? LLVMBuildOr(b, past, gt, "") : gt;
  }
  LLVMTypeRef mask_int = LLVMIntTypeInContext(c->ctx, (unsigned)a->vf);
  LLVMValueRef any = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildBitCast(b, past, mask_int, ""),
                                   LLVMConstNull(mask_int), "");
  VlIf f;
  vl_if_begin(c, b, any, &f);
  {
    /* A score passed the slack, so the new max is finite or +inf; a NaN
     * score may be dropped from it: its exp still makes the row's sum, and
     * so its output, NaN.  From -inf, cr = 0 clears nothing but zeros. */
    LLVMValueRef bmv = s[0];
    for (int v = 1; v < nvec; v++) bmv = vm_max_fast(c, b, s[v], bmv);
    LLVMValueRef mn = vm_max_fast(c, b, vm_hmax_fast(c, b, bmv), mo);
    LLVMValueRef d = LLVMBuildFMul(b, LLVMBuildFSub(b, mo, mn, ""),
                                   LLVMConstReal(a->f32, a->to_real), "");
    LLVMValueRef crs = vm_exp(c, b, d);
    LLVMValueRef cr = vm_splat(c, b, crs, a->vf);
    /* Volatile: plain, they let LLVM keep every output row live from the
     * function's entry (load PRE), across the Q.K^T loop that needs all
     * registers: 24 vectors spilled and reloaded per call on T2T-ViT's
     * 3136 keys.  The rescale is rare after the first blocks. */
    for (int64_t w = 0; w < a->nvv; w++) {
      LLVMValueRef ptr = gep(a, b, st->obuf, i64c(a, i * a->ostride + w * a->vf));
      LLVMValueRef o = LLVMBuildLoad2(b, a->vec, ptr, "");
      LLVMSetAlignment(o, 4);
      LLVMSetVolatile(o, 1);
      LLVMValueRef sto = LLVMBuildStore(b, LLVMBuildFMul(b, o, cr, ""), ptr);
      LLVMSetAlignment(sto, 4);
      LLVMSetVolatile(sto, 1);
    }
    LLVMValueRef lo = LLVMBuildLoad2(b, a->vec, st->lsum[i], "");
    LLVMSetAlignment(lo, 4);
    LLVMSetAlignment(LLVMBuildStore(b, LLVMBuildFMul(b, lo, cr, ""), st->lsum[i]), 4);
    LLVMBuildStore(b, mn, st->mx[i]);
  }
  vl_if_end(c, b, &f);
  /* Still -inf: every score so far is -inf (or NaN); take them against 0. */
  LLVMValueRef m = LLVMBuildLoad2(b, a->f32, st->mx[i], "");
  LLVMValueRef all_ninf = LLVMBuildFCmp(b, LLVMRealOEQ, m, LLVMConstReal(a->f32, -INFINITY), "");
  LLVMValueRef nml = exp2_offset(a, b, LLVMBuildSelect(b, all_ninf, LLVMConstReal(a->f32, 0.0), m, ""));
  LLVMValueRef sum = NULL;
  for (int v = 0; v < nvec; v++) {
    LLVMValueRef e = vm_exp2_softmax(c, b, exp2_arg(a, b, s[v], nml));
    LLVMValueRef dst = gep(a, b, st->pbuf, i64c(a, (int64_t)i * a->kb + (int64_t)v * a->vf));
    LLVMSetAlignment(LLVMBuildStore(b, e, dst), 4);
    sum = sum ? LLVMBuildFAdd(b, sum, e, "") : e;
  }
  LLVMValueRef lo = LLVMBuildLoad2(b, a->vec, st->lsum[i], "");
  LLVMSetAlignment(lo, 4);
  LLVMSetAlignment(LLVMBuildStore(b, LLVMBuildFAdd(b, lo, sum, ""), st->lsum[i]), 4);
}

/* O[rows, vectors cs..cs+cn) += P[:, 0..kn) . V[j0.., ...]. */
static void block_pv(AttnIR *a, LLVMBuilderRef b, const RowState *st, int qr, LLVMValueRef j0,
                     int64_t kn, int64_t cs, int cn) {
  const AttnPlan *p = a->p;
  int64_t ostride = a->ostride;
  LLVMValueRef init[MAXQR * MAXKV], next[MAXQR * MAXKV];
  for (int i = 0; i < qr; i++)
    for (int w = 0; w < cn; w++) {
      LLVMValueRef o = LLVMBuildLoad2(
          b, a->vec, gep(a, b, st->obuf, i64c(a, i * ostride + (cs + w) * a->vf)), "");
      LLVMSetAlignment(o, 4);
      init[i * cn + w] = o;
    }
  AccLoop l;
  acc_loop_open(a, b, &l, init, qr * cn);
  LLVMValueRef vrow = gep(a, b, st->v,
                          LLVMBuildMul(b, LLVMBuildAdd(b, j0, l.iv, ""), i64c(a, a->v_ld), ""));
  LLVMValueRef vv[MAXCV];
  for (int w = 0; w < cn; w++) {
    int64_t col = (cs + w) * a->vf;
    int lanes = p->dv - col < a->vf ? (int)(p->dv - col) : a->vf;
    vv[w] = vl_load(a->c, b, a->vec, vrow, i64c(a, col), lanes, NULL);
  }
  for (int i = 0; i < qr; i++) {
    LLVMValueRef pij =
        load_f(a, b, st->pbuf, LLVMBuildAdd(b, l.iv, i64c(a, (int64_t)i * a->kb), ""));
    LLVMValueRef ps = vm_splat(a->c, b, pij, a->vf);
    for (int w = 0; w < cn; w++) next[i * cn + w] = vm_fma(a->c, b, ps, vv[w], l.phi[i * cn + w]);
  }
  acc_loop_close(a, b, &l, next, kn);
  for (int i = 0; i < qr; i++)
    for (int w = 0; w < cn; w++) {
      LLVMValueRef dst = gep(a, b, st->obuf, i64c(a, i * ostride + (cs + w) * a->vf));
      LLVMSetAlignment(LLVMBuildStore(b, next[i * cn + w], dst), 4);
    }
}

/* One key block: kn keys from j0 in nvec vectors. */
static void emit_block(AttnIR *a, LLVMBuilderRef b, const RowState *st, int qr, LLVMValueRef j0,
                       int nvec, int64_t kn) {
  int tail = (int)(kn - (int64_t)(nvec - 1) * a->vf);
  LLVMValueRef s[MAXQR][MAXKV];
  block_scores(a, b, st, qr, j0, nvec, tail, s);
  for (int i = 0; i < qr; i++) block_softmax(a, b, st, i, s[i], nvec);
  /* Balanced chunks of at most cv output vectors. */
  int64_t nch = (a->nvv + a->cv - 1) / a->cv;
  int64_t per = (a->nvv + nch - 1) / nch;
  for (int64_t cs = 0; cs < a->nvv; cs += per) {
    int cn = (int)(a->nvv - cs < per ? a->nvv - cs : per);
    block_pv(a, b, st, qr, j0, kn, cs, cn);
  }
}

/* void rows(q, kt, v, bias, obuf, mst, lst): qr query rows against the kn
 * keys of one chunk, updating the rows' state (obuf [qr][ostride], running
 * max mst [qr], lane-wise running sum lst [qr][vf]). */
static LLVMValueRef emit_rows(AttnIR *a, int qr, int64_t kn) {
  CgCtx *c = a->c;
  LLVMValueRef fn;
  LLVMBuilderRef b;
  cg_begin_kernel(c, "attention_rows", 7, true, &fn, &b);
  RowState st;
  st.k = NULL;
  st.q = LLVMGetParam(fn, 0);
  st.kt = LLVMGetParam(fn, 1);
  st.v = LLVMGetParam(fn, 2);
  st.bias = LLVMGetParam(fn, 3);
  st.obuf = LLVMGetParam(fn, 4);
  LLVMValueRef mst = LLVMGetParam(fn, 5), lst = LLVMGetParam(fn, 6);
  st.pbuf = stack_array(a, b, qr * a->kb);
  /* Max and sum used in place (the driver's 64-byte aligned buffers):
   * copied into registers at the entry, the 6 sums stayed live across the
   * Q.K^T loop, which needs all registers, and were spilled. */
  for (int i = 0; i < qr; i++) {
    st.mx[i] = gep(a, b, mst, i64c(a, i));
    st.lsum[i] = gep(a, b, lst, i64c(a, (int64_t)i * a->vf));
  }

  int64_t nfull = kn / a->kb, rem = kn % a->kb;
  if (nfull > 0) {
    VlLoop lp;
    LLVMValueRef jb = vl_loop_begin(c, b, i64c(a, 0), i64c(a, nfull), 1, &lp);
    emit_block(a, b, &st, qr, LLVMBuildMul(b, jb, i64c(a, a->kb), ""), a->kv, a->kb);
    vl_loop_end(c, b, &lp);
  }
  if (rem > 0)
    emit_block(a, b, &st, qr, i64c(a, nfull * a->kb), (int)((rem + a->vf - 1) / a->vf), rem);

  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return fn;
}

/* Whole rows: every key in one chunk and the tile's scores in a stack
 * buffer sbuf [qr][ktld], so each row's max is exact before any exponential
 * and the output is written once, normalized.  The online update's per-block
 * work (a horizontal max, a rescale of the output rows, their round trip
 * through the state) is gone; it was a tenth of a 197-key attention. */
static void whole_scores(AttnIR *a, LLVMBuilderRef b, const RowState *st, int qr,
                         LLVMValueRef sbuf, LLVMValueRef vmax[MAXQR], LLVMValueRef j0, int nvec,
                         int64_t kn) {
  int tail = (int)(kn - (int64_t)(nvec - 1) * a->vf);
  LLVMValueRef s[MAXQR][MAXKV];
  block_scores(a, b, st, qr, j0, nvec, tail, s);
  for (int i = 0; i < qr; i++) {
    LLVMValueRef m = LLVMBuildLoad2(b, a->vec, vmax[i], "");
    for (int v = 0; v < nvec; v++) {
      LLVMValueRef off = LLVMBuildAdd(b, j0, i64c(a, (int64_t)i * a->ktld + (int64_t)v * a->vf), "");
      LLVMSetAlignment(LLVMBuildStore(b, s[i][v], gep(a, b, sbuf, off)), (unsigned)a->vf * 4);
      m = vm_max_fast(a->c, b, s[i][v], m);
    }
    LLVMBuildStore(b, m, vmax[i]);
  }
}

/* void rows_whole(q, kt, v, bias, out, k): qr query rows against all M keys
 * (k: K of the leading index, for dot_tail_scores). */
static LLVMValueRef emit_rows_whole(AttnIR *a, int qr) {
  CgCtx *c = a->c;
  const AttnPlan *p = a->p;
  LLVMValueRef fn;
  LLVMBuilderRef b;
  cg_begin_kernel(c, "attention_rows_whole", 6, true, &fn, &b);
  RowState st = {.q = LLVMGetParam(fn, 0), .kt = LLVMGetParam(fn, 1), .v = LLVMGetParam(fn, 2),
                 .bias = LLVMGetParam(fn, 3), .k = LLVMGetParam(fn, 5)};
  LLVMValueRef out = LLVMGetParam(fn, 4);
  LLVMValueRef sbuf = stack_array(a, b, qr * a->ktld);
  LLVMValueRef vmax[MAXQR];
  for (int i = 0; i < qr; i++) {
    vmax[i] = vl_alloca(c, b, a->vec);
    LLVMBuildStore(b, vm_const(c, a->vf, -INFINITY), vmax[i]);
  }

  int64_t nfull = p->m / a->kb, rem = p->m % a->kb;
  if (nfull > 0) {
    VlLoop lp;
    LLVMValueRef jb = vl_loop_begin(c, b, i64c(a, 0), i64c(a, nfull), 1, &lp);
    whole_scores(a, b, &st, qr, sbuf, vmax, LLVMBuildMul(b, jb, i64c(a, a->kb), ""), a->kv, a->kb);
    vl_loop_end(c, b, &lp);
  }
  if (rem > 0)
    whole_scores(a, b, &st, qr, sbuf, vmax, i64c(a, nfull * a->kb),
                 (int)((rem + a->vf - 1) / a->vf), rem);

  /* P = exp(S - max) in place, every row in one loop for independent
   * chains.  A row whose scores are all -inf takes them against 0: P = 0,
   * l = 0, and O / l = NaN as in the reference. */
  LLVMValueRef mus[MAXQR], init[MAXQR], sums[MAXQR];
  for (int i = 0; i < qr; i++) {
    LLVMValueRef m = vm_hmax_fast(c, b, LLVMBuildLoad2(b, a->vec, vmax[i], ""));
    LLVMValueRef all_ninf = LLVMBuildFCmp(b, LLVMRealOEQ, m, LLVMConstReal(a->f32, -INFINITY), "");
    mus[i] = exp2_offset(a, b, LLVMBuildSelect(b, all_ninf, LLVMConstReal(a->f32, 0.0), m, ""));
    init[i] = LLVMConstNull(a->vec);
  }
  AccLoop le;
  acc_loop_open(a, b, &le, init, qr);
  LLVMValueRef col = LLVMBuildMul(b, le.iv, i64c(a, a->vf), "");
  for (int i = 0; i < qr; i++) {
    LLVMValueRef ptr = gep(a, b, sbuf, LLVMBuildAdd(b, col, i64c(a, (int64_t)i * a->ktld), ""));
    LLVMValueRef x = LLVMBuildLoad2(b, a->vec, ptr, "");
    LLVMSetAlignment(x, (unsigned)a->vf * 4);
    LLVMValueRef e = vm_exp2_softmax(c, b, exp2_arg(a, b, x, mus[i]));
    LLVMSetAlignment(LLVMBuildStore(b, e, ptr), (unsigned)a->vf * 4);
    sums[i] = LLVMBuildFAdd(b, le.phi[i], e, "");
  }
  acc_loop_close(a, b, &le, sums, a->ktld / a->vf);
  LLVMValueRef ls[MAXQR];
  /* 1 / l per row: a division per output vector was 12 VDIVPS per tile,
   * ~5% of Swin's 49-key windows.  l = 0 gives inf, and O = 0 times inf
   * is NaN, as 0 / 0. */
  for (int i = 0; i < qr; i++)
    ls[i] = vm_splat(c, b,
                     LLVMBuildFDiv(b, LLVMConstReal(a->f32, 1.0), vm_hsum(c, b, sums[i]), ""),
                     a->vf);

  /* O = P.V / l in balanced chunks of at most cv output vectors. */
  int64_t nch = (a->nvv + a->cv - 1) / a->cv;
  int64_t per = (a->nvv + nch - 1) / nch;
  for (int64_t cs = 0; cs < a->nvv; cs += per) {
    int cn = (int)(a->nvv - cs < per ? a->nvv - cs : per);
    LLVMValueRef zero[MAXQR * MAXKV], next[MAXQR * MAXKV];
    for (int i = 0; i < qr * cn; i++) zero[i] = LLVMConstNull(a->vec);
    AccLoop l;
    acc_loop_open(a, b, &l, zero, qr * cn);
    LLVMValueRef vrow = gep(a, b, st.v, LLVMBuildMul(b, l.iv, i64c(a, a->v_ld), ""));
    LLVMValueRef vv[MAXCV];
    int lanes[MAXCV];
    for (int w = 0; w < cn; w++) {
      int64_t c0 = (cs + w) * a->vf;
      lanes[w] = p->dv - c0 < a->vf ? (int)(p->dv - c0) : a->vf;
      vv[w] = vl_load(c, b, a->vec, vrow, i64c(a, c0), lanes[w], NULL);
    }
    for (int i = 0; i < qr; i++) {
      LLVMValueRef pij = load_f(a, b, sbuf, LLVMBuildAdd(b, l.iv, i64c(a, (int64_t)i * a->ktld), ""));
      LLVMValueRef ps = vm_splat(c, b, pij, a->vf);
      for (int w = 0; w < cn; w++) next[i * cn + w] = vm_fma(c, b, ps, vv[w], l.phi[i * cn + w]);
    }
    acc_loop_close(a, b, &l, next, p->m);
    for (int i = 0; i < qr; i++)
      for (int w = 0; w < cn; w++)
        vl_store(c, b, LLVMBuildFMul(b, next[i * cn + w], ls[i], ""), out,
                 i64c(a, (int64_t)i * a->o_ld + (cs + w) * a->vf), lanes[w]);
  }
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return fn;
}

/* One vf x vf tile of the pack: keys [j0, j0 + rows) by dims [p0, p0 +
 * cols), transposed in registers (a scalar pack was 4% of T2T-ViT's
 * 3136-key attention: its 64-key chunks are packed once per query block). */
static void pack_tile(AttnIR *a, LLVMBuilderRef b, LLVMValueRef k, LLVMValueRef kt,
                      LLVMValueRef j0, LLVMValueRef p0, int rows, int cols) {
  LLVMValueRef r[64];
  for (int t = 0; t < a->vf; t++) {
    if (t >= rows) {
      r[t] = LLVMConstNull(a->vec);
      continue;
    }
    LLVMValueRef row = LLVMBuildAdd(b, j0, i64c(a, t), "");
    LLVMValueRef off = LLVMBuildAdd(b, LLVMBuildMul(b, row, i64c(a, a->k_ld), ""), p0, "");
    r[t] = vl_load(a->c, b, a->vec, k, off, cols, NULL);
  }
  vt_transpose_regs(a->c, b, r, a->vf);
  for (int t = 0; t < cols; t++) {
    LLVMValueRef dim = LLVMBuildAdd(b, p0, i64c(a, t), "");
    LLVMValueRef off = LLVMBuildAdd(b, LLVMBuildMul(b, dim, i64c(a, a->ktld), ""), j0, "");
    vl_store(a->c, b, r[t], kt, off, rows);
  }
}

/* The dims of one block of `rows` keys from j0. */
static void pack_keys(AttnIR *a, LLVMBuilderRef b, LLVMValueRef k, LLVMValueRef kt,
                      LLVMValueRef j0, int rows) {
  int64_t d = a->p->d, full = d - d % a->vf;
  if (full > 0) {
    VlLoop lp;
    LLVMValueRef p0 = vl_loop_begin(a->c, b, i64c(a, 0), i64c(a, full), a->vf, &lp);
    pack_tile(a, b, k, kt, j0, p0, rows, a->vf);
    vl_loop_end(a->c, b, &lp);
  }
  if (d % a->vf) pack_tile(a, b, k, kt, j0, i64c(a, full), rows, (int)(d % a->vf));
}

/* Kt[p][j] = K[j][p] for the kn keys of a chunk starting at row k. */
static void emit_pack(AttnIR *a, LLVMBuilderRef b, LLVMValueRef k, LLVMValueRef kt, int64_t kn) {
  int64_t full = kn - kn % a->vf;
  if (full > 0) {
    VlLoop lj;
    LLVMValueRef j0 = vl_loop_begin(a->c, b, i64c(a, 0), i64c(a, full), a->vf, &lj);
    pack_keys(a, b, k, kt, j0, a->vf);
    vl_loop_end(a->c, b, &lj);
  }
  if (kn % a->vf) pack_keys(a, b, k, kt, i64c(a, full), (int)(kn % a->vf));
}

/* The driver's values for one leading index. */
typedef struct Driver {
  LLVMValueRef q, k, v, bias, out; /* bases for this leading index */
  LLVMValueRef kt, obuf, mst, lst; /* stack buffers */
  bool one_chunk;                  /* Kt packed once per leading index */
  LLVMValueRef rows[2][2];         /* [last chunk][tail tile] */
  LLVMValueRef whole[2];           /* whole-row functions [tail tile], or NULL */
} Driver;

/* Calls rows for the tile of rows [r0, r0 + tile) of the block starting at
 * query row i0, against the chunk starting at key c0. */
static void call_rows(AttnIR *a, LLVMBuilderRef b, const Driver *dr, LLVMValueRef rows,
                      LLVMValueRef i0, LLVMValueRef r0, LLVMValueRef c0) {
  const AttnPlan *p = a->p;
  LLVMValueRef qi = LLVMBuildAdd(b, i0, r0, "");
  LLVMValueRef args[7];
  args[0] = gep(a, b, dr->q, LLVMBuildMul(b, qi, i64c(a, a->q_ld), ""));
  args[1] = dr->kt;
  args[2] = gep(a, b, dr->v, LLVMBuildMul(b, c0, i64c(a, a->v_ld), ""));
  args[3] = p->has_bias
                ? gep(a, b, dr->bias,
                      LLVMBuildAdd(b, LLVMBuildMul(b, qi, i64c(a, p->bias_sn), ""),
                                   LLVMBuildMul(b, c0, i64c(a, p->bias_sm), ""), ""))
                : LLVMConstNull(LLVMPointerTypeInContext(a->c->ctx, 0));
  args[4] = gep(a, b, dr->obuf, LLVMBuildMul(b, r0, i64c(a, a->ostride), ""));
  args[5] = gep(a, b, dr->mst, r0);
  args[6] = gep(a, b, dr->lst, LLVMBuildMul(b, r0, i64c(a, a->vf), ""));
  LLVMBuildCall2(b, LLVMGlobalGetValueType(rows), rows, args, 7, "");
}

/* One key chunk of kn keys from c0 for the `rows` query rows from i0. */
static void emit_chunk(AttnIR *a, LLVMBuilderRef b, const Driver *dr, LLVMValueRef i0,
                       int64_t rows, LLVMValueRef c0, int64_t kn, int last) {
  if (!dr->one_chunk)
    emit_pack(a, b, gep(a, b, dr->k, LLVMBuildMul(b, c0, i64c(a, a->k_ld), "")), dr->kt, kn);
  int64_t tiles = rows / a->qr, tail = rows % a->qr;
  if (tiles > 0) {
    VlLoop lt;
    LLVMValueRef t = vl_loop_begin(a->c, b, i64c(a, 0), i64c(a, tiles), 1, &lt);
    call_rows(a, b, dr, dr->rows[last][0], i0, LLVMBuildMul(b, t, i64c(a, a->qr), ""), c0);
    vl_loop_end(a->c, b, &lt);
  }
  if (tail > 0) call_rows(a, b, dr, dr->rows[last][1], i0, i64c(a, tiles * a->qr), c0);
}

/* The query block of `rows` rows from i0 by whole-row tiles. */
static void emit_qblock_whole(AttnIR *a, LLVMBuilderRef b, const Driver *dr, LLVMValueRef i0,
                              int64_t rows) {
  const AttnPlan *p = a->p;
  int64_t tiles = rows / a->qr, tail = rows % a->qr;
  for (int t = 0; t < 2; t++) {
    if (t == 0 ? tiles == 0 : tail == 0) continue;
    VlLoop lt;
    LLVMValueRef r0 = i64c(a, tiles * a->qr);
    if (t == 0)
      r0 = LLVMBuildMul(b, vl_loop_begin(a->c, b, i64c(a, 0), i64c(a, tiles), 1, &lt),
                        i64c(a, a->qr), "");
    LLVMValueRef qi = LLVMBuildAdd(b, i0, r0, "");
    LLVMValueRef args[6];
    args[0] = gep(a, b, dr->q, LLVMBuildMul(b, qi, i64c(a, a->q_ld), ""));
    args[1] = dr->kt;
    args[2] = dr->v;
    args[3] = p->has_bias ? gep(a, b, dr->bias, LLVMBuildMul(b, qi, i64c(a, p->bias_sn), ""))
                          : LLVMConstNull(LLVMPointerTypeInContext(a->c->ctx, 0));
    args[4] = gep(a, b, dr->out, LLVMBuildMul(b, qi, i64c(a, a->o_ld), ""));
    args[5] = dr->k;
    LLVMBuildCall2(b, LLVMGlobalGetValueType(dr->whole[t]), dr->whole[t], args, 6, "");
    if (t == 0) vl_loop_end(a->c, b, &lt);
  }
}

/* The query block of `rows` rows from i0: reset the state, stream every key
 * chunk, write O / l.  l == 0 only when every score of the row was -inf,
 * and then O == 0: NaN, as the reference. */
static void emit_qblock(AttnIR *a, LLVMBuilderRef b, const Driver *dr, LLVMValueRef i0,
                        int64_t rows) {
  CgCtx *c = a->c;
  const AttnPlan *p = a->p;
  zero_fill(a, b, dr->obuf, rows * a->ostride);
  zero_fill(a, b, dr->lst, rows * a->vf);
  VlLoop lr;
  LLVMValueRef r = vl_loop_begin(c, b, i64c(a, 0), i64c(a, rows), 1, &lr);
  LLVMBuildStore(b, LLVMConstReal(a->f32, -INFINITY), gep(a, b, dr->mst, r));
  vl_loop_end(c, b, &lr);

  int64_t nfc = p->m / a->ck, crem = p->m % a->ck;
  if (nfc == 1) {
    emit_chunk(a, b, dr, i0, rows, i64c(a, 0), a->ck, 0);
  } else if (nfc > 1) {
    VlLoop lc;
    LLVMValueRef ci = vl_loop_begin(c, b, i64c(a, 0), i64c(a, nfc), 1, &lc);
    emit_chunk(a, b, dr, i0, rows, LLVMBuildMul(b, ci, i64c(a, a->ck), ""), a->ck, 0);
    vl_loop_end(c, b, &lc);
  }
  if (crem > 0) emit_chunk(a, b, dr, i0, rows, i64c(a, nfc * a->ck), crem, 1);

  r = vl_loop_begin(c, b, i64c(a, 0), i64c(a, rows), 1, &lr);
  LLVMValueRef lv = LLVMBuildLoad2(b, a->vec, gep(a, b, dr->lst, LLVMBuildMul(b, r, i64c(a, a->vf), "")), "");
  LLVMSetAlignment(lv, 4);
  LLVMValueRef ls = vm_splat(c, b, vm_hsum(c, b, lv), a->vf);
  LLVMValueRef orow = gep(a, b, dr->obuf, LLVMBuildMul(b, r, i64c(a, a->ostride), ""));
  LLVMValueRef dst = gep(a, b, dr->out, LLVMBuildMul(b, LLVMBuildAdd(b, i0, r, ""), i64c(a, a->o_ld), ""));
  for (int64_t w = 0; w < a->nvv; w++) {
    LLVMValueRef o = LLVMBuildLoad2(b, a->vec, gep(a, b, orow, i64c(a, w * a->vf)), "");
    LLVMSetAlignment(o, 4);
    int64_t col = w * a->vf;
    int lanes = p->dv - col < a->vf ? (int)(p->dv - col) : a->vf;
    vl_store(c, b, LLVMBuildFDiv(b, o, ls, ""), dst, i64c(a, col), lanes);
  }
  vl_loop_end(c, b, &lr);
}

/* Element offset of leading index bt: from the plan's table, or dense. */
static LLVMValueRef lead_offset(AttnIR *a, LLVMBuilderRef b, LLVMValueRef bt, const int64_t *off,
                                LLVMValueRef tab, int64_t dense) {
  if (!off) return LLVMBuildMul(b, bt, i64c(a, dense), "");
  if (a->p->batches == 1) return i64c(a, off[0]);
  return LLVMBuildLoad2(b, a->i64, LLVMBuildGEP2(b, a->i64, tab, &bt, 1, ""), "");
}

Status attn_emit(CgCtx *c, const AttnPlan *p, LLVMValueRef q, LLVMValueRef k, LLVMValueRef v,
                 LLVMValueRef bias, LLVMValueRef out, Error *err) {
  if (!attn_plan_fits(c, p) || (p->has_bias && (!bias || (p->batches > 1 && !p->b_off))))
    return err_set(err, ST_INTERNAL, "bad attention plan");
  AttnIR a;
  attn_ir_init(&a, c, p);
  Driver dr = {.one_chunk = p->m == a.ck};
  int64_t nrem = p->n % a.qr, crem = p->m % a.ck;
  bool whole = dr.one_chunk && a.qr * a.ktld * 4 <= ATTN_SCORES_MAX_BYTES;
  if (whole) {
    /* No state bounds the query block: size it for at least 16 units
     * (work for every thread) in whole tiles. */
    int64_t tiles = (p->n + a.qr - 1) / a.qr;
    int64_t nblk = p->batches >= 16 ? 1 : (16 + p->batches - 1) / p->batches;
    if (nblk > tiles) nblk = tiles;
    a.qb = (tiles + nblk - 1) / nblk * a.qr;
    if (a.qb > p->n) a.qb = p->n;
    dr.whole[0] = p->n >= a.qr ? emit_rows_whole(&a, a.qr) : NULL;
    dr.whole[1] = nrem > 0 ? emit_rows_whole(&a, (int)nrem) : NULL;
  }
  for (int last = 0; last < 2 && !whole; last++) {
    int64_t kn = last ? crem : a.ck;
    if (kn == 0 || (!last && p->m < a.ck)) continue;
    dr.rows[last][0] = p->n >= a.qr ? emit_rows(&a, a.qr, kn) : NULL;
    dr.rows[last][1] = nrem > 0 ? emit_rows(&a, (int)nrem, kn) : NULL;
  }

  LLVMValueRef fn, lo, hi;
  LLVMBuilderRef b;
  cg_begin_par_kernel(c, "attention", 5, true, &fn, &b, &lo, &hi);
  LLVMValueRef pq = LLVMGetParam(fn, 0), pk = LLVMGetParam(fn, 1), pv = LLVMGetParam(fn, 2),
               pb = LLVMGetParam(fn, 3), po = LLVMGetParam(fn, 4);
  dr.kt = stack_array(&a, b, p->d * a.ktld);
  zero_fill(&a, b, dr.kt, p->d * a.ktld);
  if (!whole) {
    dr.obuf = stack_array(&a, b, a.qb * a.ostride);
    dr.mst = stack_array(&a, b, a.qb);
    dr.lst = stack_array(&a, b, a.qb * a.vf);
  }
  LLVMValueRef boff_tab = NULL;
  if (p->has_bias && p->batches > 1)
    boff_tab = cg_const_blob(c, p->b_off, (size_t)p->batches * sizeof(int64_t), "attn_boff");
  const int64_t *const offsets[4] = {p->q_off, p->k_off, p->v_off, p->o_off};
  LLVMValueRef offs[4] = {NULL, NULL, NULL, NULL};
  for (int i = 0; i < 4; i++)
    if (offsets[i])
      offs[i] = cg_const_blob(c, offsets[i], (size_t)p->batches * sizeof(int64_t), "attn_off");

  /* Units: query blocks of every leading index; each task has its own
   * online-softmax state and Kt buffer on its stack. */
  int64_t nqb = p->n / a.qb, qrem = p->n % a.qb;
  int64_t dims[2] = {p->batches, nqb + (qrem > 0)};
  VlNest ns;
  vl_nest_begin(c, b, &ns, 2, dims, lo, hi);
  LLVMValueRef bt = vl_nest_level(c, b, &ns);
  dr.q = gep(&a, b, pq, lead_offset(&a, b, bt, p->q_off, offs[0], p->n * p->d));
  dr.k = gep(&a, b, pk, lead_offset(&a, b, bt, p->k_off, offs[1], p->m * p->d));
  dr.v = gep(&a, b, pv, lead_offset(&a, b, bt, p->v_off, offs[2], p->m * p->dv));
  dr.bias = pb;
  if (boff_tab) {
    LLVMValueRef bo = LLVMBuildLoad2(b, a.i64, LLVMBuildGEP2(b, a.i64, boff_tab, &bt, 1, ""), "");
    dr.bias = gep(&a, b, pb, bo);
  } else if (p->has_bias && p->b_off) {
    dr.bias = gep(&a, b, pb, i64c(&a, p->b_off[0]));
  }
  dr.out = gep(&a, b, po, lead_offset(&a, b, bt, p->o_off, offs[3], p->n * p->dv));
  /* Once per leading index a task visits, not per query block. */
  if (dr.one_chunk) emit_pack(&a, b, dr.k, dr.kt, p->m);
  LLVMValueRef qi = vl_nest_level(c, b, &ns);
  LLVMValueRef i0 = LLVMBuildMul(b, qi, i64c(&a, a.qb), "");
  VlIf f;
  if (nqb > 0 && qrem > 0) vl_if_begin(c, b, LLVMBuildICmp(b, LLVMIntSLT, qi, i64c(&a, nqb), ""), &f);
  void (*qblock)(AttnIR *, LLVMBuilderRef, const Driver *, LLVMValueRef, int64_t) =
      whole ? emit_qblock_whole : emit_qblock;
  if (nqb > 0) qblock(&a, b, &dr, i0, a.qb);
  if (nqb > 0 && qrem > 0) vl_if_else(c, b, &f);
  if (qrem > 0) qblock(&a, b, &dr, i0, qrem);
  if (nqb > 0 && qrem > 0) vl_if_end(c, b, &f);
  vl_nest_end(c, b, &ns);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);

  LLVMValueRef args[5] = {q, k, v, bias ? bias : LLVMConstNull(LLVMPointerTypeInContext(c->ctx, 0)),
                          out};
  double nm = (double)p->batches * (double)p->n * (double)p->m;
  double flops = 2.0 * nm * (double)(p->d + p->dv) + 20.0 * nm; /* two products, exp */
  double bytes = 4.0 * (double)p->batches *
                 (double)(p->n * (p->d + p->dv) + p->m * (p->d + p->dv));
  cg_call_par_kernel(c, fn, args, 5, vl_nest_units(2, dims), cg_cost_ns(c, flops, bytes));
  return ST_OK;
}
