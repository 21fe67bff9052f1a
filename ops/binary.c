/*
 * Broadcasting elementwise ops: shape rules and reference kernels for Add,
 * Sub, Mul, Div, Mod, Pow, Equal, Greater, Less, the variadic Max, Min and
 * Sum, and Where.  All follow ONNX multidirectional broadcasting
 * (ops_broadcast); 0-sized dims give empty outputs.
 *
 * Arithmetic: float32 directly, other floats through double rounded once;
 * integers exactly in int64 / uint64, wrapping like C on the output width
 * (integer Div truncates toward zero; division by zero gives 0 instead of a
 * trap).  Comparisons produce bool.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "elementwise.h"

typedef enum BinOp {
  B_ADD, B_SUB, B_MUL, B_DIV,
  B_MOD,  /* Mod fmod=0: result takes the divisor's sign (Python / numpy) */
  B_FMOD, /* Mod fmod=1: C fmod / truncated remainder */
  B_MAX, B_MIN,
  B_SECOND /* b: copies the first operand of a variadic fold into place */
} BinOp;

typedef enum CmpOp { C_EQ, C_GT, C_LT } CmpOp;

/* ---- scalar semantics ----------------------------------------------------- */

static double bin_f64(BinOp op, double a, double b) {
  switch (op) {
  case B_ADD: return a + b;
  case B_SUB: return a - b;
  case B_MUL: return a * b;
  case B_DIV: return a / b;
  case B_FMOD: return fmod(a, b);
  case B_MOD: {
    double r = fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  }
  case B_MAX: return a != a ? a : (b != b ? b : (a > b ? a : b));
  case B_MIN: return a != a ? a : (b != b ? b : (a < b ? a : b));
  case B_SECOND: return b;
  }
  return 0;
}

/* Signed integers: + - * wrap through uint64 (no signed overflow). */
static uint64_t bin_i64(BinOp op, int64_t a, int64_t b) {
  switch (op) {
  case B_ADD: return (uint64_t)a + (uint64_t)b;
  case B_SUB: return (uint64_t)a - (uint64_t)b;
  case B_MUL: return (uint64_t)a * (uint64_t)b;
  case B_DIV:
    if (b == 0) return 0;
    if (b == -1) return 0 - (uint64_t)a; /* INT64_MIN / -1 wraps */
    return (uint64_t)(a / b);
  case B_FMOD:
  case B_MOD: {
    if (b == 0 || b == -1) return 0;
    int64_t r = a % b;
    if (op == B_MOD && r != 0 && ((r < 0) != (b < 0))) r += b;
    return (uint64_t)r;
  }
  case B_MAX: return (uint64_t)(a > b ? a : b);
  case B_MIN: return (uint64_t)(a < b ? a : b);
  case B_SECOND: return (uint64_t)b;
  }
  return 0;
}

static uint64_t bin_u64(BinOp op, uint64_t a, uint64_t b) {
  switch (op) {
  case B_ADD: return a + b;
  case B_SUB: return a - b;
  case B_MUL: return a * b;
  case B_DIV: return b ? a / b : 0;
  case B_MOD: case B_FMOD: return b ? a % b : 0;
  case B_MAX: return a > b ? a : b;
  case B_MIN: return a < b ? a : b;
  case B_SECOND: return b;
  }
  return 0;
}

/* ---- loops ---------------------------------------------------------------- */

