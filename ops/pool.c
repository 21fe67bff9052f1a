/*
 * ops/pool.c: AveragePool, MaxPool (with the optional Indices output),
 * GlobalAveragePool and GlobalMaxPool.
 *
 * Window geometry (kernel_shape, strides, dilations, pads, auto_pad,
 * ceil_mode) comes from spatial.h.  Kernels walk each (image, channel)
 * plane in double, which holds float16/32 and int8/uint8 exactly; their
 * only scratch (ops.h) is one window's tap offsets.
 * Padding never contributes a value: MaxPool skips it, AveragePool counts
 * it in the divisor only with count_include_pad (and only the declared
 * pads, not the extra room ceil_mode may add at the end).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "spatial.h"

typedef struct PoolGeom {
  int64_t planes;       /* N * C */
  int64_t in_size, out_size, kernel_size;
  Window win;
} PoolGeom;

static Status pool_geom(const Node *n, bool allow_int8, PoolGeom *pg, Error *err) {
  const Value *x = n->inputs[0];
  bool ok = spatial_is_float(x->dtype) ||
            (allow_int8 && (x->dtype == DT_INT8 || x->dtype == DT_UINT8));
  if (!ok)
    return err_set(err, ST_UNSUPPORTED, "input type %s is not supported", dtype_name(x->dtype));
  if (x->rank < 3)
    return err_set(err, ST_SHAPE, "the input has rank %d, expected at least 3 (N, C, spatial...)",
                   x->rank);
  int64_t ceil_mode = ir_attr_int(n, "ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1)
    return err_set(err, ST_INVALID, "ceil_mode is %" PRId64 ", expected 0 or 1", ceil_mode);
  int nsp = x->rank - 2;
  TRY(spatial_read(n, nsp, x->dims + 2, NULL, &pg->win, err));
  TRY(spatial_forward_out(&pg->win, ceil_mode == 1, err));
  pg->planes = x->dims[0] * x->dims[1];
  pg->in_size = spatial_prod(nsp, pg->win.in);
  pg->out_size = spatial_prod(nsp, pg->win.out);
  pg->kernel_size = spatial_prod(nsp, pg->win.kernel);
  return ST_OK;
}

static Status pool_set_output(Node *n, int i, DType dt, const PoolGeom *pg, Error *err) {
  const Value *x = n->inputs[0];
  int64_t dims[IR_MAX_RANK] = {x->dims[0], x->dims[1]};
  memcpy(dims + 2, pg->win.out, (size_t)pg->win.nsp * sizeof *dims);
  return ops_set_output(n, i, dt, x->rank, dims, err);
}

/* One output position's window: the input offset of every kernel tap that
 * lands inside the input, plus how many taps land inside the declared
 * (not ceil_mode-extended) padded extent. */
typedef struct Taps {
  int64_t count;   /* taps inside the input */
  int64_t padded;  /* taps inside input + declared pads */
} Taps;

static Taps window_taps(const Window *w, const int64_t *o, int64_t kernel_size,
                        const int64_t *in_strides, int64_t *offs) {
  int64_t kk[SPATIAL_MAX_DIM];
  Taps t = {0, 0};
  for (int64_t kp = 0; kp < kernel_size; kp++) {
    spatial_unravel(kp, w->nsp, w->kernel, kk);
    bool inside = true, in_pad = true;
    int64_t off = 0;
    for (int d = 0; d < w->nsp; d++) {
      int64_t i = o[d] * w->stride[d] - w->pad_begin[d] + kk[d] * w->dilation[d];
      if (i < 0 || i >= w->in[d]) inside = false;
      if (i >= w->in[d] + w->pad_end[d]) in_pad = false;
      off += i * in_strides[d];
    }
    if (in_pad) t.padded++;
    if (inside) offs[t.count++] = off;
  }
  return t;
}

/* A 0/1 attribute (default 0): the shape rules reject other values, so the
 * kernels may simply test for 1. */
static Status pool_check_flag(const Node *n, const char *name, Error *err) {
  int64_t v = ir_attr_int(n, name, 0);
  if (v != 0 && v != 1)
    return err_set(err, ST_INVALID, "%s is %" PRId64 ", expected 0 or 1", name, v);
  return ST_OK;
}

/* A window's tap offsets (kernel_size of them) live in kernel scratch. */
static size_t pool_scratch(const Node *n, bool allow_int8) {
  PoolGeom pg;
  Error e;
  if (pool_geom(n, allow_int8, &pg, &e) != ST_OK) return 0;
  return ops_scratch_add(0, pg.kernel_size, sizeof(int64_t));
}

static Status pool_offsets(const Node *n, void *const out[], size_t promised,
                           const PoolGeom *pg, int64_t **offs, Error *err) {
  OpsScratch s = ops_scratch_begin(out, n->num_outputs, promised);
  void *p;
  TRY(ops_scratch_take(&s, pg->kernel_size, sizeof(int64_t), &p, err));
  *offs = p;
  return ST_OK;
}

/* ---- AveragePool ---------------------------------------------------------- */

Status shape_average_pool(Graph *g, Node *n, Error *err) {
  PoolGeom pg;
  TRY(pool_geom(n, false, &pg, err));
  TRY(pool_check_flag(n, "count_include_pad", err));
  return pool_set_output(n, 0, n->inputs[0]->dtype, &pg, err);
}

size_t scratch_average_pool(const Node *n) { return pool_scratch(n, false); }

Status eval_average_pool(const Node *n, const void *const in[], void *const out[], Error *err) {
  PoolGeom pg;
  TRY(pool_geom(n, false, &pg, err));
  bool include_pad = ir_attr_int(n, "count_include_pad", 0) == 1;
  DType dt = n->inputs[0]->dtype;
  int64_t *offs;
  TRY(pool_offsets(n, out, scratch_average_pool(n), &pg, &offs, err));
  const void *x = in[0];
  int64_t in_strides[SPATIAL_MAX_DIM], o[SPATIAL_MAX_DIM];
  ops_strides(pg.win.nsp, pg.win.in, in_strides);
  for (int64_t op = 0; op < pg.out_size; op++) {
    spatial_unravel(op, pg.win.nsp, pg.win.out, o);
    Taps t = window_taps(&pg.win, o, pg.kernel_size, in_strides, offs);
    int64_t divisor = include_pad ? t.padded : t.count;
    for (int64_t p = 0; p < pg.planes; p++) {
      int64_t xp = p * pg.in_size;
      double sum = 0.0;
      for (int64_t k = 0; k < t.count; k++) sum += spatial_ld(dt, x, xp + offs[k]);
      spatial_st(dt, out[0], p * pg.out_size + op, divisor > 0 ? sum / (double)divisor : NAN);
    }
  }
  return ST_OK;
}

/* ---- MaxPool -------------------------------------------------------------- */

Status shape_max_pool(Graph *g, Node *n, Error *err) {
  PoolGeom pg;
  TRY(pool_geom(n, true, &pg, err));
  TRY(pool_check_flag(n, "storage_order", err));
  TRY(pool_set_output(n, 0, n->inputs[0]->dtype, &pg, err));
  if (n->num_outputs > 1) TRY(pool_set_output(n, 1, DT_INT64, &pg, err));
  return ST_OK;
}

/* Index of a spatial offset in column-major order (storage_order 1). */
static int64_t column_major(const Window *w, int64_t row_major_off) {
  int64_t pos[SPATIAL_MAX_DIM], idx = 0, stride = 1;
  spatial_unravel(row_major_off, w->nsp, w->in, pos);
  for (int d = 0; d < w->nsp; d++) {
    idx += pos[d] * stride;
    stride *= w->in[d];
  }
  return idx;
}

size_t scratch_max_pool(const Node *n) { return pool_scratch(n, true); }

Status eval_max_pool(const Node *n, const void *const in[], void *const out[], Error *err) {
  PoolGeom pg;
  TRY(pool_geom(n, true, &pg, err));
  bool col_major = ir_attr_int(n, "storage_order", 0) == 1;
  int64_t *indices = n->num_outputs > 1 && n->outputs[1] ? out[1] : NULL;
  DType dt = n->inputs[0]->dtype;
  /* An all-padding window has no maximum: report the type's lowest value. */
  double lowest = dt == DT_INT8 ? -128.0 : dt == DT_UINT8 ? 0.0 : -INFINITY;
  int64_t *offs;
  TRY(pool_offsets(n, out, scratch_max_pool(n), &pg, &offs, err));
  const void *x = in[0];
  int64_t in_strides[SPATIAL_MAX_DIM], o[SPATIAL_MAX_DIM];
  ops_strides(pg.win.nsp, pg.win.in, in_strides);
  for (int64_t op = 0; op < pg.out_size; op++) {
    spatial_unravel(op, pg.win.nsp, pg.win.out, o);
    Taps t = window_taps(&pg.win, o, pg.kernel_size, in_strides, offs);
    for (int64_t p = 0; p < pg.planes; p++) {
      int64_t xp = p * pg.in_size;
      double best = lowest;
      int64_t best_off = -1;
      for (int64_t k = 0; k < t.count; k++) {
        double v = spatial_ld(dt, x, xp + offs[k]);
        if (best_off < 0 || v > best) {
          best = v;
          best_off = offs[k];
        }
      }
      spatial_st(dt, out[0], p * pg.out_size + op, best);
      if (indices) {
        int64_t sp = best_off < 0 ? 0 : col_major ? column_major(&pg.win, best_off) : best_off;
        indices[p * pg.out_size + op] = p * pg.in_size + sp;
      }
    }
  }
  return ST_OK;
}

/* ---- GlobalAveragePool / GlobalMaxPool ------------------------------------ */

static Status global_shape(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  if (!spatial_is_float(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "input type %s is not supported (float types only)",
                   dtype_name(x->dtype));
  if (x->rank < 3)
    return err_set(err, ST_SHAPE, "the input has rank %d, expected at least 3 (N, C, spatial...)",
                   x->rank);
  int64_t dims[IR_MAX_RANK];
  for (int d = 0; d < x->rank; d++) dims[d] = d < 2 ? x->dims[d] : 1;
  return ops_set_output(n, 0, x->dtype, x->rank, dims, err);
}

/* Reduces each (image, channel) plane to its mean or maximum. */
static Status global_eval(const Node *n, const void *x_raw, void *y_raw, bool is_max,
                          Error *err) {
  (void)err;
  const Value *x = n->inputs[0];
  DType dt = x->dtype;
  int64_t planes = x->dims[0] * x->dims[1];
  int64_t size = spatial_prod(x->rank - 2, x->dims + 2);
  for (int64_t p = 0; p < planes; p++) {
    double acc = is_max ? -INFINITY : 0.0;
    for (int64_t i = 0; i < size; i++) {
      double v = spatial_ld(dt, x_raw, p * size + i);
      if (!is_max) acc += v;
      else if (v > acc || isnan(v)) acc = v;
    }
    spatial_st(dt, y_raw, p, is_max ? acc : size > 0 ? acc / (double)size : NAN);
  }
  return ST_OK;
}

Status shape_global_average_pool(Graph *g, Node *n, Error *err) { return global_shape(g, n, err); }
Status eval_global_average_pool(const Node *n, const void *const in[], void *const out[],
                                Error *err) {
  return global_eval(n, in[0], out[0], false, err);
}

Status shape_global_max_pool(Graph *g, Node *n, Error *err) { return global_shape(g, n, err); }
Status eval_global_max_pool(const Node *n, const void *const in[], void *const out[], Error *err) {
  return global_eval(n, in[0], out[0], true, err);
}
