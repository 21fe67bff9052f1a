/*
 * The arithmetic behind fold-batchnorm (see pattern_bn.h): computes the
 * folded weights and biases in double from the constant data and returns
 * them as new constants.  Every shape is checked before any index is used,
 * since a malformed model could pair a BN with a mismatched weight.
 */
#include "pattern_bn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

static const char *const nomem = "out of memory folding a BatchNormalization";

Status bn_coef(const Node *bn, BnCoef *k, bool *ok, Error *err) {
  memset(k, 0, sizeof *k);
  *ok = false;
  const Value *x = bn->inputs[0];
  if (bn->num_inputs != 5 || bn->num_outputs < 1 || ir_attr_int(bn, "training_mode", 0) != 0)
    return ST_OK;
  for (int j = 1; j < bn->num_outputs; j++)
    if (bn->outputs[j]) return ST_OK;
  if (!ir_value_is_static(x) || x->rank < 2 || !dtype_is_float(x->dtype)) return ST_OK;
  int64_t c = x->dims[1];
  double *p[4] = {NULL, NULL, NULL, NULL};
  bool good = true;
  for (int i = 0; i < 4 && good; i++) {
    const Value *v = bn->inputs[i + 1];
    good = v && ir_value_numel(v) == c && (p[i] = pat_load_f64(v)) != NULL;
  }
  Status st = ST_OK;
  if (good) {
    k->c = c;
    k->a = malloc(c > 0 ? (size_t)c * sizeof(double) : 1);
    k->shift = malloc(c > 0 ? (size_t)c * sizeof(double) : 1);
    if (!k->a || !k->shift) {
      st = err_set(err, ST_NOMEM, "%s", nomem);
      good = false;
    }
  }
  double eps = ir_attr_float(bn, "epsilon", 1e-5f);
  for (int64_t i = 0; good && i < c; i++) {
    double den = p[3][i] + eps;
    if (!(den > 0)) { good = false; break; }
    k->a[i] = p[0][i] / sqrt(den);
    k->shift[i] = p[1][i] - p[2][i] * k->a[i];
  }
  for (int i = 0; i < 4; i++) free(p[i]);
  if (!good) bn_coef_free(k);
  *ok = good;
  return st;
}

void bn_coef_free(BnCoef *k) {
  free(k->a);
  free(k->shift);
  k->a = k->shift = NULL;
}

/* Both new constants from the filled buffers; frees them. */
static Status make_pair(Graph *g, const Value *w, double *wd, double *bd, int64_t nbias,
                        Value **nw, Value **nb, Error *err) {
  *nw = pat_const_from_f64(g, "folded BatchNormalization", w->dtype, w->rank, w->dims, wd);
  *nb = pat_const_from_f64(g, "folded BatchNormalization", w->dtype, 1, &nbias, bd);
  free(wd);
  free(bd);
  if (!*nw || !*nb) return err_set(err, ST_NOMEM, "%s", nomem);
  return ST_OK;
}

static double *alloc_zeroed(int64_t n) { return calloc(n > 0 ? (size_t)n : 1, sizeof(double)); }

Status bn_scale_rows(Graph *g, const Value *w, const Value *b, const BnCoef *k, Value **nw,
                     Value **nb, Error *err) {
  double *wd = pat_load_f64(w), *bd = alloc_zeroed(k->c);
  double *old_b = b ? pat_load_f64(b) : NULL;
  if (!wd || !bd || (b && !old_b)) {
    free(wd);
    free(bd);
    free(old_b);
    return err_set(err, ST_NOMEM, "%s", nomem);
  }
  int64_t per = k->c > 0 ? ir_value_numel(w) / k->c : 0;
  for (int64_t m = 0; m < k->c; m++) {
    for (int64_t i = 0; i < per; i++) wd[m * per + i] *= k->a[m];
    bd[m] = (b ? old_b[m] : 0) * k->a[m] + k->shift[m];
  }
  free(old_b);
  return make_pair(g, w, wd, bd, k->c, nw, nb, err);
}