/* out = op(a, b) elementwise; a, b and out share out's dtype. */
static void binary_loop(BinOp op, const Value *va, const Value *vb, const Value *vo,
                        const void *a, const void *b, void *out) {
  const Value *ins[2] = {va, vb};
  ElwIter it;
  elw_iter_init(&it, vo, 2, ins);
  DType t = vo->dtype;
  int64_t count = ir_value_numel(vo);
  switch (elw_kind(t)) {
  case ELW_F32: {
    const float *x = a, *y = b;
    float *z = out;
    for (int64_t i = 0; i < count; i++, elw_iter_next(&it))
      z[i] = (float)bin_f64(op, x[it.off[0]], y[it.off[1]]);
    return;
  }
  case ELW_FLOAT:
    for (int64_t i = 0; i < count; i++, elw_iter_next(&it))
      elw_store_float(t, out, (size_t)i,
                      bin_f64(op, dtype_load_f64(t, a, (size_t)it.off[0]),
                              dtype_load_f64(t, b, (size_t)it.off[1])),
                      true);
    return;
  case ELW_SIGNED:
    for (int64_t i = 0; i < count; i++, elw_iter_next(&it))
      dtype_store_u64(t, out, (size_t)i,
                      bin_i64(op, dtype_load_i64(t, a, (size_t)it.off[0]),
                              dtype_load_i64(t, b, (size_t)it.off[1])));
    return;
  case ELW_UNSIGNED:
  case ELW_BOOL:
  case ELW_OTHER:
    for (int64_t i = 0; i < count; i++, elw_iter_next(&it))
      dtype_store_u64(t, out, (size_t)i,
                      bin_u64(op, dtype_load_u64(t, a, (size_t)it.off[0]),
                              dtype_load_u64(t, b, (size_t)it.off[1])));
    return;
  }
}

static bool cmp_result(CmpOp op, int c) { /* c: -1, 0, 1; 2 = unordered (NaN) */
  switch (op) {
  case C_EQ: return c == 0;
  case C_GT: return c == 1;
  case C_LT: return c == -1;
  }
  return false;
}

static void compare_loop(CmpOp op, const Node *n, const void *a, const void *b, void *out) {
  const Value *ins[2] = {n->inputs[0], n->inputs[1]};
  ElwIter it;
  elw_iter_init(&it, n->outputs[0], 2, ins);
  DType t = ins[0]->dtype;
  ElwKind k = elw_kind(t);
  uint8_t *z = out;
  int64_t count = ir_value_numel(n->outputs[0]);
  for (int64_t i = 0; i < count; i++, elw_iter_next(&it)) {
    size_t ia = (size_t)it.off[0], ib = (size_t)it.off[1];
    int c;
    if (k == ELW_SIGNED) {
      int64_t x = dtype_load_i64(t, a, ia), y = dtype_load_i64(t, b, ib);
      c = x < y ? -1 : x > y;
    } else if (k == ELW_UNSIGNED || k == ELW_BOOL) {
      uint64_t x = dtype_load_u64(t, a, ia), y = dtype_load_u64(t, b, ib);
      c = x < y ? -1 : x > y;
    } else {
      double x = dtype_load_f64(t, a, ia), y = dtype_load_f64(t, b, ib);
      c = x < y ? -1 : (x > y ? 1 : (x == y ? 0 : 2));
    }
    z[i] = cmp_result(op, c);
  }
}

/* ---- shape rules ---------------------------------------------------------- */

static Status check_same_types(const Node *n, int first, bool allow_bool, Error *err) {
  DType t = n->inputs[first]->dtype;
  if (!elw_is_numeric(t) && !(allow_bool && t == DT_BOOL))
    return err_set(err, ST_UNSUPPORTED, "input %d has type %s, which this op does not accept",
                   first, dtype_name(t));
  for (int i = first + 1; i < n->num_inputs; i++) {
    const Value *v = n->inputs[i];
    if (!v) return err_set(err, ST_INVALID, "input %d is missing", i);
    if (v->dtype != t)
      return err_set(err, ST_SHAPE, "input %d has type %s but input %d has %s", i,
                     dtype_name(v->dtype), first, dtype_name(t));
  }
  return ST_OK;
}

static Status shape_arith(Node *n, Error *err) {
  TRY(check_same_types(n, 0, false, err));
  return elw_broadcast_output(n, 0, n->num_inputs - 1, n->inputs[0]->dtype, err);
}

