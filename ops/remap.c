/*
 * ops/remap.c: the copy kernel of movement ops written as separable index
 * maps (MvMap, movement.h), and the host-side helpers that build and
 * simplify those maps.
 *
 * The kernel reads a flat int64 descriptor so that, called with a constant
 * one, LLVM specializes it completely (rank, dims and element size become
 * constants, the per-axis loops unroll):
 *
 *   [0] R >= 1 axes   [1] element bytes   [2] fill bits   [3] base
 *   [4 .. 4+R)        dims
 *   [4+R .. 4+2R)     where each axis's table starts in the descriptor
 *   [4+2R], [5+2R], [6+2R]  pre, mid, post: the last axis is pre fill
 *                     elements, then mid consecutive input elements, then
 *                     post fill elements; mid < 0 when it is not that shape
 *                     and is read element by element through its table
 *   tables            int64 source offsets, MV_FILL for the fill element
 *
 * A row is one run of the last axis; rows [lo, hi) are a task's share.
 */
#include "movement.h"

#include <stdlib.h>
#include <string.h>

static inline void put_fill(char *o, int64_t n, int64_t es, uint64_t fill) {
  for (int64_t j = 0; j < n; j++) memcpy(o + j * es, &fill, (size_t)es);
}

/* Inlined into each node's wrapper in the generated code, so that the
 * constant descriptor specializes it. */
#ifdef ONNXC_KERNEL_BITCODE
#define REMAP_INLINE __attribute__((always_inline))
#else
#define REMAP_INLINE
#endif

