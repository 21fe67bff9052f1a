/*
 * Unary elementwise ops: shape rules and reference kernels for Abs, Ceil,
 * Clip, Dropout (inference), Erf, Exp, Floor, Gelu, HardSigmoid, HardSwish,
 * Identity, LeakyRelu, Log, Neg, Not, Reciprocal, Relu, Sigmoid, Sqrt, Tanh.
 * (Cast and CastLike live in ops/cast.c.)
 *
 * Every output has the input's type and shape.  Float math is done in
 * double and rounded once into the output type (float32 is read and written
 * directly); integer Abs/Neg/Relu/Clip stay exact in int64 / uint64.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "elementwise.h"

/* ---- type checks ------------------------------------------------------- */

enum {
  TY_FLOAT = 1 << 0,
  TY_SIGNED = 1 << 1,
  TY_UNSIGNED = 1 << 2,
  TY_BOOL = 1 << 3,
  TY_NUMERIC = TY_FLOAT | TY_SIGNED | TY_UNSIGNED,
  TY_ANY = TY_NUMERIC | TY_BOOL
};

static int type_bit(DType t) {
  switch (elw_kind(t)) {
  case ELW_F32: case ELW_FLOAT: return TY_FLOAT;
  case ELW_SIGNED: return TY_SIGNED;
  case ELW_UNSIGNED: return TY_UNSIGNED;
  case ELW_BOOL: return TY_BOOL;
  case ELW_OTHER: break;
  }
  return 0;
}

static Status check_type(const Value *v, const char *what, int allowed, Error *err) {
  if (!(type_bit(v->dtype) & allowed))
    return err_set(err, ST_UNSUPPORTED, "%s has type %s, which this op does not accept", what,
                   dtype_name(v->dtype));
  return ST_OK;
}

/* Output 0 = input 0's type and shape, after checking the input type. */
static Status shape_unary(Node *n, int allowed, Error *err) {
  TRY(check_type(n->inputs[0], "input 0", allowed, err));
  return ops_set_output_like(n, 0, n->inputs[0], err);
}

/* ---- the float path ---------------------------------------------------- */

typedef struct UnaryParams {
  double alpha, beta;
  bool tanh_approx; /* Gelu approximate="tanh" */
} UnaryParams;

typedef double (*FloatFn)(double x, const UnaryParams *p);

/* y[i] = f(x[i]) for a float input; float32 is read and written directly. */
static void apply_float(const Node *n, FloatFn f, const UnaryParams *p, const void *in,
                        void *out) {
  DType t = n->inputs[0]->dtype;
  int64_t count = ir_value_numel(n->inputs[0]);
  if (t == DT_FLOAT32) {
    const float *x = in;
    float *y = out;
    for (int64_t i = 0; i < count; i++) y[i] = (float)f(x[i], p);
    return;
  }
  for (int64_t i = 0; i < count; i++)
    elw_store_float(t, out, (size_t)i, f(dtype_load_f64(t, in, (size_t)i), p), true);
}

static double f_abs(double x, const UnaryParams *p) { (void)p; return fabs(x); }
static double f_neg(double x, const UnaryParams *p) { (void)p; return -x; }
static double f_relu(double x, const UnaryParams *p) { (void)p; return x > 0 || x != x ? x : 0.0; }
static double f_ceil(double x, const UnaryParams *p) { (void)p; return ceil(x); }
static double f_floor(double x, const UnaryParams *p) { (void)p; return floor(x); }
static double f_erf(double x, const UnaryParams *p) { (void)p; return erf(x); }
static double f_exp(double x, const UnaryParams *p) { (void)p; return exp(x); }
static double f_log(double x, const UnaryParams *p) { (void)p; return log(x); }
static double f_reciprocal(double x, const UnaryParams *p) { (void)p; return 1.0 / x; }
static double f_sqrt(double x, const UnaryParams *p) { (void)p; return sqrt(x); }
static double f_tanh(double x, const UnaryParams *p) { (void)p; return tanh(x); }
static double f_sin(double x, const UnaryParams *p) { (void)p; return sin(x); }
static double f_cos(double x, const UnaryParams *p) { (void)p; return cos(x); }

