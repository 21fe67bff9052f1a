/*
 * Vector float32 transcendental functions as LLVM IR; see vec_math.h.
 *
 * The polynomial coefficients were fitted for onnxc by Chebyshev
 * interpolation in double (Chebyshev nodes give a near-minimax fit) of the
 * reduced functions named above each table, then checked with float32
 * coefficients over the whole reduced interval.  Each function works on
 * |x| or a reduced argument and fixes signs and special values with
 * selects, so no lane takes a branch and NaN stays NaN.
 */
#include "vec_math.h"

#include <math.h>
#include <string.h>

/* (exp(r) - 1 - r) / r^2 on |r| <= ln2/2: max rel error 9e-9. */
static const double exp_poly[6] = {0.50000000134577327,   0.16666666681613856,
                                   0.041666465006041056,  0.0083333109346135966,
                                   0.0013933641031317913, 0.00019890980753493068};
/* (log1p(f) - f + f^2/2) / f^3 on f in [sqrt(1/2)-1, sqrt(2)-1]: 7e-8. */
static const double log_poly[9] = {0.33333331180031778, -0.24999996957953693, 0.20000715748784648,
                                   -0.1666780231929105, 0.14249057647698082,  -0.12425687336031598,
                                   0.11685419912964573, -0.11479733816895561, 0.069716114609036553};
/* (tanh(x)/x - 1) / x^2 as a function of y = x^2 on [0, 0.625^2]: 4e-8. */
static const double tanh_poly[6] = {-0.33333333172143498,   0.13333303557031659,
                                    -0.053959259590425065,  0.021768918716475367,
                                    -0.0083439456632486975, 0.0022927449401041666};
/* erf(x)/x as a function of y = x^2 on [0, 1]: 6e-8 relative. */
static const double erf_poly[6] = {1.1283791261787377,    -0.37612343775330342,
                                   0.11280316652524824,   -0.026715054232802515,
                                   0.0049217620284830827, -0.00056480598679324123};
/* erfcx(z) = exp(z^2) erfc(z) for z in [1, 6] as a polynomial in
 * u = 2.4/z - 1.4 (t = 1/z mapped from [1/6, 1] to [-1, 1]): 7e-8. */
static const double erfc_poly[11] = {
    0.2897221163234644,     0.16536271171998299,     -0.030831051299237151,
    0.0028206941643397917,  0.0010344508844187454,   -0.00073588523720036214,
    0.00026546058799050494, -6.1216488364011155e-05, -3.5364986631268964e-06,
    1.71985070509932e-05,   -7.3682486599386205e-06};

/* ---- helpers ---------------------------------------------------------- */

LLVMTypeRef vm_f32(CgCtx *c) { return LLVMFloatTypeInContext(c->ctx); }
LLVMTypeRef vm_vec(CgCtx *c, int n) { return LLVMVectorType(vm_f32(c), (unsigned)n); }

/* 0 for a scalar, else the lane count. */
static int lanes(LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? (int)LLVMGetVectorSize(t) : 0;
}

int vm_width(LLVMValueRef v) {
  int n = lanes(v);
  return n ? n : 1;
}

static LLVMValueRef splat_const(LLVMValueRef s, int n) {
  if (n == 0) return s;
  LLVMValueRef e[64];
  if (n > 64) n = 64;
  for (int i = 0; i < n; i++)
    e[i] = s;
  return LLVMConstVector(e, (unsigned)n);
}

LLVMValueRef vm_const(CgCtx *c, int n, double v) {
  return splat_const(LLVMConstReal(vm_f32(c), v), n);
}

static LLVMValueRef const_i32(CgCtx *c, int n, long long v) {
  return splat_const(LLVMConstInt(LLVMInt32TypeInContext(c->ctx), (unsigned long long)v, 1), n);
}

static LLVMTypeRef i32_like(CgCtx *c, int n) {
  LLVMTypeRef i = LLVMInt32TypeInContext(c->ctx);
  return n ? LLVMVectorType(i, (unsigned)n) : i;
}

