/*
 * onnxc.FusedElementwise: a chain or tree of float32 elementwise ops that
 * the fuse-elementwise pass merged into one node, evaluated per output
 * element without materializing intermediates.
 *
 * Inputs: 1..8 float32 tensors that broadcast (numpy rules) to the output.
 * Attributes:
 *   program (ints)  postfix program of (code, arg) pairs over a value stack
 *                   (codes in ops/elementwise_fused.h): FE_LOAD pushes
 *                   input[arg], FE_CONST pushes params[arg]; unary
 *                   codes replace the top; binary codes pop b then a and
 *                   push a op b.  Exactly one value is left at the end:
 *                   the output element.
 *   params (floats) constants the instructions read at params[arg]
 *                   (LeakyRelu alpha, HardSigmoid alpha/beta, Clip bounds,
 *                   Pow exponent, scalar constant operands); may be absent.
 * Every step is computed in double with the formula of the unfused op's
 * reference kernel (ops/unary.c, ops/binary.c, ops/fused.c) and rounded to
 * float32, so the result is bit-identical to running the original ops.
 */
#include <math.h>
#include <string.h>

#include "elementwise_fused.h"
#include "fused.h"

int fe_code_params(int64_t code) {
  switch (code) {
  case FE_LEAKY_RELU: case FE_POW: case FE_CONST: return 1;
  case FE_HARD_SIGMOID: case FE_CLIP: return 2;
  case FE_LOAD: case FE_RELU: case FE_SIGMOID: case FE_TANH: case FE_ERF: case FE_EXP:
  case FE_LOG: case FE_NEG: case FE_ABS: case FE_SQRT: case FE_RECIPROCAL: case FE_HARD_SWISH:
  case FE_GELU: case FE_GELU_TANH: case FE_SILU: case FE_ADD: case FE_SUB: case FE_MUL:
  case FE_DIV: case FE_MAX: case FE_MIN:
    return 0;
  default: return -1;
  }
}

int fe_code_pops(int64_t code) {
  if (code == FE_LOAD || code == FE_CONST) return 1;
  if (code >= FE_ADD && code <= FE_MIN) return -1;
  return fe_code_params(code) < 0 ? 2 : 0;
}

Status fe_check_program(const int64_t *prog, int nprog, int ninputs, int nparams, Error *err) {
  if (!prog || nprog < 2 || nprog % 2 != 0 || nprog > FE_MAX_PROGRAM)
    return err_set(err, ST_INVALID, "program has %d ints, expected an even count in 2..%d", nprog,
                   FE_MAX_PROGRAM);
  int depth = 0;
  for (int i = 0; i < nprog; i += 2) {
    int64_t code = prog[i], arg = prog[i + 1];
    int np = fe_code_params(code);
    if (np < 0) return err_set(err, ST_INVALID, "program instruction %d has unknown code %lld", i / 2,
                               (long long)code);
    if (code == FE_LOAD && (arg < 0 || arg >= ninputs))
      return err_set(err, ST_INVALID, "program instruction %d loads input %lld of %d", i / 2,
                     (long long)arg, ninputs);
    if (np > 0 && (arg < 0 || arg > (int64_t)nparams - np))
      return err_set(err, ST_INVALID, "program instruction %d reads params %lld..%lld of %d",
                     i / 2, (long long)arg, (long long)arg + np - 1, nparams);
    int d = fe_code_pops(code);
    if (d <= 0 && depth < 1 - d)
      return err_set(err, ST_INVALID, "program instruction %d underflows the stack", i / 2);
    depth += d;
    if (depth > FE_MAX_STACK)
      return err_set(err, ST_INVALID, "program needs more than %d stack slots", FE_MAX_STACK);
  }
  if (depth != 1)
    return err_set(err, ST_INVALID, "program leaves %d values, expected 1", depth);
  return ST_OK;
}

Status shape_fused_elementwise(Graph *g, Node *n, Error *err) {
  (void)g;
  if (n->num_inputs < 1 || n->num_inputs > FE_MAX_INPUTS)
    return err_set(err, ST_INVALID, "%d inputs, expected 1..%d", n->num_inputs, FE_MAX_INPUTS);
  int ranks[FE_MAX_INPUTS];
  const int64_t *dims[FE_MAX_INPUTS];
  for (int i = 0; i < n->num_inputs; i++) {
    const Value *v = n->inputs[i];
    if (!v) return err_set(err, ST_INVALID, "input %d is absent", i);
    if (v->dtype != DT_FLOAT32)
      return err_set(err, ST_UNSUPPORTED, "input %d has type %s, expected float32", i,
                     dtype_name(v->dtype));
    ranks[i] = v->rank;
    dims[i] = v->dims;
  }
  const int64_t *prog;
  const float *params;
  int np = ir_attr_ints(n, "program", &prog);
  int nparams = ir_attr_floats(n, "params", &params);
  if (nparams < 0) nparams = 0;
  if (nparams > FE_MAX_PARAMS)
    return err_set(err, ST_INVALID, "params has %d values, at most %d", nparams, FE_MAX_PARAMS);
  TRY(fe_check_program(prog, np, n->num_inputs, nparams, err));
  int orank;
  int64_t odims[IR_MAX_RANK];
  TRY(ops_broadcast(n->num_inputs, ranks, dims, &orank, odims, err));
  return ops_set_output(n, 0, DT_FLOAT32, orank, odims, err);
}