static double f_sigmoid(double x, const UnaryParams *p) {
  (void)p;
  /* Both branches avoid exp overflow for large |x|. */
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static double clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

static double f_hard_sigmoid(double x, const UnaryParams *p) {
  if (x != x) return x;
  return clamp01(p->alpha * x + p->beta);
}

static double f_hard_swish(double x, const UnaryParams *p) {
  (void)p;
  if (x != x) return x;
  return x * clamp01(x / 6.0 + 0.5);
}

static double f_leaky_relu(double x, const UnaryParams *p) { return x >= 0 ? x : p->alpha * x; }

static double f_gelu(double x, const UnaryParams *p) {
  if (p->tanh_approx) {
    const double k = 0.79788456080286535588; /* sqrt(2/pi) */
    return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
  }
  return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); /* x / sqrt(2) */
}

static const UnaryParams no_params = {0, 0, false};

/* The float-only ops: one shape rule and one kernel each. */
#define FLOAT_UNARY(fn)                                                                    \
  Status shape_##fn(Graph *g, Node *n, Error *err) {                                      \
    (void)g;                                                                               \
    return shape_unary(n, TY_FLOAT, err);                                                  \
  }                                                                                        \
  Status eval_##fn(const Node *n, const void *const in[], void *const out[], Error *err) { \
    (void)err;                                                                             \
    apply_float(n, f_##fn, &no_params, in[0], out[0]);                                     \
    return ST_OK;                                                                          \
  }

FLOAT_UNARY(ceil)
FLOAT_UNARY(floor)
FLOAT_UNARY(erf)
FLOAT_UNARY(exp)
FLOAT_UNARY(log)
FLOAT_UNARY(reciprocal)
FLOAT_UNARY(sqrt)
FLOAT_UNARY(tanh)
FLOAT_UNARY(sin)
FLOAT_UNARY(cos)
FLOAT_UNARY(sigmoid)
FLOAT_UNARY(hard_swish)

/* ---- ops with attributes ------------------------------------------------ */

Status shape_gelu(Graph *g, Node *n, Error *err) {
  (void)g;
  const char *mode = ir_attr_string(n, "approximate", "none");
  if (strcmp(mode, "none") != 0 && strcmp(mode, "tanh") != 0)
    return err_set(err, ST_INVALID, "approximate is \"%s\", expected \"none\" or \"tanh\"", mode);
  return shape_unary(n, TY_FLOAT, err);
}

Status eval_gelu(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  UnaryParams p = no_params;
  p.tanh_approx = strcmp(ir_attr_string(n, "approximate", "none"), "tanh") == 0;
  apply_float(n, f_gelu, &p, in[0], out[0]);
  return ST_OK;
}

Status shape_hard_sigmoid(Graph *g, Node *n, Error *err) {
  (void)g;
  return shape_unary(n, TY_FLOAT, err);
}

Status eval_hard_sigmoid(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  UnaryParams p = no_params;
  p.alpha = ir_attr_float(n, "alpha", 0.2f);
  p.beta = ir_attr_float(n, "beta", 0.5f);
  apply_float(n, f_hard_sigmoid, &p, in[0], out[0]);
  return ST_OK;
}

Status shape_leaky_relu(Graph *g, Node *n, Error *err) {
  (void)g;
  return shape_unary(n, TY_FLOAT, err);
}

Status eval_leaky_relu(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  UnaryParams p = no_params;
  p.alpha = ir_attr_float(n, "alpha", 0.01f);
  apply_float(n, f_leaky_relu, &p, in[0], out[0]);
  return ST_OK;
}

/* ---- ops that also take integers ---------------------------------------- */

/* Abs, Neg and Relu on integers, exact: arithmetic is done on uint64 so
 * that -INT64_MIN wraps instead of being undefined. */
typedef enum IntOp { INT_ABS, INT_NEG, INT_RELU } IntOp;