LLVMValueRef vm_splat(CgCtx *c, LLVMBuilderRef b, LLVMValueRef s, int n) {
  LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(s), (unsigned)n);
  LLVMValueRef zero = LLVMConstInt(LLVMInt32TypeInContext(c->ctx), 0, 0);
  LLVMValueRef v = LLVMBuildInsertElement(b, LLVMGetUndef(vt), s, zero, "");
  LLVMValueRef mask = LLVMConstNull(LLVMVectorType(LLVMInt32TypeInContext(c->ctx), (unsigned)n));
  return LLVMBuildShuffleVector(b, v, LLVMGetUndef(vt), mask, "");
}

LLVMValueRef vm_intrin(CgCtx *c, LLVMBuilderRef b, const char *name, LLVMValueRef const args[],
                       int nargs) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMTypeRef ty = LLVMTypeOf(args[0]);
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->mod, id, &ty, 1);
  LLVMTypeRef fty = LLVMIntrinsicGetType(c->ctx, id, &ty, 1);
  return LLVMBuildCall2(b, fty, f, (LLVMValueRef *)args, (unsigned)nargs, "");
}

LLVMValueRef vm_fma(CgCtx *c, LLVMBuilderRef b, LLVMValueRef a, LLVMValueRef x, LLVMValueRef y) {
  LLVMValueRef args[3] = {a, x, y};
  return vm_intrin(c, b, "llvm.fmuladd", args, 3);
}

static LLVMValueRef fabs_(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  return vm_intrin(c, b, "llvm.fabs", &x, 1);
}

static LLVMValueRef copysign_(CgCtx *c, LLVMBuilderRef b, LLVMValueRef mag, LLVMValueRef sgn) {
  LLVMValueRef a[2] = {mag, sgn};
  return vm_intrin(c, b, "llvm.copysign", a, 2);
}

/* Horner on a polynomial with double coefficients (rounded to float). */
static LLVMValueRef poly(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x, const double *k, int nk) {
  int n = lanes(x);
  LLVMValueRef r = vm_const(c, n, k[nk - 1]);
  for (int i = nk - 2; i >= 0; i--)
    r = vm_fma(c, b, r, x, vm_const(c, n, k[i]));
  return r;
}

static LLVMValueRef sel_cmp(CgCtx *c, LLVMBuilderRef b, LLVMRealPredicate p, LLVMValueRef x,
                            LLVMValueRef y, LLVMValueRef t, LLVMValueRef f) {
  (void)c;
  return LLVMBuildSelect(b, LLVMBuildFCmp(b, p, x, y, ""), t, f, "");
}

LLVMValueRef vm_clamp(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x, double lo, double hi) {
  int n = lanes(x);
  LLVMValueRef l = vm_const(c, n, lo), h = vm_const(c, n, hi);
  x = sel_cmp(c, b, LLVMRealOLT, x, l, l, x);
  return sel_cmp(c, b, LLVMRealOGT, x, h, h, x);
}

/* a > x ? a : x: one instruction on x86 (MAXPS), where llvm.maxnum takes
 * three (max, unordered compare, blend).  NaN handling differs: a NaN in
 * x is returned, a NaN in a is dropped; callers whose NaN inputs reach the
 * result anyway (softmax: exp(NaN - m) is NaN) may take it. */
LLVMValueRef vm_max_fast(CgCtx *c, LLVMBuilderRef b, LLVMValueRef a, LLVMValueRef x) {
  (void)c;
  return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, a, x, ""), a, x, "");
}

/* Halves the vector until one lane is left; intrin NULL: sum, "max_fast":
 * vm_max_fast, else the named two-operand intrinsic. */
LLVMValueRef vm_hreduce(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v, const char *intrin) {
  int n = lanes(v);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(c->ctx);
  while (n > 1) {
    int h = n / 2;
    LLVMValueRef lo_idx[32], hi_idx[32];
    for (int i = 0; i < h; i++) {
      lo_idx[i] = LLVMConstInt(i32, (unsigned)i, 0);
      hi_idx[i] = LLVMConstInt(i32, (unsigned)(i + h), 0);
    }
    LLVMValueRef lo = LLVMBuildShuffleVector(b, v, v, LLVMConstVector(lo_idx, (unsigned)h), "");
    LLVMValueRef hi = LLVMBuildShuffleVector(b, v, v, LLVMConstVector(hi_idx, (unsigned)h), "");
    if (intrin && strcmp(intrin, "max_fast") == 0) {
      v = vm_max_fast(c, b, lo, hi);
    } else if (intrin) {
      LLVMValueRef a[2] = {lo, hi};
      v = vm_intrin(c, b, intrin, a, 2);
    } else {
      v = LLVMBuildFAdd(b, lo, hi, "");
    }
    n = h;
  }
  if (lanes(v) == 0) return v;
  return LLVMBuildExtractElement(b, v, LLVMConstInt(i32, 0, 0), "");
}

