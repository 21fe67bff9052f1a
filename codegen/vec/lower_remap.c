/*
 * Movement ops that are separable index maps (ops/movement.h: Transpose
 * beyond the tiled kernel's patterns, Slice, Split, Pad, Gather with
 * constant indices, nearest Resize) lowered to one partitioned copy each: the op's map,
 * simplified, becomes a constant descriptor of onnxc_remap_rows, which
 * LLVM specializes on it.  A unit is one row (a run of the last axis).
 */
#include "../lower.h"
#include "../parallel.h"
#include "../../ops/movement.h"
#include "vec_transpose.h"

#include <stdlib.h>
#include <string.h>

/* Descriptors above this many int64 entries stay with the reference
 * kernel: the tables would cost more object size than the copy is worth. */
#define REMAP_MAX_DESC ((int64_t)1 << 18)

/* The last axis as pre fill, mid consecutive elements, post fill; mid = -1
 * when it is not of that shape. */
static void last_axis_shape(const MvMap *m, int64_t *pre, int64_t *mid, int64_t *post) {
  const int64_t *t = m->table[m->rank - 1];
  int64_t w = m->dims[m->rank - 1], a = 0, b = w;
  while (a < w && t[a] == MV_FILL) a++;
  while (b > a && t[b - 1] == MV_FILL) b--;
  *pre = a;
  *mid = b - a;
  *post = w - b;
  for (int64_t j = a + 1; j < b; j++)
    if (t[j] == MV_FILL || t[j] != t[j - 1] + 1) *mid = -1;
  if (*mid < 0) *pre = *post = 0;
}

/* The flat descriptor of ops/remap.c; NULL when too large or out of memory. */
static int64_t *build_desc(const MvMap *m, int64_t *count) {
  int R = m->rank;
  int64_t pre, mid, post;
  last_axis_shape(m, &pre, &mid, &post);
  int64_t total = 7 + 2 * (int64_t)R;
  for (int k = 0; k < R; k++) {
    /* A contiguous last axis is read at one entry only. */
    int64_t len = k == R - 1 && mid >= 0 ? pre + 1 : m->dims[k];
    if (len > m->dims[k]) len = m->dims[k];
    total += len;
  }
  if (total > REMAP_MAX_DESC) return NULL;
  int64_t *d = calloc((size_t)total, sizeof *d);
  if (!d) return NULL;
  d[0] = R;
  d[1] = (int64_t)m->es;
  memcpy(&d[2], &m->fill, sizeof m->fill);
  d[3] = m->base;
  int64_t at = 7 + 2 * (int64_t)R;
  for (int k = 0; k < R; k++) {
    int64_t len = k == R - 1 && mid >= 0 ? pre + 1 : m->dims[k];
    if (len > m->dims[k]) len = m->dims[k];
    d[4 + k] = m->dims[k];
    d[4 + R + k] = at;
    memcpy(d + at, m->table[k], (size_t)len * sizeof *d);
    at += len;
  }
  d[4 + 2 * R] = pre;
  d[5 + 2 * R] = mid;
  d[6 + 2 * R] = post;
  *count = total;
  return d;
}

/* Emits the copy of map m (consumed) from src to dst at c->b; false when
 * its descriptor would be too large. */
static bool emit_map(CgCtx *c, MvMap *m, LLVMValueRef src, LLVMValueRef dst) {
  LLVMValueRef kernel = LLVMGetNamedFunction(c->mod, "onnxc_remap_rows");
  mv_map_simplify(m);
  int64_t numel = 1;
  for (int k = 0; k < m->rank; k++) numel *= m->dims[k];
  int64_t count = 0, *desc = kernel ? build_desc(m, &count) : NULL;
  int64_t width = m->dims[m->rank - 1];
  size_t es = m->es;
  mv_map_free(m);
  if (!desc) return false;
  LLVMValueRef g = cg_const_blob(c, desc, (size_t)count * sizeof *desc, "remap");
  free(desc);
  LLVMValueRef fn, lo, hi;
  LLVMBuilderRef b;
  cg_begin_par_kernel(c, "remap", 2, true, &fn, &b, &lo, &hi);
  LLVMValueRef args[5] = {g, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), lo, hi};
  LLVMBuildCall2(b, LLVMGlobalGetValueType(kernel), kernel, args, 5, "");
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  LLVMValueRef call_args[2] = {src, dst};
  cg_call_par_kernel(c, fn, call_args, 2, numel / width,
                     cg_cost_ns(c, 0, 2.0 * (double)numel * (double)es));
  return true;
}

static Status lower_map(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                        MvMapFn map, bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 1 || n->num_outputs != 1 || !in[0] || !out[0]) return ST_OK;
  MvMap m;
  Error why;
  Status st = map(n, &m, &why);
  if (st == ST_NOMEM) return err_set(err, ST_NOMEM, "out of memory lowering %s", op_info[n->op].name);
  if (st != ST_OK) return ST_OK; /* not a copy this kernel does: the reference kernel runs */
  *handled = emit_map(c, &m, in[0], out[0]);
  return ST_OK;
}

/* Every output of a Split is a copy of a block of the input; all or none
 * are lowered (the maps are checked before anything is emitted). */
Status cg_lower_split(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                      bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 1 || !in[0]) return ST_OK;
  for (int j = 0; j < n->num_outputs; j++) {
    MvMap m;
    Error why;
    if (!n->outputs[j] || !out[j]) continue;
    Status st = mv_map_split(n, j, &m, &why);
    if (st == ST_NOMEM) return err_set(err, ST_NOMEM, "out of memory lowering Split");
    if (st != ST_OK) return ST_OK;
    mv_map_simplify(&m);
    int64_t count = 0, *desc = build_desc(&m, &count);
    mv_map_free(&m);
    if (!desc) return ST_OK;
    free(desc);
  }
  /* Several partitioned copies: the last one's decision is what
   * --print-kernels shows. */
  for (int j = 0; j < n->num_outputs; j++) {
    MvMap m;
    Error why;
    if (!n->outputs[j] || !out[j]) continue;
    if (mv_map_split(n, j, &m, &why) != ST_OK || !emit_map(c, &m, in[0], out[j]))
      return err_set(err, ST_INTERNAL, "Split output %d could not be lowered after its check", j);
  }
  *handled = true;
  return ST_OK;
}

Status cg_lower_transpose(CgCtx *c, const Node *n, LLVMValueRef const in[],
                          LLVMValueRef const out[], bool *handled, Error *err) {
  *handled = false;
  if (n->num_outputs == 1 && in[0] && out[0] && n->inputs[0]->dtype == DT_FLOAT32 &&
      n->outputs[0]->dtype == DT_FLOAT32) {
    const int64_t *perm;
    int np = ir_attr_ints(n, "perm", &perm);
    if (vt_emit_transpose(c, n->inputs[0], np, perm, in[0], out[0]) ||
        vt_emit_transpose_planes(c, n->inputs[0], np, perm, in[0], out[0])) {
      *handled = true;
      return ST_OK;
    }
  }
  return lower_map(c, n, in, out, mv_map_transpose, handled, err);
}

Status cg_lower_slice(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                      bool *handled, Error *err) {
  return lower_map(c, n, in, out, mv_map_slice, handled, err);
}

Status cg_lower_pad(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  return lower_map(c, n, in, out, mv_map_pad, handled, err);
}

Status cg_lower_gather(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                       bool *handled, Error *err) {
  return lower_map(c, n, in, out, mv_map_gather, handled, err);
}

Status cg_lower_resize(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                       bool *handled, Error *err) {
  return lower_map(c, n, in, out, mv_map_resize, handled, err);
}