bool bn_per_column(const Value *cv, int64_t n) {
  if (!ir_value_is_const(cv) || !dtype_is_float(cv->dtype)) return false;
  int64_t count = ir_value_numel(cv);
  if (count == 1) return cv->rank <= 2;
  if (count != n) return false;
  return cv->rank == 1 || (cv->rank == 2 && cv->dims[0] == 1);
}

Status bn_scale_columns(Graph *g, const Value *w, bool trans_b, const Value *cv, double beta,
                        const BnCoef *k, Value **nw, Value **nb, Error *err) {
  int64_t rows = w->dims[0], cols = w->dims[1];
  if ((trans_b ? rows : cols) != k->c)
    return err_set(err, ST_INTERNAL, "folding BatchNormalization: weight columns do not match");
  double *wd = pat_load_f64(w), *bd = alloc_zeroed(k->c);
  double *cd = cv ? pat_load_f64(cv) : NULL;
  if (!wd || !bd || (cv && !cd)) {
    free(wd);
    free(bd);
    free(cd);
    return err_set(err, ST_NOMEM, "%s", nomem);
  }
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) wd[r * cols + c] *= k->a[trans_b ? r : c];
  int64_t cn = cv ? ir_value_numel(cv) : 0;
  for (int64_t n = 0; n < k->c; n++) {
    double c = cv ? cd[cn == 1 ? 0 : n] : 0;
    bd[n] = beta * c * k->a[n] + k->shift[n];
  }
  free(cd);
  return make_pair(g, w, wd, bd, k->c, nw, nb, err);
}

bool bn_conv_unpadded(const Node *conv) {
  const char *ap = ir_attr_string(conv, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0) return false;
  const int64_t *pads;
  int count = ir_attr_ints(conv, "pads", &pads);
  for (int i = 0; i < count; i++)
    if (pads[i] != 0) return false;
  return true;
}

Status bn_scale_inputs(Graph *g, const Node *conv, const BnCoef *k, Value **nw, Value **nb,
                       bool *ok, Error *err) {
  *ok = false;
  const Value *w = conv->inputs[1], *b = pat_in(conv, 2);
  int64_t group = ir_attr_int(conv, "group", 1);
  if (w->rank < 2 || group < 1 || k->c % group != 0) return ST_OK;
  int64_t m_all = w->dims[0], cpg = k->c / group;
  if (m_all % group != 0 || w->dims[1] != cpg || (b && ir_value_numel(b) != m_all)) return ST_OK;
  int64_t mpg = m_all / group, ksize = ops_numel(w->rank - 2, w->dims + 2);
  double *wd = pat_load_f64(w), *bd = alloc_zeroed(m_all);
  double *old_b = b ? pat_load_f64(b) : NULL;
  if (!wd || !bd || (b && !old_b)) {
    free(wd);
    free(bd);
    free(old_b);
    return err_set(err, ST_NOMEM, "%s", nomem);
  }
  for (int64_t m = 0; m < m_all; m++) {
    double acc = b ? old_b[m] : 0;
    int64_t gi = m / mpg;
    for (int64_t j = 0; j < cpg; j++) {
      int64_t ci = gi * cpg + j;
      double *row = wd + (m * cpg + j) * ksize;
      for (int64_t t = 0; t < ksize; t++) {
        acc += row[t] * k->shift[ci]; /* uses the unscaled weight */
        row[t] *= k->a[ci];
      }
    }
    bd[m] = acc;
  }
  free(old_b);
  *ok = true;
  return make_pair(g, w, wd, bd, m_all, nw, nb, err);
}

Status bn_channel_consts(Graph *g, const Value *x, const BnCoef *k, Value **a, Value **c,
                         Error *err) {
  int64_t dims[IR_MAX_RANK];
  int rank = x->rank - 1;
  dims[0] = k->c;
  for (int i = 1; i < rank; i++) dims[i] = 1;
  *a = pat_const_from_f64(g, "BatchNormalization scale", x->dtype, rank, dims, k->a);
  *c = pat_const_from_f64(g, "BatchNormalization shift", x->dtype, rank, dims, k->shift);
  if (!*a || !*c) return err_set(err, ST_NOMEM, "%s", nomem);
  return ST_OK;
}
