/* Liveness-based workspace planning; see memplan.h. */
#include "memplan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/movement.h"
#include "attention/attn_views.h"
#include "lower.h"

bool memplan_is_view(const Node *n) {
  switch (n->op) {
  case OP_RESHAPE: case OP_FLATTEN: case OP_SQUEEZE: case OP_UNSQUEEZE: case OP_IDENTITY:
    return true;
  case OP_DROPOUT:
    return n->num_outputs < 2 || !n->outputs[1];
  default:
    return false;
  }
}

bool memplan_view_offset(const Node *n, size_t *bytes) {
  *bytes = 0;
  if (memplan_is_view(n)) return true;
  int64_t elems;
  if (!mv_map_contiguous(n, &elems) || elems < 0) return false;
  *bytes = (size_t)elems * dtype_size(n->inputs[0]->dtype);
  return true;
}

/* Pointwise ops whose kernels (specialized and reference) read element i
 * of a same-shaped input before writing element i of the output, so the
 * output may take over that input's buffer. */
static bool is_pointwise(OpKind op) {
  switch (op) {
  case OP_ABS: case OP_CEIL: case OP_CLIP: case OP_ERF: case OP_EXP: case OP_FLOOR:
  case OP_GELU: case OP_HARD_SIGMOID: case OP_HARD_SWISH: case OP_LEAKY_RELU: case OP_LOG:
  case OP_NEG: case OP_RECIPROCAL: case OP_RELU: case OP_SIGMOID: case OP_SQRT: case OP_TANH:
  case OP_SILU: case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MAX: case OP_MIN:
  case OP_POW: case OP_FUSED_ELEMENTWISE:
    return true;
  default:
    return false;
  }
}