REMAP_INLINE void onnxc_remap_rows(const int64_t *d, const void *src, void *dst,
                                                     int64_t lo, int64_t hi) {
  const int64_t R = d[0], es = d[1], base = d[3];
  const uint64_t fill = (uint64_t)d[2];
  const int64_t *dims = d + 4, *toff = d + 4 + R;
  const int64_t pre = d[4 + 2 * R], mid = d[5 + 2 * R], post = d[6 + 2 * R];
  const int64_t W = dims[R - 1];
  const int64_t *last = d + toff[R - 1];
  const char *in = src;
  char *out = dst;
  int64_t idx[IR_MAX_RANK] = {0};
  int64_t r = lo;
  for (int64_t k = R - 2; k >= 0; k--) {
    idx[k] = r % dims[k];
    r /= dims[k];
  }
  for (int64_t row = lo; row < hi; row++) {
    int64_t off = base;
    int filled = 0;
    for (int64_t k = 0; k < R - 1; k++) {
      int64_t t = d[toff[k] + idx[k]];
      if (t == MV_FILL)
        filled = 1; /* never added: INT64_MIN would overflow */
      else
        off += t;
    }
    char *o = out + row * W * es;
    if (filled) {
      put_fill(o, W, es, fill);
    } else if (mid >= 0) {
      put_fill(o, pre, es, fill);
      if (mid > 0) memcpy(o + pre * es, in + (off + last[pre]) * es, (size_t)(mid * es));
      put_fill(o + (pre + mid) * es, post, es, fill);
    } else {
      for (int64_t j = 0; j < W; j++) {
        int64_t t = last[j];
        if (t == MV_FILL)
          memcpy(o + j * es, &fill, (size_t)es);
        else
          memcpy(o + j * es, in + (off + t) * es, (size_t)es);
      }
    }
    for (int64_t k = R - 2; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
}

#ifndef ONNXC_KERNEL_BITCODE

Status mv_map_alloc(MvMap *m, int rank, const int64_t *dims, size_t es, Error *err) {
  memset(m, 0, sizeof *m);
  if (rank < 0 || rank > IR_MAX_RANK) return err_set(err, ST_UNSUPPORTED, "rank %d", rank);
  int64_t total = 0;
  for (int k = 0; k < rank; k++) {
    if (dims[k] < 1 || dims[k] > MV_MAP_MAX_ENTRIES - total)
      return err_set(err, ST_UNSUPPORTED, "index tables too large or empty");
    total += dims[k];
  }
  m->rank = rank;
  m->es = es;
  for (int k = 0; k < rank; k++) {
    m->dims[k] = dims[k];
    if (!(m->table[k] = calloc((size_t)dims[k], sizeof *m->table[k]))) {
      mv_map_free(m);
      return err_set(err, ST_NOMEM, "out of memory for an index map");
    }
  }
  return ST_OK;
}

Status mv_map_for_output(const Node *n, MvMap *m, Error *err) {
  memset(m, 0, sizeof *m);
  const Value *x = n->inputs[0], *y = n->outputs[0];
  size_t es = dtype_size(x->dtype);
  if (x->dtype == DT_STRING || y->dtype != x->dtype || (es != 1 && es != 2 && es != 4 && es != 8))
    return err_set(err, ST_UNSUPPORTED, "no element copy for %s", dtype_name(x->dtype));
  if (ir_value_numel(x) == 0 || ir_value_numel(y) == 0)
    return err_set(err, ST_UNSUPPORTED, "empty tensor");
  static const int64_t one = 1;
  return mv_map_alloc(m, y->rank ? y->rank : 1, y->rank ? y->dims : &one, es, err);
}

void mv_map_free(MvMap *m) {
  for (int k = 0; k < IR_MAX_RANK; k++) {
    free(m->table[k]);
    m->table[k] = NULL;
  }
  m->rank = 0;
}

/* Axis k is t[i] = t[0] + i * step with no fill (any step for size 1). */
static bool affine(const MvMap *m, int k, int64_t *step) {
  const int64_t *t = m->table[k];
  if (t[0] == MV_FILL) return false;
  *step = m->dims[k] > 1 ? t[1] - t[0] : 0;
  for (int64_t i = 1; i < m->dims[k]; i++)
    if (t[i] == MV_FILL || t[i] - t[i - 1] != *step) return false;
  return true;
}

static void drop_axis(MvMap *m, int k) {
  free(m->table[k]);
  for (int j = k; j + 1 < m->rank; j++) {
    m->dims[j] = m->dims[j + 1];
    m->table[j] = m->table[j + 1];
  }
  m->rank--;
  m->table[m->rank] = NULL;
}

void mv_map_simplify(MvMap *m) {
  /* Size-1 axes without fill only add a constant. */
  for (int k = m->rank - 1; k >= 0 && m->rank > 1; k--)
    if (m->dims[k] == 1 && m->table[k][0] != MV_FILL) {
      m->base += m->table[k][0];
      drop_axis(m, k);
    }
  /* Neighbours k, k+1 with t_k step = t_k+1 step * dims[k+1] form one axis. */
  for (int k = m->rank - 2; k >= 0; k--) {
    int64_t sk, sn;
    if (!affine(m, k, &sk) || !affine(m, k + 1, &sn) || sk != sn * m->dims[k + 1]) continue;
    int64_t n = m->dims[k] * m->dims[k + 1];
    /* Outer axes cost a table entry per index whether merged or not; only
     * merging into the last axis makes the rows longer. */
    if (k + 1 != m->rank - 1 && n > ((int64_t)1 << 16)) continue;
    if (n > MV_MAP_MAX_ENTRIES) continue;
    int64_t *t = malloc((size_t)n * sizeof *t);
    if (!t) return; /* stays correct, only less merged */
    int64_t t0 = m->table[k][0] + m->table[k + 1][0];
    for (int64_t i = 0; i < n; i++) t[i] = t0 + i * sn;
    free(m->table[k]);
    m->table[k] = t;
    m->dims[k] = n;
    drop_axis(m, k + 1);
  }
}

MvMapFn mv_map_fn(OpKind op) {
  switch (op) {
  case OP_TRANSPOSE: return mv_map_transpose;
  case OP_SLICE: return mv_map_slice;
  case OP_PAD: return mv_map_pad;
  case OP_GATHER: return mv_map_gather;
  case OP_RESIZE: return mv_map_resize;
  default: return NULL;
  }
}

bool mv_map_contiguous(const Node *n, int64_t *elem_offset) {
  MvMapFn fn = mv_map_fn(n->op);
  if (!fn || n->num_outputs != 1 || !n->outputs[0] || n->num_inputs < 1 || !n->inputs[0])
    return false;
  MvMap m;
  Error err;
  if (fn(n, &m, &err) != ST_OK) return false;
  mv_map_simplify(&m);
  int64_t step = 0;
  bool ok = m.rank == 1 && affine(&m, 0, &step) && (step == 1 || m.dims[0] == 1) &&
            m.dims[0] == ir_value_numel(n->outputs[0]);
  if (ok) *elem_offset = m.base + m.table[0][0];
  mv_map_free(&m);
  return ok;
}

#endif