LLVMValueRef vm_hsum(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v) {
  return vm_hreduce(c, b, v, NULL);
}
LLVMValueRef vm_hmax(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v) {
  return vm_hreduce(c, b, v, "llvm.maxnum");
}
LLVMValueRef vm_hmax_fast(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v) {
  return vm_hreduce(c, b, v, "max_fast");
}

/* ---- exp -------------------------------------------------------------- */

/* exp(x) = 2^k * exp(r), k = round(x / ln2), r = x - k ln2 (Cody-Waite
 * split so k*LN2_HI is exact).  2^k is applied as two factors 2^(k/2) so
 * results down to the subnormal range round only once and k = 128 still
 * overflows cleanly to inf.  k comes from the 1.5*2^23 shifter trick, which
 * leaves NaN lanes as NaN (fptosi would make them poison). */
/* p * 2^k by AVX-512's VSCALEFPS: one instruction for the eight of the
 * two-factor scaling below, and the same result (one rounding, subnormals
 * included).  Exp is the bulk of softmax, sigmoid, tanh and erf, so this
 * is felt in attention and in GELU/SiLU epilogues.  (vf32 == 16 only on
 * x86 with AVX-512F, which has the 512-bit form.) */
static LLVMValueRef scalef16(CgCtx *c, LLVMBuilderRef b, LLVMValueRef p, LLVMValueRef k) {
  static const char name[] = "llvm.x86.avx512.mask.scalef.ps.512";
  unsigned id = LLVMLookupIntrinsicID(name, sizeof name - 1);
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->mod, id, NULL, 0);
  LLVMTypeRef fty = LLVMIntrinsicGetType(c->ctx, id, NULL, 0);
  LLVMValueRef args[5] = {p, k, p, LLVMConstInt(LLVMInt16TypeInContext(c->ctx), 0xffff, 0),
                          LLVMConstInt(LLVMInt32TypeInContext(c->ctx), 4, 0)}; /* current rounding */
  return LLVMBuildCall2(b, fty, f, args, 5, "");
}

LLVMValueRef vm_lanes(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v, int from, int n) {
  LLVMValueRef idx[64];
  for (int i = 0; i < n; i++) idx[i] = LLVMConstInt(LLVMInt32TypeInContext(c->ctx), (unsigned)(from + i), 0);
  return LLVMBuildShuffleVector(b, v, v, LLVMConstVector(idx, (unsigned)n), "");
}

LLVMValueRef vm_concat(CgCtx *c, LLVMBuilderRef b, LLVMValueRef const parts[], int n) {
  LLVMValueRef level[16];
  for (int i = 0; i < n; i++) level[i] = parts[i];
  for (int m = n, w = lanes(parts[0]); m > 1; m /= 2, w *= 2)
    for (int s = 0; s < m / 2; s++) {
      LLVMValueRef idx[64];
      for (int i = 0; i < 2 * w; i++) idx[i] = LLVMConstInt(LLVMInt32TypeInContext(c->ctx), (unsigned)i, 0);
      level[s] = LLVMBuildShuffleVector(b, level[2 * s], level[2 * s + 1],
                                        LLVMConstVector(idx, (unsigned)(2 * w)), "");
    }
  return level[0];
}

/* scalef16 on a vector of 16, 32 or 64 lanes (the interleaved steps of
 * vec_map.c), one 512-bit slice at a time. */
static LLVMValueRef scalef(CgCtx *c, LLVMBuilderRef b, LLVMValueRef p, LLVMValueRef k) {
  int n = lanes(p);
  if (n == 16) return scalef16(c, b, p, k);
  LLVMValueRef part[4];
  for (int s = 0; s < n / 16; s++)
    part[s] = scalef16(c, b, vm_lanes(c, b, p, 16 * s, 16), vm_lanes(c, b, k, 16 * s, 16));
  return vm_concat(c, b, part, n / 16);
}

