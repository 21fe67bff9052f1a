/*
 * ops/trilu.c: Trilu, the upper or lower triangle of each matrix in the
 * last two dimensions.  Element (i, j) is kept when j - i >= k (upper) or
 * j - i <= k (lower); the rest become zero.  k is an optional scalar input
 * that only changes values, so it need not be a constant.
 */
#include "movement.h"

#include <inttypes.h>
#include <string.h>

static Status trilu_k(const Node *n, const void *buf, int64_t *k, Error *err) {
  *k = 0;
  const Value *kv = n->num_inputs > 1 ? n->inputs[1] : NULL;
  if (!kv) return ST_OK;
  TRY(mv_check_index_type(kv, "input 1 ('k')", err));
  if (ir_value_numel(kv) != 1) return err_set(err, ST_INVALID, "k must be a scalar");
  if (buf) *k = mv_index_at(kv->dtype, buf, 0);
  return ST_OK;
}

Status shape_trilu(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int64_t k;
  if (x->rank < 2) return err_set(err, ST_INVALID, "input must have rank >= 2, not %d", x->rank);
  TRY(trilu_k(n, NULL, &k, err));
  return ops_set_output_like(n, 0, x, err);
}

Status eval_trilu(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  int64_t numel = ir_value_numel(x);
  if (numel == 0) return ST_OK;
  int64_t k;
  TRY(trilu_k(n, n->num_inputs > 1 ? in[1] : NULL, &k, err));
  bool upper = ir_attr_int(n, "upper", 1) != 0;
  size_t es = dtype_size(x->dtype);
  int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
  memcpy(out[0], in[0], (size_t)numel * es);
  char *y = out[0];
  for (int64_t m = 0; m < numel; m += rows * cols)
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) {
        /* j - i is within +-2^40; k may be anything. */
        bool keep = upper ? j - i >= k : j - i <= k;
        if (!keep) memset(y + (size_t)(m + i * cols + j) * es, 0, es);
      }
  return ST_OK;
}
