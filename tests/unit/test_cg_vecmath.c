/*
 * Accuracy of the vector math in codegen/vec/vec_math.c, measured through the
 * real backend: a one-node graph (Exp, Log, Tanh, Sigmoid, Erf) is compiled
 * for the host, run on a dense sweep plus special values, and every lane is
 * compared with double-precision libm.  Bounds: <= 4 float32 ulp for exp,
 * log, tanh and sigmoid (against the correctly rounded float of the double
 * result), <= 1e-6 absolute for erf, 2e-6 relative plus 3e-8 absolute for
 * GELU (on AVX-512 and on AVX2: different formulas); infinities, NaN,
 * overflow and underflow must match exactly.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_cg_vec_util.h"
#include "tests/support/cg_harness.h"

/* Maps floats to integers whose difference counts representable floats. */
static int64_t ordered(float f) {
  int32_t i;
  memcpy(&i, &f, 4);
  return i < 0 ? (int64_t)INT32_MIN - i : i;
}

static int64_t ulp_diff(float got, double want) {
  float w = (float)want;
  if (isnan(w) || isnan(got)) return isnan(w) && isnan(got) ? 0 : INT32_MAX;
  if (isinf(w) || isinf(got)) return w == got ? 0 : INT32_MAX;
  int64_t d = ordered(got) - ordered(w);
  return d < 0 ? -d : d;
}

/* Compiles op over n floats, runs it on xs, returns the outputs (malloc). */
static float *run_op(OpKind op, const float *xs, int64_t n) {
  Graph *g = ir_graph_new("vecmath", "<test>");
  assert_non_null(g);
  Value *x = vu_input(g, DT_FLOAT32, 1, &n);
  assert_non_null(x);
  Node *node = vu_node(g, op, &x, 1);
  assert_non_null(node);
  Error err;
  assert_int_equal(vu_finish(g, node, &err), ST_OK);
  assert_true(vu_lowered(g, node));
  CgModule m;
  Status st = cgh_compile(g, 3, &m, &err);
  if (st != ST_OK) fail_msg("compile: %s", err.msg);
  const void *ins[1] = {xs};
  void **outs = NULL;
  st = cgh_run(&m, g, ins, &outs, &err);
  if (st != ST_OK) fail_msg("run: %s", err.msg);
  float *y = outs[0];
  free(outs);
  cgh_unload(&m);
  ir_graph_free(g);
  return y;
}

static const float specials[] = {
    0.0f,    -0.0f,   INFINITY, -INFINITY, NAN,     1.0f,     -1.0f, 1e-30f,  -1e-30f, 1e-40f,
    -1e-40f, 88.72f,  88.73f,   -87.33f,   -103.9f, -104.5f,  89.0f, -150.0f, 1e30f,   -1e30f,
    0.625f,  -0.625f, 0.6249f,  3.92f,     FLT_MAX, -FLT_MAX, 2.0f,  0.5f,    9.1f,    -9.1f};

/* n uniform points over [lo, hi] followed by the special values. */
static float *sweep(double lo, double hi, int64_t n, int64_t *total) {
  int64_t ns = (int64_t)(sizeof specials / sizeof *specials);
  float *xs = malloc((size_t)(n + ns) * sizeof *xs);
  assert_non_null(xs);
  for (int64_t i = 0; i < n; i++)
    xs[i] = (float)(lo + (hi - lo) * (double)i / (double)(n - 1));
  memcpy(xs + n, specials, sizeof specials);
  *total = n + ns;
  return xs;
}

static double sigmoid_ref(double x) {
  return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

typedef double (*RefFn)(double);

static void check_ulp(OpKind op, RefFn ref, const float *xs, int64_t n, int64_t bound) {
  float *y = run_op(op, xs, n);
  int64_t worst = 0;
  float worst_x = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t d = ulp_diff(y[i], ref((double)xs[i]));
    if (d > worst) {
      worst = d;
      worst_x = xs[i];
    }
  }
  free(y);
  if (worst > bound)
    fail_msg("%s: %lld ulp at x = %.9g (bound %lld)", op_name(op), (long long)worst,
             (double)worst_x, (long long)bound);
}

static void test_exp(void **state) {
  (void)state;
  int64_t n;
  float *xs = sweep(-100, 100, 400001, &n);
  check_ulp(OP_EXP, exp, xs, n, 4);
  free(xs);
}

static void test_log(void **state) {
  (void)state;
  /* Log-uniform over the whole positive range (subnormals included), then
   * a dense sweep around 1, then the specials (negatives give NaN). */
  int64_t nl = 200000, nd = 100001, ns = (int64_t)(sizeof specials / sizeof *specials);
  float *xs = malloc((size_t)(nl + nd + ns) * sizeof *xs);
  assert_non_null(xs);
  for (int64_t i = 0; i < nl; i++)
    xs[i] = (float)exp2(-149.0 + 277.0 * (double)i / (double)nl);
  for (int64_t i = 0; i < nd; i++)
    xs[nl + i] = (float)(0.5 + 1.5 * (double)i / (double)(nd - 1));
  memcpy(xs + nl + nd, specials, sizeof specials);
  check_ulp(OP_LOG, log, xs, nl + nd + ns, 4);
  free(xs);
}

static void test_tanh(void **state) {
  (void)state;
  int64_t n;
  float *xs = sweep(-20, 20, 400001, &n);
  check_ulp(OP_TANH, tanh, xs, n, 4);
  free(xs);
  xs = sweep(-1, 1, 200001, &n); /* dense around the branch point */
  check_ulp(OP_TANH, tanh, xs, n, 4);
  free(xs);
}