LLVMValueRef vm_exp(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  LLVMTypeRef it = i32_like(c, n);
  const double shifter = 12582912.0; /* 1.5 * 2^23 */
  x = vm_clamp(c, b, x, -104.0, 89.0);
  LLVMValueRef kf = vm_fma(c, b, x, vm_const(c, n, 1.4426950408889634), vm_const(c, n, shifter));
  LLVMValueRef k = LLVMBuildFSub(b, kf, vm_const(c, n, shifter), "");
  LLVMValueRef ki =
      LLVMBuildSub(b, LLVMBuildBitCast(b, kf, it, ""), const_i32(c, n, 0x4B400000), "");
  LLVMValueRef r = vm_fma(c, b, k, vm_const(c, n, -0.693145751953125), x);
  r = vm_fma(c, b, k, vm_const(c, n, -1.428606765330187e-06), r);
  LLVMValueRef r2 = LLVMBuildFMul(b, r, r, "");
  LLVMValueRef p = vm_fma(c, b, r2, poly(c, b, r, exp_poly, 6), r);
  p = LLVMBuildFAdd(b, p, vm_const(c, n, 1.0), "");
  if ((n == 16 || n == 32 || n == 64) && c->vf32 == 16) return scalef(c, b, p, k);
  LLVMValueRef k1 = LLVMBuildAShr(b, ki, const_i32(c, n, 1), "");
  LLVMValueRef k2 = LLVMBuildSub(b, ki, k1, "");
  LLVMValueRef s1 = LLVMBuildBitCast(
      b, LLVMBuildShl(b, LLVMBuildAdd(b, k1, const_i32(c, n, 127), ""), const_i32(c, n, 23), ""),
      LLVMTypeOf(x), "");
  LLVMValueRef s2 = LLVMBuildBitCast(
      b, LLVMBuildShl(b, LLVMBuildAdd(b, k2, const_i32(c, n, 127), ""), const_i32(c, n, 23), ""),
      LLVMTypeOf(x), "");
  return LLVMBuildFMul(b, LLVMBuildFMul(b, p, s1, ""), s2, "");
}

/* 2^f on f in [0, 1), relative error 1.6e-7 with float32 Horner steps
 * (a weighted least-squares fit brought to minimax by Lawson's method). */
static const double exp2_poly[6] = {0.9999999403953552, 0.6931530833244324,
                                    0.24015361070632935, 0.05582631751894951,
                                    0.008989340625703335, 0.0018775765784084797};

LLVMValueRef vm_exp2_softmax(CgCtx *c, LLVMBuilderRef b, LLVMValueRef t) {
  int n = lanes(t);
  if (!((n == 16 || n == 32 || n == 64) && c->vf32 == 16))
    return vm_exp(c, b, LLVMBuildFMul(b, t, vm_const(c, n, 0.6931471805599453), ""));
  /* -inf would make f = -inf - -inf; 2^-200 flushes to 0 anyway. */
  LLVMValueRef lo = vm_const(c, n, -200.0);
  t = sel_cmp(c, b, LLVMRealOLT, t, lo, lo, t);
  LLVMValueRef k = vm_intrin(c, b, "llvm.floor", &t, 1);
  LLVMValueRef f = LLVMBuildFSub(b, t, k, "");
  return scalef(c, b, poly(c, b, f, exp2_poly, 6), k);
}

/* ---- log -------------------------------------------------------------- */

/* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log x = e ln2 + log1p(m-1).
 * Subnormal inputs are scaled by 2^23 first.  Specials by select. */