/* The scalar semantics, formula for formula those of the unfused kernels. */
static double fe_sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static double fe_clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

static double fe_unary(int64_t code, double x, const float *p) {
  switch (code) {
  case FE_RELU: return x > 0 || x != x ? x : 0.0;
  case FE_LEAKY_RELU: return x >= 0 ? x : (double)p[0] * x;
  case FE_SIGMOID: return fe_sigmoid(x);
  case FE_TANH: return tanh(x);
  case FE_ERF: return erf(x);
  case FE_EXP: return exp(x);
  case FE_LOG: return log(x);
  case FE_NEG: return -x;
  case FE_ABS: return fabs(x);
  case FE_SQRT: return sqrt(x);
  case FE_RECIPROCAL: return 1.0 / x;
  case FE_HARD_SIGMOID: return x != x ? x : fe_clamp01((double)p[0] * x + (double)p[1]);
  case FE_HARD_SWISH: return x != x ? x : x * fe_clamp01(x / 6.0 + 0.5);
  case FE_GELU: return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440));
  case FE_GELU_TANH: {
    const double k = 0.79788456080286535588; /* sqrt(2/pi) */
    return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
  }
  case FE_SILU: return fused_act_apply(FACT_SILU, x, 0, 0);
  case FE_CLIP: {
    double l = p[0], h = p[1];
    x = x < l ? l : x;
    return x > h ? h : x;
  }
  case FE_POW: return pow(x, (double)p[0]);
  default: return x;
  }
}

static double fe_binary(int64_t code, double a, double b) {
  switch (code) {
  case FE_ADD: return a + b;
  case FE_SUB: return a - b;
  case FE_MUL: return a * b;
  case FE_DIV: return a / b;
  case FE_MAX: return a != a ? a : (b != b ? b : (a > b ? a : b));
  case FE_MIN: return a != a ? a : (b != b ? b : (a < b ? a : b));
  default: return a;
  }
}

Status eval_fused_elementwise(const Node *n, const void *const in[], void *const out[],
                              Error *err) {
  const int64_t *prog;
  const float *params;
  int np = ir_attr_ints(n, "program", &prog);
  int nparams = ir_attr_floats(n, "params", &params);
  if (nparams < 0) nparams = 0;
  int nin = n->num_inputs;
  if (nin < 1 || nin > FE_MAX_INPUTS)
    return err_set(err, ST_INVALID, "%d inputs, expected 1..%d", nin, FE_MAX_INPUTS);
  TRY(fe_check_program(prog, np, nin, nparams, err));
  const Value *o = n->outputs[0];
  int rank = o->rank;
  int64_t strides[FE_MAX_INPUTS][IR_MAX_RANK], off[FE_MAX_INPUTS] = {0}, idx[IR_MAX_RANK] = {0};
  for (int k = 0; k < nin; k++)
    ops_broadcast_strides(n->inputs[k]->rank, n->inputs[k]->dims, rank, o->dims, strides[k]);
  int64_t count = ir_value_numel(o);
  float *y = out[0];
  for (int64_t i = 0; i < count; i++) {
    float st[FE_MAX_STACK];
    int sp = 0;
    for (int j = 0; j < np; j += 2) {
      int64_t code = prog[j], arg = prog[j + 1];
      if (code == FE_LOAD) {
        st[sp++] = ((const float *)in[arg])[off[arg]];
      } else if (code == FE_CONST) {
        st[sp++] = params[arg];
      } else if (code >= FE_ADD) {
        sp--;
        st[sp - 1] = (float)fe_binary(code, st[sp - 1], st[sp]);
      } else {
        st[sp - 1] = (float)fe_unary(code, st[sp - 1], params ? params + arg : NULL);
      }
    }
    y[i] = st[0];
    for (int d = rank - 1; d >= 0; d--) {
      for (int k = 0; k < nin; k++) off[k] += strides[k][d];
      if (++idx[d] < o->dims[d]) break;
      for (int k = 0; k < nin; k++) off[k] -= strides[k][d] * o->dims[d];
      idx[d] = 0;
    }
  }
  return ST_OK;
}
