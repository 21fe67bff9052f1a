/*
 * onnxc's fused ops, created by the canonicalize and fuse-epilogues passes
 * (never read from a model).  Shape rules and reference kernels; the code
 * generators implement exactly these semantics.
 *
 * onnxc.FusedConv(X, W, B?, R?)
 *   Every Conv attribute (auto_pad, dilations, group, kernel_shape, pads,
 *   strides) with Conv's meaning, plus
 *     activation       string: "" | "Relu" | "Clip" | "LeakyRelu" |
 *                      "HardSigmoid" | "HardSwish" | "Sigmoid" | "SiLU" |
 *                      "Gelu" | "GeluTanh" | "Tanh"   (absent = "")
 *     activation_alpha float: Clip min, LeakyRelu alpha, HardSigmoid alpha
 *     activation_beta  float: Clip max, HardSigmoid beta
 *                      (absent: the ONNX op's default; Clip -inf / +inf)
 *     residual_first   int 0/1 (absent = 0)
 *   R, when present, has exactly the output's dtype and shape.
 *     residual_first=1:  Y = act(conv(X, W) + B + R)
 *     residual_first=0:  Y = act(conv(X, W) + B) + R
 * onnxc.FusedMatMul(A, B, Bias?, R?)
 *   A, B with MatMul semantics (numpy matmul, batch broadcasting); Bias has
 *   shape [N] (N = last dim of B; [1] when B is 1-D) and is added to every
 *   row; R broadcasts unidirectionally to the output (rank <= output rank,
 *   each dim 1 or equal).  Same activation attributes and residual_first:
 *     residual_first=1:  Y = act(A @ B + Bias + R), else act(A @ B + Bias) + R
 * onnxc.SiLU(X): Y = X * sigmoid(X).
 *
 * Activation formulas are those of the ONNX ops (Gelu: 0.5x(1+erf(x/sqrt2));
 * GeluTanh: 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))).  The kernels run the
 * plain eval_conv / eval_matmul into the output buffer and apply the
 * epilogue in place, in double, rounding once per element.  Float types only.
 */
#include "fused.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "ops.h"

const char *const fused_act_names[FACT_COUNT] = {
    "", "Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish",
    "Sigmoid", "SiLU", "Gelu", "GeluTanh", "Tanh",
};

bool fused_act_parse(const char *name, FusedAct *out) {
  for (int i = 0; i < FACT_COUNT; i++)
    if (strcmp(name, fused_act_names[i]) == 0) {
      *out = (FusedAct)i;
      return true;
    }
  return false;
}

double fused_act_default_alpha(FusedAct a) {
  switch (a) {
  case FACT_CLIP: return -INFINITY;
  case FACT_LEAKY_RELU: return 0.01;
  case FACT_HARD_SIGMOID: return 0.2;
  default: return 0;
  }
}

double fused_act_default_beta(FusedAct a) {
  switch (a) {
  case FACT_CLIP: return INFINITY;
  case FACT_HARD_SIGMOID: return 0.5;
  default: return 0;
  }
}

static double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static double clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

double fused_act_apply(FusedAct a, double x, double alpha, double beta) {
  switch (a) {
  case FACT_NONE: return x;
  case FACT_RELU: return x > 0 || x != x ? x : 0.0;
  case FACT_CLIP: return x < alpha ? alpha : (x > beta ? beta : x);
  case FACT_LEAKY_RELU: return x >= 0 ? x : alpha * x;
  case FACT_HARD_SIGMOID: return x != x ? x : clamp01(alpha * x + beta);
  case FACT_HARD_SWISH: return x != x ? x : x * clamp01(x / 6.0 + 0.5);
  case FACT_SIGMOID: return sigmoid(x);
  case FACT_SILU: return x * sigmoid(x);
  case FACT_GELU: return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440));
  case FACT_GELU_TANH: {
    const double k = 0.79788456080286535588; /* sqrt(2/pi) */
    return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
  }
  case FACT_TANH: return tanh(x);
  case FACT_COUNT: break;
  }
  return x;
}