LLVMValueRef vm_log(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  LLVMTypeRef it = i32_like(c, n);
  LLVMValueRef tiny = LLVMBuildFCmp(b, LLVMRealOLT, x, vm_const(c, n, 1.1754943508222875e-38), "");
  LLVMValueRef xs =
      LLVMBuildSelect(b, tiny, LLVMBuildFMul(b, x, vm_const(c, n, 8388608.0), ""), x, "");
  LLVMValueRef eadj = LLVMBuildSelect(b, tiny, const_i32(c, n, 23), const_i32(c, n, 0), "");
  LLVMValueRef bits =
      LLVMBuildSub(b, LLVMBuildBitCast(b, xs, it, ""), const_i32(c, n, 0x3F3504F3), "");
  LLVMValueRef e = LLVMBuildSub(b, LLVMBuildAShr(b, bits, const_i32(c, n, 23), ""), eadj, "");
  LLVMValueRef mb = LLVMBuildAdd(b, LLVMBuildAnd(b, bits, const_i32(c, n, 0x007FFFFF), ""),
                                 const_i32(c, n, 0x3F3504F3), "");
  LLVMValueRef f =
      LLVMBuildFSub(b, LLVMBuildBitCast(b, mb, LLVMTypeOf(x), ""), vm_const(c, n, 1.0), "");
  LLVMValueRef ef = LLVMBuildSIToFP(b, e, LLVMTypeOf(x), "");
  LLVMValueRef f2 = LLVMBuildFMul(b, f, f, "");
  LLVMValueRef y = LLVMBuildFMul(b, LLVMBuildFMul(b, f2, f, ""), poly(c, b, f, log_poly, 9), "");
  y = vm_fma(c, b, f2, vm_const(c, n, -0.5), y);
  y = vm_fma(c, b, ef, vm_const(c, n, -2.12194440054690583e-4), y);
  y = LLVMBuildFAdd(b, y, f, "");
  y = vm_fma(c, b, ef, vm_const(c, n, 0.693359375), y);
  double inf = INFINITY;
  y = sel_cmp(c, b, LLVMRealOEQ, x, vm_const(c, n, inf), vm_const(c, n, inf), y);
  y = sel_cmp(c, b, LLVMRealOEQ, x, vm_const(c, n, 0.0), vm_const(c, n, -inf), y);
  y = sel_cmp(c, b, LLVMRealOLT, x, vm_const(c, n, 0.0), vm_const(c, n, NAN), y);
  return sel_cmp(c, b, LLVMRealUNO, x, x, x, y);
}

/* ---- tanh, sigmoid ----------------------------------------------------- */

/* |x| < 0.625: x + x^3 P(x^2); else (1-e)/(1+e) with e = exp(-2|x|), which
 * saturates to 1 without overflow. */
LLVMValueRef vm_tanh(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  LLVMValueRef ax = fabs_(c, b, x);
  LLVMValueRef y = LLVMBuildFMul(b, x, x, "");
  LLVMValueRef small = vm_fma(c, b, LLVMBuildFMul(b, x, y, ""), poly(c, b, y, tanh_poly, 6), x);
  LLVMValueRef e = vm_exp(c, b, LLVMBuildFMul(b, ax, vm_const(c, n, -2.0), ""));
  LLVMValueRef one = vm_const(c, n, 1.0);
  LLVMValueRef big =
      LLVMBuildFDiv(b, LLVMBuildFSub(b, one, e, ""), LLVMBuildFAdd(b, one, e, ""), "");
  big = copysign_(c, b, big, x);
  return sel_cmp(c, b, LLVMRealOLT, ax, vm_const(c, n, 0.625), small, big);
}

/* e = exp(-|x|): 1/(1+e) for x >= 0, e/(1+e) below, so neither side
 * overflows and the left tail keeps its relative accuracy. */
LLVMValueRef vm_sigmoid(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  LLVMValueRef e = vm_exp(c, b, LLVMBuildFNeg(b, fabs_(c, b, x), ""));
  LLVMValueRef one = vm_const(c, n, 1.0);
  LLVMValueRef num = sel_cmp(c, b, LLVMRealOGE, x, vm_const(c, n, 0.0), one, e);
  return LLVMBuildFDiv(b, num, LLVMBuildFAdd(b, one, e, ""), "");
}

/* ---- erf --------------------------------------------------------------- */

/* erfc(z) for z >= 1 as exp(-z^2) * erfcx(z); z is clamped into the fitted
 * range [1, 6] for the polynomial only (beyond 6 the result is < 3e-17). */