static Status shape_compare(Node *n, bool allow_bool, Error *err) {
  TRY(check_same_types(n, 0, allow_bool, err));
  return elw_broadcast_output(n, 0, 1, DT_BOOL, err);
}

/* ---- Add, Sub, Mul, Div, Mod ---------------------------------------------- */

#define ARITH_OP(fn, op)                                                                   \
  Status shape_##fn(Graph *g, Node *n, Error *err) {                                      \
    (void)g;                                                                               \
    return shape_arith(n, err);                                                            \
  }                                                                                        \
  Status eval_##fn(const Node *n, const void *const in[], void *const out[], Error *err) { \
    (void)err;                                                                             \
    binary_loop(op, n->inputs[0], n->inputs[1], n->outputs[0], in[0], in[1], out[0]);     \
    return ST_OK;                                                                          \
  }

ARITH_OP(add, B_ADD)
ARITH_OP(sub, B_SUB)
ARITH_OP(mul, B_MUL)
ARITH_OP(div, B_DIV)

Status shape_mod(Graph *g, Node *n, Error *err) {
  (void)g;
  int64_t fm = ir_attr_int(n, "fmod", 0);
  if (fm != 0 && fm != 1) return err_set(err, ST_INVALID, "fmod is %" PRId64 ", expected 0 or 1", fm);
  return shape_arith(n, err);
}

Status eval_mod(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  BinOp op = ir_attr_int(n, "fmod", 0) ? B_FMOD : B_MOD;
  binary_loop(op, n->inputs[0], n->inputs[1], n->outputs[0], in[0], in[1], out[0]);
  return ST_OK;
}

/* ---- Pow: the exponent may have another type; the result has X's -------- */

/* base^e with wrapping integer arithmetic (square and multiply).  Negative
 * exponents give the truncated real result: 1, +-1 for base -1, else 0. */
static uint64_t ipow(int64_t base, int64_t e) {
  if (e < 0) {
    if (base == 1) return 1;
    if (base == -1) return (e & 1) ? (uint64_t)-1 : 1;
    return 0;
  }
  uint64_t r = 1, b = (uint64_t)base;
  while (e) {
    if (e & 1) r *= b;
    b *= b;
    e >>= 1;
  }
  return r;
}

Status shape_pow(Graph *g, Node *n, Error *err) {
  (void)g;
  for (int i = 0; i < 2; i++)
    if (!elw_is_numeric(n->inputs[i]->dtype))
      return err_set(err, ST_UNSUPPORTED, "input %d has type %s, which Pow does not accept", i,
                     dtype_name(n->inputs[i]->dtype));
  return elw_broadcast_output(n, 0, 1, n->inputs[0]->dtype, err);
}

Status eval_pow(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  const Value *ins[2] = {n->inputs[0], n->inputs[1]};
  ElwIter it;
  elw_iter_init(&it, n->outputs[0], 2, ins);
  DType tx = ins[0]->dtype, ty = ins[1]->dtype;
  ElwKind kx = elw_kind(tx), ky = elw_kind(ty);
  bool x_float = kx == ELW_F32 || kx == ELW_FLOAT, y_float = ky == ELW_F32 || ky == ELW_FLOAT;
  int64_t count = ir_value_numel(n->outputs[0]);
  for (int64_t i = 0; i < count; i++, elw_iter_next(&it)) {
    size_t ia = (size_t)it.off[0], ib = (size_t)it.off[1];
    if (x_float || y_float) {
      /* Integer X with a float exponent: real power, truncated on store. */
      double r = pow(dtype_load_f64(tx, in[0], ia), dtype_load_f64(ty, in[1], ib));
      if (x_float) elw_store_float(tx, out[0], (size_t)i, r, true);
      else dtype_store_f64(tx, out[0], (size_t)i, r, true);
    } else {
      int64_t e = ky == ELW_UNSIGNED && dtype_load_u64(ty, in[1], ib) > INT64_MAX
                      ? INT64_MAX
                      : dtype_load_i64(ty, in[1], ib);
      dtype_store_u64(tx, out[0], (size_t)i, ipow(dtype_load_i64(tx, in[0], ia), e));
    }
  }
  return ST_OK;
}

