/* Attention reading and writing head split / merge Transposes in place
 * (see attn_views.h). */
#include "attn_views.h"

#include <stdlib.h>
#include <string.h>

#include "../../ops/ops.h"

/* The kernel's limits on any target (attn_plan_fits at 16 lanes). */
#define VIEW_MAX_HEAD_DIM 1024

static bool is_f32_static(const Value *v) {
  return v && v->dtype == DT_FLOAT32 && ir_value_is_static(v);
}

/* Same checks as the reference's shape rule, answered with true/false. */
static bool shapes_ok(const Node *n) {
  const Value *q = n->inputs[0], *k = n->inputs[1], *v = n->inputs[2];
  const Value *b = n->num_inputs > 3 ? n->inputs[3] : NULL;
  if (!is_f32_static(q) || !is_f32_static(k) || !is_f32_static(v)) return false;
  if (b && !is_f32_static(b)) return false;
  int r = q->rank;
  if (r < 2 || r > IR_MAX_RANK || k->rank != r || v->rank != r) return false;
  for (int i = 0; i < r - 2; i++)
    if (k->dims[i] != q->dims[i] || v->dims[i] != q->dims[i]) return false;
  if (k->dims[r - 1] != q->dims[r - 1] || v->dims[r - 2] != k->dims[r - 2]) return false;
  const Value *o = n->outputs[0];
  if (!is_f32_static(o) || o->rank != r || o->dims[r - 1] != v->dims[r - 1]) return false;
  if (b) {
    if (b->rank > r) return false;
    for (int i = 0; i < b->rank; i++) {
      int a = r - b->rank + i;
      int64_t want = a == r - 1 ? k->dims[r - 2] : q->dims[a];
      if (b->dims[i] != 1 && b->dims[i] != want) return false;
    }
  }
  return true;
}

bool attn_lowerable(const Node *n) {
  if (n->dead || n->op != OP_ATTENTION || n->num_inputs < 3 || n->num_inputs > 4 ||
      n->num_outputs < 1 || !n->inputs[0] || !n->inputs[1] || !n->inputs[2] || !n->outputs[0])
    return false;
  if (!shapes_ok(n)) return false;
  const Value *q = n->inputs[0], *k = n->inputs[1], *v = n->inputs[2];
  int r = q->rank;
  int64_t nq = q->dims[r - 2], m = k->dims[r - 2], d = q->dims[r - 1], dv = v->dims[r - 1];
  int64_t lim = INT64_C(1) << 40;
  return nq >= 1 && m >= 1 && d >= 1 && dv >= 1 && nq <= lim && m <= lim &&
         d <= VIEW_MAX_HEAD_DIM && dv <= VIEW_MAX_HEAD_DIM && ops_numel(r - 2, q->dims) >= 1;
}

/* n's permutation keeps its last axis; perm filled (rank of the input). */
static bool keeps_last(const Node *n, int rank, int *perm) {
  const int64_t *p;
  int count = ir_attr_ints(n, "perm", &p);
  if (count != rank || rank < 2 || rank > IR_MAX_RANK) return false; /* absent = reverse */
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < rank; i++) {
    if (p[i] < 0 || p[i] >= rank || seen[p[i]]) return false;
    seen[p[i]] = true;
    perm[i] = (int)p[i];
  }
  return perm[rank - 1] == rank - 1;
}

static bool live_transpose(const Node *n) {
  return !n->dead && n->op == OP_TRANSPOSE && n->num_inputs == 1 && n->num_outputs == 1 &&
         n->inputs[0] && n->outputs[0] && is_f32_static(n->inputs[0]) &&
         is_f32_static(n->outputs[0]) && ir_value_numel(n->outputs[0]) > 0;
}

/* v is read only by lowerable Attentions, as Q, K or V. */
static bool read_by_attention_only(const Graph *g, const Value *v) {
  if (v->is_output) return false;
  int uses = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *r = g->nodes[i];
    if (r->dead) continue;
    for (int j = 0; j < r->num_inputs; j++) {
      if (r->inputs[j] != v) continue;
      if (j > 2 || !attn_lowerable(r)) return false;
      uses++;
    }
  }
  return uses > 0;
}

/* n is a Gather of one constant index along axis 0 (a view of one block). */
static bool gather_of_one(const Node *n, int64_t *index) {
  if (n->dead || n->op != OP_GATHER || n->num_inputs != 2 || !n->inputs[0] || !n->outputs[0])
    return false;
  const Value *x = n->inputs[0], *ind = n->inputs[1];
  if (!ind || !ir_value_is_const(ind) || ind->rank != 0 || !ir_value_is_static(x) || x->rank < 1)
    return false;
  if (ir_attr_int(n, "axis", 0) != 0 && ir_attr_int(n, "axis", 0) != -x->rank) return false;
  int64_t c;
  if (ind->dtype == DT_INT64) c = *(const int64_t *)ind->data;
  else if (ind->dtype == DT_INT32) c = *(const int32_t *)ind->data;
  else return false;
  if (c < 0) c += x->dims[0];
  if (c < 0 || c >= x->dims[0]) return false;
  *index = c;
  return true;
}