static LLVMValueRef erfc_tail(CgCtx *c, LLVMBuilderRef b, LLVMValueRef az) {
  int n = lanes(az);
  LLVMValueRef zc = vm_clamp(c, b, az, 1.0, 6.0);
  LLVMValueRef u = vm_fma(c, b, LLVMBuildFDiv(b, vm_const(c, n, 2.4), zc, ""), vm_const(c, n, 1.0),
                          vm_const(c, n, -1.4));
  LLVMValueRef q = poly(c, b, u, erfc_poly, 11);
  LLVMValueRef e = vm_exp(c, b, LLVMBuildFNeg(b, LLVMBuildFMul(b, az, az, ""), ""));
  return LLVMBuildFMul(b, e, q, "");
}

/* |x| < 1: x P(x^2); else sign(x) (1 - erfc|x|). */
LLVMValueRef vm_erf(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  LLVMValueRef ax = fabs_(c, b, x);
  LLVMValueRef small = LLVMBuildFMul(b, x, poly(c, b, LLVMBuildFMul(b, x, x, ""), erf_poly, 6), "");
  LLVMValueRef big = LLVMBuildFSub(b, vm_const(c, n, 1.0), erfc_tail(c, b, ax), "");
  big = copysign_(c, b, big, x);
  return sel_cmp(c, b, LLVMRealOLT, ax, vm_const(c, n, 1.0), small, big);
}

/* erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), z >= 0: the Chebyshev
 * fit of Numerical Recipes (erfcc), fractional error < 1.2e-7 for every
 * z >= 0, so the tail of the normal CDF keeps its relative accuracy. */
static const double erfcc_poly[10] = {-1.26551223, 1.00002368, 0.37409196, 0.09678418,
                                      -0.18628806, 0.27886807, -1.13520398, 1.48851587,
                                      -0.82215223, 0.17087277};

/* x Phi(x), Phi(x) = erfc(-x/sqrt2)/2: one erfc of |x|/sqrt2 for both
 * signs (Phi = h for x < 0, 1 - h otherwise, h = erfc(|z|)/2) instead of
 * two branches evaluated and selected: about 30 vector operations instead
 * of 50, which is what a GELU epilogue costs per output vector (HRFormer's
 * FFN convolutions spent ~15% of the model's time there). */
#include "gelu_table.inc"

/* The table's interval count: y = 4|x| in [0, 31.5). */
#define GELU_N 32

/* Row j of gelu_table at the 32-entry indices idx (low 5 bits of each
 * lane), one VPERMI2PS per 16 lanes. */
static LLVMValueRef gelu_coef(CgCtx *c, LLVMBuilderRef b, LLVMValueRef idx, int j) {
  static const char name[] = "llvm.x86.avx512.vpermi2var.ps.512";
  unsigned id = LLVMLookupIntrinsicID(name, sizeof name - 1);
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->mod, id, NULL, 0);
  LLVMTypeRef fty = LLVMIntrinsicGetType(c->ctx, id, NULL, 0);
  LLVMValueRef half[2];
  for (int h = 0; h < 2; h++) {
    LLVMValueRef e[16];
    for (int i = 0; i < 16; i++) e[i] = LLVMConstReal(vm_f32(c), gelu_table[j][16 * h + i]);
    half[h] = LLVMConstVector(e, 16);
  }
  int n = lanes(idx);
  LLVMValueRef part[4];
  for (int s = 0; s < n / 16; s++) {
    LLVMValueRef args[3] = {half[0], n == 16 ? idx : vm_lanes(c, b, idx, 16 * s, 16), half[1]};
    part[s] = LLVMBuildCall2(b, fty, f, args, 3, "");
  }
  return n == 16 ? part[0] : vm_concat(c, b, part, n / 16);
}

/* x Phi(x) with h = erfc(|x|/sqrt2)/2 from a piecewise quartic: 32
 * intervals of y = 4|x| (scripts/gen-gelu-table.py), each lane's
 * coefficients picked from registers by VPERMI2PS.  The work is chosen
 * for the pipes a GEMM epilogue shares with its FMAs (two of Zen 4's four
 * vector pipes): y = 4|x| by VSCALEFPS, the interval and t = y - k by
 * adds, the range and sign masks by integer compares, all on the other
 * pipes; only the 4 Horner FMAs and the last multiply take FMA slots
 * (13 before: a multiply by 1/sqrt2, a quintic, float compares).  Past
 * the table (|x| >= 7.875) h is 0: h < 2e-15 there, and x = +inf gives
 * +inf, -inf gives NaN as the reference kernel does.  test_cg_vecmath
 * holds the error to 2e-6 of |GELU| plus 3e-8 everywhere (0.21 of it). */
