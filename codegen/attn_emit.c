/*
 * IR for float32 attention (see attn_emit.h).  Two levels:
 *
 *   rows function   QR query rows of one leading index against all keys:
 *                   key blocks of KV vectors, each one a Q.Kt register tile
 *                   (SSA accumulators around the D loop), then the online
 *                   softmax update per row, then a P.V register tile
 *                   (accumulators around the key loop) on the row's output
 *                   kept in a stack buffer.  Variants for the query tail.
 *   driver          leading index -> transpose K into Kt -> row tiles.
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

#include "vec_loops.h"
#include "vec_math.h"


enum { MAXQR = 8, MAXKV = 4, MAXCV = 4 };

typedef struct AttnIR {
  CgCtx *c;
  const AttnPlan *p;
  int vf;          /* lanes */
  int qr, kv, cv;  /* rows per tile, key vectors per block, Dv vectors per P.V tile */
  int64_t kb;      /* keys per block: kv * vf */
  int64_t mpad;    /* Kt row length */
  int64_t nvv;     /* vectors per output row: ceil(dv / vf) */
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
  a->mpad = (p->m + a->vf - 1) / a->vf * a->vf;
  a->nvv = (p->dv + a->vf - 1) / a->vf;
  a->f32 = LLVMFloatTypeInContext(c->ctx);
  a->vec = LLVMVectorType(a->f32, (unsigned)a->vf);
  a->i64 = LLVMInt64TypeInContext(c->ctx);
}

bool attn_plan_fits(const CgCtx *c, const AttnPlan *p) {
  if (p->n < 1 || p->m < 1 || p->d < 1 || p->dv < 1 || p->batches < 1) return false;
  if (c->vf32 < 4 || c->vf32 > 16) return false;
  if (p->has_bias && p->bias_sm != 0 && p->bias_sm != 1) return false;
  int64_t mpad = (p->m + c->vf32 - 1) / c->vf32 * c->vf32;
  if (p->d > ATTN_KT_MAX_BYTES / 4 || mpad > ATTN_KT_MAX_BYTES / 4) return false;
  /* The rows function keeps QR output rows of Dv floats on the stack. */
  return p->d * mpad * 4 <= ATTN_KT_MAX_BYTES && p->dv <= 1024;
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
  LLVMValueRef q, kt, v, bias, out; /* parameters (tile bases) */
  LLVMValueRef mx[MAXQR], lsum[MAXQR], corr[MAXQR]; /* per-row allocas */
  LLVMValueRef pbuf;                /* [qr][kb] probabilities of the block */
  LLVMValueRef obuf;                /* [qr][nvv*vf] unnormalized output rows */
} RowState;

/* S = scale * Q.Kt (+ bias) for keys [j0, j0 + nvec*vf) of rows [0, qr);
 * lanes past `tail` of the last vector are -inf. */
static void block_scores(AttnIR *a, LLVMBuilderRef b, const RowState *st, int qr, LLVMValueRef j0,
                         int nvec, int tail, LLVMValueRef s[MAXQR][MAXKV]) {
  const AttnPlan *p = a->p;
  LLVMValueRef init[MAXQR * MAXKV], next[MAXQR * MAXKV];
  int nacc = qr * nvec;
  for (int i = 0; i < nacc; i++) init[i] = LLVMConstNull(a->vec);
  AccLoop l;
  acc_loop_open(a, b, &l, init, nacc);
  LLVMValueRef ktrow =
      gep(a, b, st->kt, LLVMBuildAdd(b, LLVMBuildMul(b, l.iv, i64c(a, a->mpad), ""), j0, ""));
  LLVMValueRef kv[MAXKV];
  for (int v = 0; v < nvec; v++) {
    /* Kt is zero padded to Mpad: full, aligned loads even in the tail. */
    kv[v] = LLVMBuildLoad2(b, a->vec, gep(a, b, ktrow, i64c(a, (int64_t)v * a->vf)), "");
    LLVMSetAlignment(kv[v], (unsigned)a->vf * 4);
  }
  for (int i = 0; i < qr; i++) {
    LLVMValueRef qi =
        load_f(a, b, st->q, LLVMBuildAdd(b, l.iv, i64c(a, (int64_t)i * p->d), ""));
    LLVMValueRef qs = vm_splat(a->c, b, qi, a->vf);
    for (int v = 0; v < nvec; v++) next[i * nvec + v] = vm_fma(a->c, b, qs, kv[v], l.phi[i * nvec + v]);
  }
  acc_loop_close(a, b, &l, next, p->d);

  LLVMValueRef scale = vm_const(a->c, a->vf, p->scale);
  LLVMValueRef ninf = vm_const(a->c, a->vf, -INFINITY);
  for (int i = 0; i < qr; i++)
    for (int v = 0; v < nvec; v++) {
      int lanes = v == nvec - 1 ? tail : a->vf;
      LLVMValueRef x = LLVMBuildFMul(b, next[i * nvec + v], scale, "");
      if (p->has_bias) {
        LLVMValueRef bv;
        if (p->bias_sm) {
          LLVMValueRef row = gep(a, b, st->bias, LLVMBuildAdd(b, j0, i64c(a, i * p->bias_sn), ""));
          bv = vl_load(a->c, b, a->vec, row, i64c(a, (int64_t)v * a->vf), lanes, NULL);
        } else {
          bv = vm_splat(a->c, b, load_f(a, b, st->bias, i64c(a, i * p->bias_sn)), a->vf);
        }
        x = LLVMBuildFAdd(b, x, bv, "");
      }
      if (lanes < a->vf) x = LLVMBuildSelect(b, valid_lanes(a, lanes), x, ninf, "");
      s[i][v] = x;
    }
}