static void apply_int(const Node *n, IntOp op, const void *in, void *out) {
  DType t = n->inputs[0]->dtype;
  int64_t count = ir_value_numel(n->inputs[0]);
  bool is_signed = dtype_is_signed_int(t);
  for (int64_t i = 0; i < count; i++) {
    if (!is_signed) { /* Abs and Relu are the identity; Neg wraps */
      uint64_t x = dtype_load_u64(t, in, (size_t)i);
      dtype_store_u64(t, out, (size_t)i, op == INT_NEG ? 0 - x : x);
      continue;
    }
    int64_t x = dtype_load_i64(t, in, (size_t)i);
    uint64_t ux = (uint64_t)x, r = ux;
    if (op == INT_NEG || (op == INT_ABS && x < 0)) r = 0 - ux;
    if (op == INT_RELU && x < 0) r = 0;
    dtype_store_u64(t, out, (size_t)i, r);
  }
}

static Status eval_int_or_float(const Node *n, IntOp op, FloatFn f, const void *in, void *out) {
  if (type_bit(n->inputs[0]->dtype) == TY_FLOAT) apply_float(n, f, &no_params, in, out);
  else apply_int(n, op, in, out);
  return ST_OK;
}

Status shape_abs(Graph *g, Node *n, Error *err) {
  (void)g;
  return shape_unary(n, TY_NUMERIC, err);
}
Status eval_abs(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  return eval_int_or_float(n, INT_ABS, f_abs, in[0], out[0]);
}

Status shape_neg(Graph *g, Node *n, Error *err) {
  (void)g;
  return shape_unary(n, TY_FLOAT | TY_SIGNED, err);
}
Status eval_neg(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  return eval_int_or_float(n, INT_NEG, f_neg, in[0], out[0]);
}

Status shape_relu(Graph *g, Node *n, Error *err) {
  (void)g;
  return shape_unary(n, TY_FLOAT | TY_SIGNED, err);
}
Status eval_relu(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  return eval_int_or_float(n, INT_RELU, f_relu, in[0], out[0]);
}

/* ---- Clip ----------------------------------------------------------------- */

/* min (input 1) and max (input 2) are optional scalars of X's type; an
 * absent one means no bound.  min > max gives max everywhere, as ONNX says
 * (the min bound is applied first, then the max bound). */
Status shape_clip(Graph *g, Node *n, Error *err) {
  (void)g;
  static const char *const names[3] = {"", "min", "max"};
  for (int i = 1; i < n->num_inputs && i < 3; i++) {
    const Value *b = n->inputs[i];
    if (!b) continue;
    if (b->dtype != n->inputs[0]->dtype)
      return err_set(err, ST_SHAPE, "%s has type %s, expected %s like the input", names[i],
                     dtype_name(b->dtype), dtype_name(n->inputs[0]->dtype));
    if (ir_value_numel(b) != 1)
      return err_set(err, ST_SHAPE, "%s must be a scalar, it has %" PRId64 " elements", names[i],
                     ir_value_numel(b));
  }
  return shape_unary(n, TY_NUMERIC, err);
}

static const void *clip_bound(const Node *n, const void *const in[], int i) {
  return i < n->num_inputs && n->inputs[i] ? in[i] : NULL;
}

Status eval_clip(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  DType t = n->inputs[0]->dtype;
  int64_t count = ir_value_numel(n->inputs[0]);
  const void *lo = clip_bound(n, in, 1), *hi = clip_bound(n, in, 2);
  switch (elw_kind(t)) {
  case ELW_SIGNED: {
    int64_t l = lo ? dtype_load_i64(t, lo, 0) : INT64_MIN;
    int64_t h = hi ? dtype_load_i64(t, hi, 0) : INT64_MAX;
    for (int64_t i = 0; i < count; i++) {
      int64_t x = dtype_load_i64(t, in[0], (size_t)i);
      x = x < l ? l : x;
      dtype_store_i64(t, out[0], (size_t)i, x > h ? h : x);
    }
    return ST_OK;
  }
  case ELW_UNSIGNED: {
    uint64_t l = lo ? dtype_load_u64(t, lo, 0) : 0;
    uint64_t h = hi ? dtype_load_u64(t, hi, 0) : UINT64_MAX;
    for (int64_t i = 0; i < count; i++) {
      uint64_t x = dtype_load_u64(t, in[0], (size_t)i);
      x = x < l ? l : x;
      dtype_store_u64(t, out[0], (size_t)i, x > h ? h : x);
    }
    return ST_OK;
  }
  case ELW_F32: case ELW_FLOAT: case ELW_BOOL: case ELW_OTHER: {
    /* NaN inputs stay NaN: both comparisons are false. */
    double l = lo ? dtype_load_f64(t, lo, 0) : -INFINITY;
    double h = hi ? dtype_load_f64(t, hi, 0) : INFINITY;
    for (int64_t i = 0; i < count; i++) {
      double x = dtype_load_f64(t, in[0], (size_t)i);
      x = x < l ? l : x;
      elw_store_float(t, out[0], (size_t)i, x > h ? h : x, true);
    }
    return ST_OK;
  }
  }
  return ST_OK;
}