bool attn_split_view(const Graph *g, const Node *n) {
  int perm[IR_MAX_RANK];
  if (!live_transpose(n) || !keeps_last(n, n->inputs[0]->rank, perm)) return false;
  const Value *x = n->inputs[0], *t = n->outputs[0];
  if (ir_value_is_const(x) || t->is_output) return false;
  int uses = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *r = g->nodes[i];
    if (r->dead) continue;
    for (int j = 0; j < r->num_inputs; j++) {
      if (r->inputs[j] != t) continue;
      int64_t c;
      bool ok = r->op == OP_ATTENTION ? j <= 2 && attn_lowerable(r)
                                      : j == 0 && gather_of_one(r, &c) &&
                                            read_by_attention_only(g, r->outputs[0]);
      if (!ok) return false;
      uses++;
    }
  }
  return uses > 0;
}

bool attn_merge_view(const Graph *g, const Node *n) {
  int perm[IR_MAX_RANK];
  if (!live_transpose(n) || !keeps_last(n, n->inputs[0]->rank, perm)) return false;
  const Value *o = n->inputs[0];
  const Node *a = o->producer;
  if (!a || a->outputs[0] != o || !attn_lowerable(a)) return false;
  return !o->is_output && !o->is_input && !n->outputs[0]->is_output && ir_use_count(g, o) == 1;
}

/* Row-major strides of v's dims. */
static void dense_strides(const Value *v, int64_t *s) {
  int64_t acc = 1;
  for (int i = v->rank - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= v->dims[i];
  }
}

/* Strides of split view t (n's result) in the storage of n's input. */
static void split_strides(const Node *n, int64_t *ts) {
  int perm[IR_MAX_RANK];
  int64_t xs[IR_MAX_RANK];
  const Value *x = n->inputs[0];
  keeps_last(n, x->rank, perm);
  dense_strides(x, xs);
  for (int i = 0; i < x->rank; i++) ts[i] = xs[perm[i]];
}

bool attn_split_gather_offset(const Graph *g, const Node *n, size_t *bytes) {
  int64_t c;
  if (!gather_of_one(n, &c)) return false;
  const Node *t = n->inputs[0]->producer;
  if (!t || !attn_split_view(g, t)) return false;
  int64_t ts[IR_MAX_RANK];
  split_strides(t, ts);
  *bytes = (size_t)(c * ts[0]) * sizeof(float);
  return true;
}

/* The merge Transpose reading Attention result o, or NULL. */
static const Node *merge_reader(const Graph *g, const Value *o) {
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *r = g->nodes[i];
    if (!r->dead && r->num_inputs >= 1 && r->inputs[0] == o && attn_merge_view(g, r)) return r;
  }
  return NULL;
}

Status attn_view_layout(const Graph *g, const Value *v, bool is_output, int64_t *ld,
                        int64_t **off, Error *err) {
  *ld = 0;
  *off = NULL;
  int r = v->rank;
  int64_t vs[IR_MAX_RANK];
  const Node *p = v->producer;
  if (is_output) {
    const Node *m = merge_reader(g, v);
    if (!m) return ST_OK;
    int perm[IR_MAX_RANK];
    int64_t ps[IR_MAX_RANK];
    keeps_last(m, r, perm);
    dense_strides(m->outputs[0], ps);
    for (int i = 0; i < r; i++) vs[perm[i]] = ps[i];
  } else if (p && p->op == OP_TRANSPOSE && attn_split_view(g, p)) {
    split_strides(p, vs);
  } else if (p && p->op == OP_GATHER && p->inputs[0]->producer &&
             attn_split_gather_offset(g, p, &(size_t){0})) {
    int64_t ts[IR_MAX_RANK];
    split_strides(p->inputs[0]->producer, ts);
    for (int i = 0; i < r; i++) vs[i] = ts[i + 1];
  } else {
    return ST_OK;
  }
  *ld = vs[r - 2];
  int64_t lead = ops_numel(r - 2, v->dims);
  int64_t *o = malloc((size_t)(lead > 0 ? lead : 1) * sizeof *o);
  if (!o) return err_set(err, ST_NOMEM, "out of memory for attention offsets");
  int64_t idx[IR_MAX_RANK] = {0};
  for (int64_t t = 0; t < lead; t++) {
    int64_t at = 0;
    for (int i = 0; i < r - 2; i++) at += idx[i] * vs[i];
    o[t] = at;
    for (int i = r - 3; i >= 0; i--) {
      if (++idx[i] < v->dims[i]) break;
      idx[i] = 0;
    }
  }
  *off = o;
  return ST_OK;
}