static void test_sigmoid(void **state) {
  (void)state;
  int64_t n;
  float *xs = sweep(-100, 100, 400001, &n);
  check_ulp(OP_SIGMOID, sigmoid_ref, xs, n, 4);
  free(xs);
}

static void test_erf(void **state) {
  (void)state;
  int64_t n;
  float *xs = sweep(-6, 6, 400001, &n);
  float *y = run_op(OP_ERF, xs, n);
  double worst = 0;
  float worst_x = 0;
  for (int64_t i = 0; i < n; i++) {
    double want = erf((double)xs[i]);
    if (isnan(want)) {
      if (!isnan(y[i])) fail_msg("erf(%g) = %g, expected NaN", (double)xs[i], (double)y[i]);
      continue;
    }
    double d = fabs((double)y[i] - want);
    if (d > worst) {
      worst = d;
      worst_x = xs[i];
    }
  }
  free(y);
  free(xs);
  if (worst > 1e-6) fail_msg("erf: abs error %.3g at x = %.9g", worst, (double)worst_x);
}

static double gelu_ref(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }

/* GELU(erf) for the host's vector width and, on x86, for AVX2 code: a
 * dense sweep, the specials, both sides of every boundary of the AVX-512
 * table's intervals (y = 4|x| at k + 1/2, 32 of them, the last one the
 * cut to h = 0), and every float around that cut. */
static void check_gelu(void) {
  int64_t n;
  float *sw = sweep(-12, 12, 1200001, &n);
  /* Every float of |x| in [7.86, 7.89], around the cut to h = 0. */
  int64_t band = 0;
  for (float f = 7.86f; f <= 7.89f; f = nextafterf(f, INFINITY)) band++;
  int64_t nb = 32 * 2 * 3, total = n + nb + 2 * band;
  float *xs = realloc(sw, (size_t)total * sizeof *xs);
  assert_non_null(xs);
  float *bp = xs + n + nb;
  for (float f = 7.86f; f <= 7.89f; f = nextafterf(f, INFINITY)) {
    *bp++ = f;
    *bp++ = -f;
  }
  for (int i = 0; i < 32; i++)
    for (int s = -1; s <= 1; s += 2) {
      float edge = (float)(s * (i + 0.5) / 4);
      float *at = xs + n + (i * 2 + (s > 0)) * 3;
      at[0] = nextafterf(edge, -INFINITY);
      at[1] = edge;
      at[2] = nextafterf(edge, INFINITY);
    }
  float *y = run_op(OP_GELU, xs, total);
  double worst = 0;
  float worst_x = 0;
  for (int64_t i = 0; i < total; i++) {
    double want = gelu_ref((double)xs[i]);
    if (isnan(want) || isinf(want)) {
      if (isnan(want) ? !isnan(y[i]) : (double)y[i] != want)
        fail_msg("gelu(%g) = %g, expected %g", (double)xs[i], (double)y[i], want);
      continue;
    }
    double d = fabs((double)y[i] - want) / (2e-6 * fabs(want) + 3e-8);
    if (d > worst) {
      worst = d;
      worst_x = xs[i];
    }
  }
  free(y);
  free(xs);
  print_message("gelu: worst error %.3g x the bound, at x = %.9g\n", worst, (double)worst_x);
  if (worst > 1.0)
    fail_msg("gelu: error %.3g x the bound at x = %.9g", worst, (double)worst_x);
}

static void test_gelu(void **state) {
  (void)state;
  check_gelu();
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    cgh_set_cpu("haswell");
    check_gelu();
    cgh_set_cpu(NULL);
  }
#endif
}

/* Hand-checked special values (not derived from libm). */
static void test_specials(void **state) {
  (void)state;
  const float xs[6] = {INFINITY, -INFINITY, NAN, 1000.0f, -1000.0f, 0.0f};
  float *e = run_op(OP_EXP, xs, 6);
  assert_true(isinf(e[0]) && e[0] > 0);
  assert_true(e[1] == 0.0f && e[4] == 0.0f);
  assert_true(isnan(e[2]));
  assert_true(isinf(e[3]));
  assert_true(e[5] == 1.0f);
  free(e);
  float *t = run_op(OP_TANH, xs, 6);
  assert_true(t[0] == 1.0f && t[1] == -1.0f && isnan(t[2]) && t[3] == 1.0f && t[4] == -1.0f);
  free(t);
  float *s = run_op(OP_SIGMOID, xs, 6);
  assert_true(s[0] == 1.0f && s[1] == 0.0f && isnan(s[2]) && s[3] == 1.0f && s[4] == 0.0f &&
              s[5] == 0.5f);
  free(s);
  float *f = run_op(OP_ERF, xs, 6);
  assert_true(f[0] == 1.0f && f[1] == -1.0f && isnan(f[2]) && f[3] == 1.0f && f[4] == -1.0f &&
              f[5] == 0.0f);
  free(f);
  const float ls[5] = {0.0f, -1.0f, INFINITY, NAN, 1.0f};
  float *l = run_op(OP_LOG, ls, 5);
  assert_true(isinf(l[0]) && l[0] < 0);
  assert_true(isnan(l[1]) && isnan(l[3]));
  assert_true(isinf(l[2]) && l[2] > 0);
  assert_true(l[4] == 0.0f);
  free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exp),     cmocka_unit_test(test_log), cmocka_unit_test(test_tanh),
      cmocka_unit_test(test_sigmoid), cmocka_unit_test(test_erf), cmocka_unit_test(test_gelu),
      cmocka_unit_test(test_specials),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