/* The epilogue attributes of a fused node. */
typedef struct Epilogue {
  FusedAct act;
  double alpha, beta;
  bool residual_first;
} Epilogue;

static Status read_epilogue(const Node *n, Epilogue *e, Error *err) {
  const char *name = ir_attr_string(n, "activation", "");
  if (!fused_act_parse(name, &e->act))
    return err_set(err, ST_INVALID, "activation \"%s\" is not a known epilogue activation", name);
  e->alpha = ir_attr(n, "activation_alpha") ? ir_attr_float(n, "activation_alpha", 0)
                                             : fused_act_default_alpha(e->act);
  e->beta = ir_attr(n, "activation_beta") ? ir_attr_float(n, "activation_beta", 0)
                                           : fused_act_default_beta(e->act);
  int64_t rf = ir_attr_int(n, "residual_first", 0);
  if (rf != 0 && rf != 1)
    return err_set(err, ST_INVALID, "residual_first is %" PRId64 ", expected 0 or 1", rf);
  e->residual_first = rf == 1;
  return ST_OK;
}

static const Value *opt_in(const Node *n, int i) {
  return i < n->num_inputs ? n->inputs[i] : NULL;
}

/* y[i] = epilogue(y[i] + bias[i % bias_period], r at i) over the output. */
static void apply_epilogue(const Node *n, const Epilogue *e, const void *bias, int64_t bias_period,
                           int64_t bias_div, const void *r, void *y) {
  const Value *out = n->outputs[0];
  DType t = out->dtype;
  const Value *bv = opt_in(n, 2), *rv = opt_in(n, 3);
  int rank = out->rank;
  int64_t count = ir_value_numel(out);
  int64_t rs[IR_MAX_RANK] = {0}, idx[IR_MAX_RANK] = {0}, roff = 0;
  if (r) ops_broadcast_strides(rv->rank, rv->dims, rank, out->dims, rs);
  for (int64_t i = 0; i < count; i++) {
    double v = dtype_load_f64(t, y, (size_t)i);
    if (bias) v += dtype_load_f64(bv->dtype, bias, (size_t)((i / bias_div) % bias_period));
    double res = r ? dtype_load_f64(rv->dtype, r, (size_t)roff) : 0;
    if (e->residual_first) v += res;
    v = fused_act_apply(e->act, v, e->alpha, e->beta);
    if (!e->residual_first) v += res;
    dtype_store_f64(t, y, (size_t)i, v, false);
    if (!r) continue;
    for (int d = rank - 1; d >= 0; d--) {
      roff += rs[d];
      if (++idx[d] < out->dims[d]) break;
      roff -= rs[d] * idx[d];
      idx[d] = 0;
    }
  }
}

static Status check_residual(const Node *n, Error *err) {
  const Value *r = opt_in(n, 3), *y = n->outputs[0];
  if (!r) return ST_OK;
  if (r->dtype != y->dtype)
    return err_set(err, ST_SHAPE, "the residual is %s but the output is %s", dtype_name(r->dtype),
                   dtype_name(y->dtype));
  if (r->rank > y->rank)
    return err_set(err, ST_SHAPE, "the residual has rank %d, more than the output's %d", r->rank,
                   y->rank);
  for (int i = 0; i < r->rank; i++) {
    int64_t rd = r->dims[i], yd = y->dims[y->rank - r->rank + i];
    if (rd != yd && rd != 1)
      return err_set(err, ST_SHAPE, "the residual's dim %d is %" PRId64
                     ", which does not broadcast to the output's %" PRId64, i, rd, yd);
  }
  return ST_OK;
}

/* ---- onnxc.FusedConv ---------------------------------------------------- */