/* ---- Identity, Dropout, Not --------------------------------------------- */

Status shape_identity(Graph *g, Node *n, Error *err) {
  (void)g;
  return ops_set_output_like(n, 0, n->inputs[0], err);
}

Status eval_identity(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  size_t nb = ir_value_nbytes(n->inputs[0]);
  if (nb) memmove(out[0], in[0], nb);
  return ST_OK;
}

/* Dropout is Y = X with an all-true mask when training_mode is false, and
 * also when it is true with a constant ratio of 0: torchvision's Swin calls
 * F.dropout(attn, p=0.0) without training=, so its exports carry
 * Dropout(ratio=0, training_mode=true), which is still the identity.  Any
 * other training-mode dropout is random and refused. */
bool ops_dropout_is_identity(const Node *n, const void *const in[]) {
  if (n->num_inputs <= 2 || !n->inputs[2]) return true;
  const Value *tm = n->inputs[2];
  const void *tmd = tm->data ? tm->data : (in ? in[2] : NULL);
  if (!tmd) return false;
  if (dtype_load_f64(tm->dtype, tmd, 0) == 0) return true;
  const Value *ratio = n->num_inputs > 1 ? n->inputs[1] : NULL;
  const void *rd = ratio ? (ratio->data ? ratio->data : (in ? in[1] : NULL)) : NULL;
  return ratio && rd && ratio->data && ir_value_numel(ratio) == 1 &&
         dtype_load_f64(ratio->dtype, rd, 0) == 0;
}

Status shape_dropout(Graph *g, Node *n, Error *err) {
  (void)g;
  if (n->num_inputs > 2 && n->inputs[2]) {
    const Value *tm = n->inputs[2];
    if (ir_value_numel(tm) != 1)
      return err_set(err, ST_SHAPE, "training_mode must be a scalar");
    if (!ir_value_is_const(tm))
      return err_set(err, ST_UNSUPPORTED, "training_mode must be a constant (inference only)");
    if (!ops_dropout_is_identity(n, NULL))
      return err_set(err, ST_UNSUPPORTED, "training_mode=true with a non-zero ratio is not "
                     "supported (inference only)");
  }
  TRY(shape_unary(n, TY_FLOAT, err));
  /* The mask is bool from opset 10; before, it had X's type. */
  DType mask = n->opset >= 10 ? DT_BOOL : n->inputs[0]->dtype;
  return ops_set_output(n, 1, mask, n->inputs[0]->rank, n->inputs[0]->dims, err);
}

Status eval_dropout(const Node *n, const void *const in[], void *const out[], Error *err) {
  if (!ops_dropout_is_identity(n, in))
    return err_set(err, ST_UNSUPPORTED, "training_mode=true with a non-zero ratio is not "
                   "supported (inference only)");
  TRY(eval_identity(n, in, out, err));
  if (n->num_outputs > 1 && n->outputs[1] && out[1]) {
    const Value *m = n->outputs[1];
    int64_t count = ir_value_numel(m);
    for (int64_t i = 0; i < count; i++) dtype_store_f64(m->dtype, out[1], (size_t)i, 1.0, true);
  }
  return ST_OK;
}

Status shape_not(Graph *g, Node *n, Error *err) {
  (void)g;
  return shape_unary(n, TY_BOOL, err);
}

Status eval_not(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  const uint8_t *x = in[0];
  uint8_t *y = out[0];
  int64_t count = ir_value_numel(n->inputs[0]);
  for (int64_t i = 0; i < count; i++) y[i] = !x[i];
  return ST_OK;
}