/* ---- comparisons ----------------------------------------------------------- */

/* allow_bool: Equal also compares bool tensors; the orderings do not. */
#define COMPARE_OP(fn, cmp, allow_bool)                                                    \
  Status shape_##fn(Graph *g, Node *n, Error *err) {                                      \
    (void)g;                                                                               \
    return shape_compare(n, allow_bool, err);                                              \
  }                                                                                        \
  Status eval_##fn(const Node *n, const void *const in[], void *const out[], Error *err) { \
    (void)err;                                                                             \
    compare_loop(cmp, n, in[0], in[1], out[0]);                                            \
    return ST_OK;                                                                          \
  }

COMPARE_OP(equal, C_EQ, true)
COMPARE_OP(greater, C_GT, false)
COMPARE_OP(less, C_LT, false)

/* ---- variadic Max, Min, Sum ------------------------------------------------ */

/* Folds the inputs left to right into the output buffer, which has the
 * full broadcast shape: out = in0 (broadcast), then out = op(out, in_j). */
static Status eval_variadic(BinOp op, const Node *n, const void *const in[], void *const out[]) {
  const Value *vo = n->outputs[0];
  binary_loop(B_SECOND, n->inputs[0], n->inputs[0], vo, in[0], in[0], out[0]);
  for (int j = 1; j < n->num_inputs; j++)
    binary_loop(op, vo, n->inputs[j], vo, out[0], in[j], out[0]);
  return ST_OK;
}

#define VARIADIC_OP(fn, op)                                                                \
  Status shape_##fn(Graph *g, Node *n, Error *err) {                                      \
    (void)g;                                                                               \
    return shape_arith(n, err);                                                            \
  }                                                                                        \
  Status eval_##fn(const Node *n, const void *const in[], void *const out[], Error *err) { \
    (void)err;                                                                             \
    return eval_variadic(op, n, in, out);                                                  \
  }

VARIADIC_OP(max, B_MAX)
VARIADIC_OP(min, B_MIN)
VARIADIC_OP(sum, B_ADD)

/* ---- Where ------------------------------------------------------------------ */

Status shape_where(Graph *g, Node *n, Error *err) {
  (void)g;
  if (n->inputs[0]->dtype != DT_BOOL)
    return err_set(err, ST_SHAPE, "condition has type %s, expected bool",
                   dtype_name(n->inputs[0]->dtype));
  DType t = n->inputs[1]->dtype;
  if (elw_kind(t) == ELW_OTHER)
    return err_set(err, ST_UNSUPPORTED, "X has type %s, which Where does not accept",
                   dtype_name(t));
  if (n->inputs[2]->dtype != t)
    return err_set(err, ST_SHAPE, "X has type %s but Y has %s", dtype_name(t),
                   dtype_name(n->inputs[2]->dtype));
  return elw_broadcast_output(n, 0, 2, t, err);
}

Status eval_where(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)err;
  const Value *ins[3] = {n->inputs[0], n->inputs[1], n->inputs[2]};
  ElwIter it;
  elw_iter_init(&it, n->outputs[0], 3, ins);
  size_t es = dtype_size(n->outputs[0]->dtype);
  const uint8_t *c = in[0], *x = in[1], *y = in[2];
  uint8_t *z = out[0];
  int64_t count = ir_value_numel(n->outputs[0]);
  for (int64_t i = 0; i < count; i++, elw_iter_next(&it)) {
    const uint8_t *src = c[it.off[0]] ? x + (size_t)it.off[1] * es : y + (size_t)it.off[2] * es;
    memcpy(z + (size_t)i * es, src, es);
  }
  return ST_OK;
}