Status shape_fused_conv(Graph *g, Node *n, Error *err) {
  Epilogue e;
  TRY(read_epilogue(n, &e, err));
  TRY(shape_conv(g, n, err)); /* reads X, W and the optional B only */
  const Value *r = opt_in(n, 3), *y = n->outputs[0];
  if (r && (r->rank != y->rank || memcmp(r->dims, y->dims, sizeof(int64_t) * (size_t)y->rank)))
    return err_set(err, ST_SHAPE, "the residual must have exactly the output's shape");
  return check_residual(n, err);
}

/* eval_conv runs on this very node (out[1] is its scratch slot too). */
size_t scratch_fused_conv(const Node *n) { return scratch_conv(n); }

Status eval_fused_conv(const Node *n, const void *const in[], void *const out[], Error *err) {
  Epilogue e;
  TRY(read_epilogue(n, &e, err));
  TRY(eval_conv(n, in, out, err)); /* adds B itself */
  const void *r = opt_in(n, 3) ? in[3] : NULL;
  if (e.act == FACT_NONE && !r) return ST_OK;
  apply_epilogue(n, &e, NULL, 1, 1, r, out[0]);
  return ST_OK;
}

/* ---- onnxc.FusedMatMul -------------------------------------------------- */

/* Bias length: the last dim of B, or 1 for a 1-D B (no N axis in the output). */
static int64_t matmul_n(const Node *n) {
  const Value *b = n->inputs[1];
  return b->rank >= 2 ? b->dims[b->rank - 1] : 1;
}

Status shape_fused_matmul(Graph *g, Node *n, Error *err) {
  Epilogue e;
  TRY(read_epilogue(n, &e, err));
  if (!dtype_is_float(n->inputs[0]->dtype))
    return err_set(err, ST_UNSUPPORTED, "FusedMatMul on %s is not supported (float types only)",
                   dtype_name(n->inputs[0]->dtype));
  TRY(shape_matmul(g, n, err)); /* reads A and B only */
  const Value *bias = opt_in(n, 2);
  if (bias) {
    if (bias->dtype != n->inputs[0]->dtype)
      return err_set(err, ST_SHAPE, "the bias is %s but A is %s", dtype_name(bias->dtype),
                     dtype_name(n->inputs[0]->dtype));
    if (bias->rank != 1 || bias->dims[0] != matmul_n(n))
      return err_set(err, ST_SHAPE, "the bias must have shape [%" PRId64 "]", matmul_n(n));
  }
  return check_residual(n, err);
}

Status eval_fused_matmul(const Node *n, const void *const in[], void *const out[], Error *err) {
  Epilogue e;
  TRY(read_epilogue(n, &e, err));
  TRY(eval_matmul(n, in, out, err));
  const void *bias = opt_in(n, 2) ? in[2] : NULL;
  const void *r = opt_in(n, 3) ? in[3] : NULL;
  if (e.act == FACT_NONE && !r && !bias) return ST_OK;
  int64_t nn = matmul_n(n);
  apply_epilogue(n, &e, bias, nn > 0 ? nn : 1, 1, r, out[0]);
  return ST_OK;
}

/* ---- onnxc.SiLU --------------------------------------------------------- */

Status shape_silu(Graph *g, Node *n, Error *err) {
  (void)g;
  const Value *x = n->inputs[0];
  if (!dtype_is_float(x->dtype) || !dtype_supported(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "SiLU on %s is not supported (float types only)",
                   dtype_name(x->dtype));
  return ops_set_output_like(n, 0, x, err);
}

Status eval_silu(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  DType t = n->inputs[0]->dtype;
  int64_t count = ir_value_numel(n->inputs[0]);
  if (t == DT_FLOAT32) {
    const float *x = in[0];
    float *y = out[0];
    for (int64_t i = 0; i < count; i++) y[i] = (float)fused_act_apply(FACT_SILU, x[i], 0, 0);
    return ST_OK;
  }
  for (int64_t i = 0; i < count; i++)
    dtype_store_f64(t, out[0], (size_t)i,
                    fused_act_apply(FACT_SILU, dtype_load_f64(t, in[0], (size_t)i), 0, 0), false);
  return ST_OK;
}