/* Online softmax update of row i with the block's scores; stores the
 * block's probabilities in pbuf and the rescale factor in corr[i]. */
static void block_softmax(AttnIR *a, LLVMBuilderRef b, const RowState *st, int i,
                          LLVMValueRef s[MAXKV], int nvec) {
  CgCtx *c = a->c;
  LLVMValueRef bmv = s[0];
  for (int v = 1; v < nvec; v++) {
    LLVMValueRef args[2] = {bmv, s[v]};
    bmv = vm_intrin(c, b, "llvm.maxnum", args, 2);
  }
  LLVMValueRef bm = vm_hmax(c, b, bmv);
  LLVMValueRef mo = LLVMBuildLoad2(b, a->f32, st->mx[i], "");
  LLVMValueRef margs[2] = {mo, bm};
  LLVMValueRef mn = vm_intrin(c, b, "llvm.maxnum", margs, 2);
  LLVMValueRef all_ninf = LLVMBuildFCmp(b, LLVMRealOEQ, mn, LLVMConstReal(a->f32, -INFINITY), "");
  LLVMValueRef mu = LLVMBuildSelect(b, all_ninf, LLVMConstReal(a->f32, 0.0), mn, "");
  LLVMValueRef cr = vm_exp(c, b, LLVMBuildFSub(b, mo, mu, ""));
  LLVMValueRef mus = vm_splat(c, b, mu, a->vf);
  LLVMValueRef sum = NULL;
  for (int v = 0; v < nvec; v++) {
    LLVMValueRef e = vm_exp(c, b, LLVMBuildFSub(b, s[v], mus, ""));
    LLVMValueRef dst = gep(a, b, st->pbuf, i64c(a, (int64_t)i * a->kb + (int64_t)v * a->vf));
    LLVMSetAlignment(LLVMBuildStore(b, e, dst), 4);
    sum = sum ? LLVMBuildFAdd(b, sum, e, "") : e;
  }
  LLVMValueRef lo = LLVMBuildLoad2(b, a->vec, st->lsum[i], "");
  LLVMBuildStore(b, vm_fma(c, b, lo, vm_splat(c, b, cr, a->vf), sum), st->lsum[i]);
  LLVMBuildStore(b, mn, st->mx[i]);
  LLVMBuildStore(b, cr, st->corr[i]);
}