static LLVMValueRef gelu_erf_table(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  LLVMTypeRef it = i32_like(c, n);
  const double shifter = 12582912.0; /* 1.5 * 2^23: its low mantissa bits become round(y) */
  LLVMValueRef y = scalef(c, b, fabs_(c, b, x), vm_const(c, n, 2.0));
  LLVMValueRef kf = LLVMBuildFAdd(b, y, vm_const(c, n, shifter), "");
  LLVMValueRef k = LLVMBuildFSub(b, kf, vm_const(c, n, shifter), "");
  LLVMValueRef t = LLVMBuildFSub(b, y, k, "");
  LLVMValueRef idx = LLVMBuildBitCast(b, kf, it, "");
  /* In the table: kf's bits are those of shifter + k with k <= 31; a
   * larger k, or y = inf / NaN, compares above as an unsigned integer. */
  LLVMValueRef last = LLVMConstInt(LLVMInt32TypeInContext(c->ctx), 0x4B400000u + GELU_N - 1, 0);
  LLVMValueRef lastv[64];
  for (int i = 0; i < n; i++) lastv[i] = last;
  LLVMValueRef inside = LLVMBuildICmp(b, LLVMIntULE, idx, LLVMConstVector(lastv, (unsigned)n), "");
  int deg = (int)(sizeof gelu_table / sizeof gelu_table[0]) - 1;
  LLVMValueRef p = gelu_coef(c, b, idx, deg);
  for (int j = deg - 1; j >= 0; j--) p = vm_fma(c, b, p, t, gelu_coef(c, b, idx, j));
  LLVMValueRef h = LLVMBuildSelect(b, inside, p, vm_const(c, n, 0.0), "");
  /* The sign bit, not x < 0: an integer compare, and -0 takes h(0) = 1/2. */
  LLVMValueRef neg = LLVMBuildICmp(b, LLVMIntSLT, LLVMBuildBitCast(b, x, it, ""),
                                   LLVMConstNull(it), "");
  LLVMValueRef phi = LLVMBuildSelect(b, neg, h, LLVMBuildFSub(b, vm_const(c, n, 1.0), h, ""), "");
  return LLVMBuildFMul(b, x, phi, "");
}

LLVMValueRef vm_gelu_erf(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  if (c->vf32 == 16 && (n == 16 || n == 32 || n == 64)) return gelu_erf_table(c, b, x);
  LLVMValueRef az = LLVMBuildFMul(b, fabs_(c, b, x), vm_const(c, n, 0.70710678118654752440), "");
  LLVMValueRef t = LLVMBuildFDiv(b, vm_const(c, n, 1.0),
                                 vm_fma(c, b, az, vm_const(c, n, 0.5), vm_const(c, n, 1.0)), "");
  LLVMValueRef arg = LLVMBuildFSub(b, poly(c, b, t, erfcc_poly, 10), LLVMBuildFMul(b, az, az, ""), "");
  LLVMValueRef h = LLVMBuildFMul(b, LLVMBuildFMul(b, t, vm_const(c, n, 0.5), ""), vm_exp(c, b, arg), "");
  LLVMValueRef phi = sel_cmp(c, b, LLVMRealOLT, x, vm_const(c, n, 0.0), h,
                             LLVMBuildFSub(b, vm_const(c, n, 1.0), h, ""));
  return LLVMBuildFMul(b, x, phi, "");
}

LLVMValueRef vm_gelu_tanh(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x) {
  int n = lanes(x);
  /* 2u = 2 sqrt(2/pi) x (1 + 0.044715 x^2) */
  LLVMValueRef x2 = LLVMBuildFMul(b, x, x, "");
  LLVMValueRef inner = vm_fma(c, b, x2, vm_const(c, n, 0.044715), vm_const(c, n, 1.0));
  LLVMValueRef u2 =
      LLVMBuildFMul(b, LLVMBuildFMul(b, x, vm_const(c, n, 1.5957691216057308), ""), inner, "");
  return LLVMBuildFMul(b, x, vm_sigmoid(c, b, u2), "");
}