static bool same_type(const Value *a, const Value *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static size_t align_up(size_t x) { return (x + MEMPLAN_ALIGN - 1) & ~(size_t)(MEMPLAN_ALIGN - 1); }

/* The value whose storage v really uses (follows view chains). */
static int root_of(const BufPlace *p, int id) {
  while (p[id].alias_of >= 0) id = p[id].alias_of;
  return id;
}

typedef struct Interval {
  int id;       /* value id, or num_values + node index for a node's scratch */
  size_t bytes;
  int first, last;
} Interval;

static int by_size_desc(const void *a, const void *b) {
  const Interval *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  return x->first - y->first; /* deterministic */
}

/* Longest-lived first: long buffers settle at the bottom, short ones fill
 * the gaps above them. */
static int by_lifetime_desc(const void *a, const void *b) {
  const Interval *x = a, *y = b;
  int lx = x->last - x->first, ly = y->last - y->first;
  if (lx != ly) return ly - lx;
  return by_size_desc(a, b);
}

static int by_first_use(const void *a, const void *b) {
  const Interval *x = a, *y = b;
  if (x->first != y->first) return x->first - y->first;
  return by_size_desc(a, b);
}

/* First fit of iv[0..count) in that order: each buffer goes to the lowest
 * offset where it overlaps no placed buffer that is live at the same time.
 * Returns the total size; off[i] receives iv[i]'s offset. */
static size_t place_first_fit(const Interval *iv, int count, size_t *off) {
  size_t total = 0;
  for (int a = 0; a < count; a++) {
    size_t o = 0;
    bool moved = true;
    while (moved) {
      moved = false;
      for (int b = 0; b < a; b++) {
        if (iv[b].last < iv[a].first || iv[a].last < iv[b].first) continue;
        if (o < off[b] + iv[b].bytes && off[b] < o + iv[a].bytes) {
          o = off[b] + iv[b].bytes;
          moved = true;
        }
      }
    }
    off[a] = o;
    if (o + iv[a].bytes > total) total = o + iv[a].bytes;
  }
  return total;
}

/* Above this many buffers the first-fit orders (quadratic: every placed
 * buffer is checked against every earlier one) give way to a linear scan. */
#define PLAN_FIRST_FIT_MAX 4096

typedef struct Hole {
  size_t at, bytes;
} Hole;

/* Linear scan in order of first use, like an allocator: buffers whose last
 * use is before the next first use are freed into a sorted, coalesced list
 * of holes, and each new buffer takes the first hole it fits (else the top).
 * O(n log n + n * holes); iv must be sorted by first use.  Returns the
 * total, or SIZE_MAX when out of memory. */
static size_t place_linear_scan(const Interval *iv, int count, size_t *off) {
  Hole *holes = malloc(sizeof *holes * ((size_t)count + 1));
  int *live = malloc(sizeof *live * ((size_t)count + 1)); /* min-heap on last use */
  if (!holes || !live) {
    free(holes);
    free(live);
    return SIZE_MAX;
  }
  int nholes = 0, nlive = 0;
  size_t top = 0;
  for (int a = 0; a < count; a++) {
    while (nlive > 0 && iv[live[0]].last < iv[a].first) {
      int b = live[0], x = live[--nlive], i = 0;
      for (;;) { /* pop */
        int c = 2 * i + 1;
        if (c >= nlive) break;
        if (c + 1 < nlive && iv[live[c + 1]].last < iv[live[c]].last) c++;
        if (iv[live[c]].last >= iv[x].last) break;
        live[i] = live[c];
        i = c;
      }
      if (nlive > 0) live[i] = x;
      /* Free b's range: insert sorted, merge with its neighbours. */
      int k = 0;
      while (k < nholes && holes[k].at < off[b]) k++;
      memmove(holes + k + 1, holes + k, sizeof *holes * (size_t)(nholes - k));
      holes[k] = (Hole){off[b], iv[b].bytes};
      nholes++;
      if (k + 1 < nholes && holes[k].at + holes[k].bytes == holes[k + 1].at) {
        holes[k].bytes += holes[k + 1].bytes;
        memmove(holes + k + 1, holes + k + 2, sizeof *holes * (size_t)(nholes - k - 2));
        nholes--;
      }
      if (k > 0 && holes[k - 1].at + holes[k - 1].bytes == holes[k].at) {
        holes[k - 1].bytes += holes[k].bytes;
        memmove(holes + k, holes + k + 1, sizeof *holes * (size_t)(nholes - k - 1));
        nholes--;
      }
    }
    int k = 0;
    while (k < nholes && holes[k].bytes < iv[a].bytes) k++;
    if (k < nholes) {
      off[a] = holes[k].at;
      holes[k].at += iv[a].bytes;
      holes[k].bytes -= iv[a].bytes;
      if (!holes[k].bytes) {
        memmove(holes + k, holes + k + 1, sizeof *holes * (size_t)(nholes - k - 1));
        nholes--;
      }
    } else if (nholes > 0 && holes[nholes - 1].at + holes[nholes - 1].bytes == top) {
      off[a] = holes[--nholes].at; /* the top hole grows */
      top = off[a] + iv[a].bytes;
    } else {
      off[a] = top;
      top += iv[a].bytes;
    }
    int i = nlive++; /* push a */
    while (i > 0 && iv[live[(i - 1) / 2]].last > iv[a].last) {
      live[i] = live[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    live[i] = a;
  }
  free(holes);
  free(live);
  return top;
}

static Status build_plan(const Graph *g, bool in_place, bool lowered, MemPlan *plan,
                         Error *err) {
  memset(plan, 0, sizeof *plan);
  int nv = g->num_values, nn = g->num_nodes;
  BufPlace *p = calloc((size_t)nv + 1, sizeof *p);
  if (!p) return err_set(err, ST_NOMEM, "out of memory planning memory");
  plan->place = p;
  plan->num_values = nv;
  plan->num_nodes = nn;
  plan->scratch_offset = calloc((size_t)nn + 1, sizeof *plan->scratch_offset);
  plan->scratch_bytes = calloc((size_t)nn + 1, sizeof *plan->scratch_bytes);
  plan->no_code = calloc((size_t)nn + 1, sizeof *plan->no_code);
  if (!plan->scratch_offset || !plan->scratch_bytes || !plan->no_code)
    return err_set(err, ST_NOMEM, "out of memory planning memory");
  for (int k = 0; k < nn; k++) {
    const Node *n = g->nodes[k];
    size_t sb = ops_scratch_bytes(n);
    if (lowered) {
      size_t lb = cg_lowered_scratch_bytes(n);
      if (lb > sb) sb = lb;
    }
    if (sb == SIZE_MAX || sb > SIZE_MAX / 4)
      return err_set(err, ST_NOMEM, "node \"%s\" (%s): its kernel's scratch memory would be "
                     "too large", n->name, op_name(n->op));
    plan->scratch_bytes[k] = sb;
  }
  for (int i = 0; i < nv; i++) {
    Value *v = g->values[i];
    if (v->id != i) return err_set(err, ST_INTERNAL, "memory planning needs a compacted graph");
    p[i].alias_of = -1;
    p[i].first = p[i].last = -1;
    p[i].bytes = ir_value_nbytes(v);
    if (v->data) p[i].kind = BUF_CONST;
  }
  for (int i = 0; i < g->num_inputs; i++) {
    p[g->inputs[i]->id].kind = BUF_INPUT;
    p[g->inputs[i]->id].index = i;
  }
  for (int i = 0; i < g->num_outputs; i++) {
    Value *v = g->outputs[i];
    if (p[v->id].kind == BUF_NONE) {
      p[v->id].kind = BUF_OUTPUT;
      p[v->id].index = i;
    }
  }
  /* Views alias their input unless either side is caller-visible in a way
   * that would make the alias observable (graph outputs get their own copy). */
  for (int k = 0; k < nn; k++) {
    const Node *n = g->nodes[k];
    for (int j = 0; j < n->num_outputs; j++) {
      Value *o = n->outputs[j];
      if (o && p[o->id].kind == BUF_NONE) p[o->id].kind = BUF_WORKSPACE;
    }
    size_t at;
    if (lowered && n->outputs[0] && p[n->outputs[0]->id].kind == BUF_WORKSPACE &&
        attn_split_view(g, n)) {
      /* Its result is its input, read at strides by the attention. */
      p[n->outputs[0]->id].alias_of = n->inputs[0]->id;
      plan->no_code[k] = true;
    } else if (lowered && n->outputs[0] && p[n->outputs[0]->id].kind == BUF_WORKSPACE &&
               attn_merge_view(g, n)) {
      /* The attention writes its result straight in this layout. */
      p[n->inputs[0]->id].alias_of = n->outputs[0]->id;
      plan->no_code[k] = true;
    } else if (n->outputs[0] && p[n->outputs[0]->id].kind == BUF_WORKSPACE &&
               memplan_view_offset(n, &at)) {
      const Value *src = n->inputs[0];
      if (lowered && src->producer && plan->no_code[src->producer->id] &&
          attn_split_view(g, src->producer) && !attn_split_gather_offset(g, n, &at))
        return err_set(err, ST_INTERNAL, "node \"%s\": a view of a split Transpose's result",
                       n->name);
      p[n->outputs[0]->id].alias_of = src->id;
      p[n->outputs[0]->id].view_offset = at;
    }
  }
  /* Liveness on the storage roots. */
  for (int k = 0; k < nn; k++) {
    const Node *n = g->nodes[k];
    for (int j = 0; j < n->num_outputs; j++)
      if (n->outputs[j]) {
        int r = root_of(p, n->outputs[j]->id);
        if (p[r].first < 0) p[r].first = k;
        if (p[r].last < k) p[r].last = k;
      }
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j]) {
        int r = root_of(p, n->inputs[j]->id);
        if (p[r].last < k) p[r].last = k;
      }
  }
  for (int i = 0; i < g->num_outputs; i++) {
    int r = root_of(p, g->outputs[i]->id);
    p[r].last = nn;
  }
  /* In place: a pointwise node whose same-typed input dies at this node
   * writes its result over that input.  No other input may share the
   * storage (it would be read at other indices after being overwritten),
   * and only workspace is reused, never the caller's or the weights. */
  for (int k = 0; in_place && k < nn; k++) {
    const Node *n = g->nodes[k];
    const Value *o = n->num_outputs == 1 ? n->outputs[0] : NULL;
    if (!o || !is_pointwise(n->op) || p[o->id].kind != BUF_WORKSPACE || p[o->id].alias_of >= 0)
      continue;
    for (int j = 0; j < n->num_inputs; j++) {
      const Value *v = n->inputs[j];
      if (!v || !same_type(v, o)) continue;
      int r = root_of(p, v->id);
      if (p[r].kind != BUF_WORKSPACE || p[r].last != k || p[r].bytes != p[o->id].bytes) continue;
      bool shared = false;
      for (int q = 0; q < n->num_inputs; q++)
        if (n->inputs[q] && n->inputs[q] != v && root_of(p, n->inputs[q]->id) == r) shared = true;
      if (shared) continue;
      p[o->id].alias_of = v->id;
      if (p[o->id].last > p[r].last) p[r].last = p[o->id].last;
      p[o->id].first = p[o->id].last = -1;
      break;
    }
  }
  /* Place workspace roots: several orders are tried and the smallest
   * packing kept (offline interval packing has no cheap optimum). */
  size_t slots = (size_t)nv + (size_t)nn + 1;
  Interval *iv = calloc(slots, sizeof *iv);
  size_t *off = calloc(slots, sizeof *off);
  size_t *best_off = calloc(slots, sizeof *best_off);
  Interval *best_iv = calloc(slots, sizeof *best_iv);
  if (!iv || !off || !best_off || !best_iv) {
    free(iv); free(off); free(best_off); free(best_iv);
    return err_set(err, ST_NOMEM, "out of memory planning memory");
  }
  int count = 0;
  for (int i = 0; i < nv; i++)
    if (p[i].kind == BUF_WORKSPACE && p[i].alias_of < 0 && p[i].first >= 0)
      iv[count++] = (Interval){i, align_up(p[i].bytes ? p[i].bytes : 1), p[i].first, p[i].last};
  /* Kernel scratch: live while its node runs, overlapping that node's
   * inputs and outputs. */
  for (int k = 0; k < nn; k++)
    if (plan->scratch_bytes[k])
      iv[count++] = (Interval){nv + k, align_up(plan->scratch_bytes[k]), k, k};
  int (*const orders[])(const void *, const void *) = {by_size_desc, by_lifetime_desc,
                                                        by_first_use};
  size_t total = SIZE_MAX;
  bool large = count > PLAN_FIRST_FIT_MAX;
  for (size_t k = large ? 2 : 0; k < sizeof orders / sizeof orders[0]; k++) {
    qsort(iv, (size_t)count, sizeof *iv, orders[k]);
    size_t t = large ? place_linear_scan(iv, count, off) : place_first_fit(iv, count, off);
    if (t == SIZE_MAX) {
      free(iv); free(off); free(best_off); free(best_iv);
      return err_set(err, ST_NOMEM, "out of memory planning memory");
    }
    if (t < total) {
      total = t;
      memcpy(best_iv, iv, (size_t)count * sizeof *iv);
      memcpy(best_off, off, (size_t)count * sizeof *off);
    }
  }
  if (count == 0) total = 0;
  for (int a = 0; a < count; a++) {
    if (best_iv[a].id >= nv) plan->scratch_offset[best_iv[a].id - nv] = best_off[a];
    else p[best_iv[a].id].offset = best_off[a];
  }
  /* Lower bound: peak of live bytes over node steps. */
  size_t peak = 0;
  {
    /* Sweep of +bytes at first use, -bytes after last use (long long:
     * the running sum never goes below zero, the steps may). */
    long long *delta = calloc((size_t)nn + 3, sizeof *delta);
    if (!delta) {
      free(iv); free(off); free(best_off); free(best_iv);
      return err_set(err, ST_NOMEM, "out of memory planning memory");
    }
    for (int a = 0; a < count; a++) {
      delta[iv[a].first] += (long long)iv[a].bytes;
      delta[iv[a].last + 1] -= (long long)iv[a].bytes;
    }
    long long live = 0;
    for (int k = 0; k <= nn; k++) {
      live += delta[k];
      if ((size_t)live > peak) peak = (size_t)live;
    }
    free(delta);
  }
  /* Aliases take their root's place, plus the offsets along the chain
   * (summed first: a chain may run through values resolved later). */
  size_t *chain = calloc((size_t)nv + 1, sizeof *chain);
  if (!chain) {
    free(iv);
    free(off);
    free(best_off);
    free(best_iv);
    return err_set(err, ST_NOMEM, "out of memory");
  }
  for (int i = 0; i < nv; i++)
    for (int id = i; p[id].alias_of >= 0; id = p[id].alias_of) chain[i] += p[id].view_offset;
  for (int i = 0; i < nv; i++)
    if (p[i].alias_of >= 0) {
      int r = root_of(p, i);
      p[i].kind = p[r].kind;
      p[i].index = p[r].index;
      p[i].offset = p[r].offset + chain[i];
      p[i].view_offset = chain[i];
    }
  free(chain);
  free(iv);
  free(off);
  free(best_off);
  free(best_iv);
  plan->workspace_size = align_up(total);
  plan->lower_bound = peak;
  return ST_OK;
}

/* In-place execution merges lifetimes, which usually shrinks the peak but
 * can make the packing worse: both plans are made, the smaller kept. */
Status memplan_build(const Graph *g, bool lowered, MemPlan *plan, Error *err) {
  MemPlan other = {0};
  Status st = build_plan(g, true, lowered, plan, err);
  if (st == ST_OK) st = build_plan(g, false, lowered, &other, err);
  if (st != ST_OK) {
    memplan_free(plan);
    memplan_free(&other);
    return st;
  }
  if (other.workspace_size < plan->workspace_size) {
    memplan_free(plan);
    *plan = other;
  } else {
    memplan_free(&other);
  }
  return ST_OK;
}

void memplan_free(MemPlan *plan) {
  if (!plan) return;
  free(plan->place);
  free(plan->scratch_offset);
  free(plan->scratch_bytes);
  free(plan->no_code);
  plan->no_code = NULL;
  plan->place = NULL;
  plan->scratch_offset = NULL;
  plan->scratch_bytes = NULL;
}

void memplan_print(const Graph *g, const MemPlan *plan, FILE *out) {
  fprintf(out, "; memory plan: value, offset, bytes, first use, last use\n");
  for (int i = 0; i < plan->num_values; i++) {
    const BufPlace *b = &plan->place[i];
    if (b->kind != BUF_WORKSPACE) continue;
    const Value *v = g->values[i];
    if (b->alias_of >= 0 && b->view_offset)
      fprintf(out, "  %-40s alias of %s at +%zu\n", v->name[0] ? v->name : "<unnamed>",
              g->values[b->alias_of]->name, b->view_offset);
    else if (b->alias_of >= 0)
      fprintf(out, "  %-40s alias of %s\n", v->name[0] ? v->name : "<unnamed>",
              g->values[b->alias_of]->name);
    else
      fprintf(out, "  %-40s %10zu %10zu %5d %5d\n", v->name[0] ? v->name : "<unnamed>",
              b->offset, b->bytes, b->first, b->last);
  }
  for (int k = 0; k < plan->num_nodes; k++) {
    if (!plan->scratch_bytes[k]) continue;
    char name[80];
    const Node *n = g->nodes[k];
    snprintf(name, sizeof name, "%.60s:scratch", n->name && n->name[0] ? n->name : op_name(n->op));
    fprintf(out, "  %-40s %10zu %10zu %5d %5d\n", name, plan->scratch_offset[k],
            plan->scratch_bytes[k], k, k);
  }
  fprintf(out, "; workspace size: %zu bytes\n; lower bound (peak live): %zu bytes (ratio %.3f)\n",
          plan->workspace_size, plan->lower_bound,
          plan->lower_bound ? (double)plan->workspace_size / (double)plan->lower_bound : 1.0);
}