/* O[rows, vectors cs..cs+cn) = corr * O + P[:, 0..kn) . V[j0.., ...]. */
static void block_pv(AttnIR *a, LLVMBuilderRef b, const RowState *st, int qr, LLVMValueRef j0,
                     int64_t kn, int64_t cs, int cn) {
  const AttnPlan *p = a->p;
  int64_t ostride = a->nvv * a->vf;
  LLVMValueRef init[MAXQR * MAXKV], next[MAXQR * MAXKV];
  for (int i = 0; i < qr; i++) {
    LLVMValueRef cr = vm_splat(a->c, b, LLVMBuildLoad2(b, a->f32, st->corr[i], ""), a->vf);
    for (int w = 0; w < cn; w++) {
      LLVMValueRef o = LLVMBuildLoad2(
          b, a->vec, gep(a, b, st->obuf, i64c(a, i * ostride + (cs + w) * a->vf)), "");
      LLVMSetAlignment(o, 4);
      init[i * cn + w] = LLVMBuildFMul(b, o, cr, "");
    }
  }
  AccLoop l;
  acc_loop_open(a, b, &l, init, qr * cn);
  LLVMValueRef vrow = gep(a, b, st->v,
                          LLVMBuildMul(b, LLVMBuildAdd(b, j0, l.iv, ""), i64c(a, p->dv), ""));
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

/* void rows(q, kt, v, bias, out): qr query rows against all keys. */
static LLVMValueRef emit_rows(AttnIR *a, int qr) {
  CgCtx *c = a->c;
  const AttnPlan *p = a->p;
  LLVMValueRef fn;
  LLVMBuilderRef b;
  cg_begin_kernel(c, "attention_rows", 5, true, &fn, &b);
  RowState st;
  st.q = LLVMGetParam(fn, 0);
  st.kt = LLVMGetParam(fn, 1);
  st.v = LLVMGetParam(fn, 2);
  st.bias = LLVMGetParam(fn, 3);
  st.out = LLVMGetParam(fn, 4);
  int64_t ostride = a->nvv * a->vf;
  st.pbuf = stack_array(a, b, qr * a->kb);
  st.obuf = stack_array(a, b, qr * ostride);
  for (int i = 0; i < qr; i++) {
    st.mx[i] = vl_alloca(c, b, a->f32);
    st.corr[i] = vl_alloca(c, b, a->f32);
    st.lsum[i] = vl_alloca(c, b, a->vec);
    LLVMBuildStore(b, LLVMConstReal(a->f32, -INFINITY), st.mx[i]);
    LLVMBuildStore(b, LLVMConstNull(a->vec), st.lsum[i]);
  }
  zero_fill(a, b, st.obuf, qr * ostride);

  int64_t nfull = p->m / a->kb, rem = p->m % a->kb;
  if (nfull > 0) {
    VlLoop lp;
    LLVMValueRef jb = vl_loop_begin(c, b, i64c(a, 0), i64c(a, nfull), 1, &lp);
    emit_block(a, b, &st, qr, LLVMBuildMul(b, jb, i64c(a, a->kb), ""), a->kv, a->kb);
    vl_loop_end(c, b, &lp);
  }
  if (rem > 0)
    emit_block(a, b, &st, qr, i64c(a, nfull * a->kb), (int)((rem + a->vf - 1) / a->vf), rem);

  /* O / l: l == 0 only when every score was -inf, and then O == 0. */
  for (int i = 0; i < qr; i++) {
    LLVMValueRef l = vm_hsum(c, b, LLVMBuildLoad2(b, a->vec, st.lsum[i], ""));
    LLVMValueRef ls = vm_splat(c, b, l, a->vf);
    for (int64_t w = 0; w < a->nvv; w++) {
      LLVMValueRef o = LLVMBuildLoad2(
          b, a->vec, gep(a, b, st.obuf, i64c(a, i * ostride + w * a->vf)), "");
      LLVMSetAlignment(o, 4);
      int64_t col = w * a->vf;
      int lanes = p->dv - col < a->vf ? (int)(p->dv - col) : a->vf;
      vl_store(c, b, LLVMBuildFDiv(b, o, ls, ""), st.out, i64c(a, i * p->dv + col), lanes);
    }
  }
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return fn;
}

/* Kt[p][j] = K[j][p] for j < M (the padding stays zero). */
static void emit_pack(AttnIR *a, LLVMBuilderRef b, LLVMValueRef k, LLVMValueRef kt) {
  const AttnPlan *p = a->p;
  VlLoop lj, lp;
  LLVMValueRef j = vl_loop_begin(a->c, b, i64c(a, 0), i64c(a, p->m), 1, &lj);
  LLVMValueRef krow = gep(a, b, k, LLVMBuildMul(b, j, i64c(a, p->d), ""));
  LLVMValueRef pp = vl_loop_begin(a->c, b, i64c(a, 0), i64c(a, p->d), 1, &lp);
  LLVMValueRef x = load_f(a, b, krow, pp);
  LLVMValueRef dst = gep(a, b, kt, LLVMBuildAdd(b, LLVMBuildMul(b, pp, i64c(a, a->mpad), ""), j, ""));
  LLVMBuildStore(b, x, dst);
  vl_loop_end(a->c, b, &lp);
  vl_loop_end(a->c, b, &lj);
}

static void call_rows(AttnIR *a, LLVMBuilderRef b, LLVMValueRef rows, LLVMValueRef it,
                      const LLVMValueRef base[5], LLVMValueRef kt) {
  const AttnPlan *p = a->p;
  LLVMValueRef i0 = LLVMBuildMul(b, it, i64c(a, a->qr), "");
  LLVMValueRef args[5];
  args[0] = gep(a, b, base[0], LLVMBuildMul(b, i0, i64c(a, p->d), ""));
  args[1] = kt;
  args[2] = base[2];
  args[3] = p->has_bias ? gep(a, b, base[3], LLVMBuildMul(b, i0, i64c(a, p->bias_sn), ""))
                        : LLVMConstNull(LLVMPointerTypeInContext(a->c->ctx, 0));
  args[4] = gep(a, b, base[4], LLVMBuildMul(b, i0, i64c(a, p->dv), ""));
  LLVMBuildCall2(b, LLVMGlobalGetValueType(rows), rows, args, 5, "");
}

Status attn_emit(CgCtx *c, const AttnPlan *p, LLVMValueRef q, LLVMValueRef k, LLVMValueRef v,
                 LLVMValueRef bias, LLVMValueRef out, Error *err) {
  if (!attn_plan_fits(c, p) || (p->has_bias && (!bias || (p->batches > 1 && !p->b_off))))
    return err_set(err, ST_INTERNAL, "bad attention plan");
  AttnIR a;
  attn_ir_init(&a, c, p);
  int64_t nfull = p->n / a.qr, nrem = p->n % a.qr;
  LLVMValueRef rows_full = nfull > 0 ? emit_rows(&a, a.qr) : NULL;
  LLVMValueRef rows_tail = nrem > 0 ? emit_rows(&a, (int)nrem) : NULL;

  LLVMValueRef fn;
  LLVMBuilderRef b;
  cg_begin_kernel(c, "attention", 5, true, &fn, &b);
  LLVMValueRef pq = LLVMGetParam(fn, 0), pk = LLVMGetParam(fn, 1), pv = LLVMGetParam(fn, 2),
               pb = LLVMGetParam(fn, 3), po = LLVMGetParam(fn, 4);
  LLVMValueRef kt = stack_array(&a, b, p->d * a.mpad);
  zero_fill(&a, b, kt, p->d * a.mpad);
  LLVMValueRef boff_tab = NULL;
  if (p->has_bias && p->batches > 1)
    boff_tab = cg_const_blob(c, p->b_off, (size_t)p->batches * sizeof(int64_t), "attn_boff");

  VlLoop lb;
  LLVMValueRef bt = vl_loop_begin(c, b, i64c(&a, 0), i64c(&a, p->batches), 1, &lb);
  LLVMValueRef base[5];
  base[0] = gep(&a, b, pq, LLVMBuildMul(b, bt, i64c(&a, p->n * p->d), ""));
  base[1] = gep(&a, b, pk, LLVMBuildMul(b, bt, i64c(&a, p->m * p->d), ""));
  base[2] = gep(&a, b, pv, LLVMBuildMul(b, bt, i64c(&a, p->m * p->dv), ""));
  base[3] = pb;
  if (boff_tab) {
    LLVMValueRef bo = LLVMBuildLoad2(b, a.i64, LLVMBuildGEP2(b, a.i64, boff_tab, &bt, 1, ""), "");
    base[3] = gep(&a, b, pb, bo);
  } else if (p->has_bias && p->b_off) {
    base[3] = gep(&a, b, pb, i64c(&a, p->b_off[0]));
  }
  base[4] = gep(&a, b, po, LLVMBuildMul(b, bt, i64c(&a, p->n * p->dv), ""));
  emit_pack(&a, b, base[1], kt);
  if (rows_full) {
    VlLoop lr;
    LLVMValueRef it = vl_loop_begin(c, b, i64c(&a, 0), i64c(&a, nfull), 1, &lr);
    call_rows(&a, b, rows_full, it, base, kt);
    vl_loop_end(c, b, &lr);
  }
  if (rows_tail) call_rows(&a, b, rows_tail, i64c(&a, nfull), base, kt);
  vl_loop_end(c, b, &lb);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);

  LLVMValueRef args[5] = {q, k, v, bias ? bias : LLVMConstNull(LLVMPointerTypeInContext(c->ctx, 0)),
                          out};
  cg_call_kernel(c, fn, args, 5);
  return ST_OK;
}
