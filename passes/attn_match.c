/*
 * Recognizes scaled-dot-product attention around a Softmax (see
 * attn_match.h).  The walk goes backwards from the Softmax input through
 * single-use scalar Mul/Div, Add and Reshape nodes to a MatMul or Einsum
 * that multiplies Q by K^T, then looks at Q's and K^T's producers for
 * scalar factors and the Transpose that made K^T; forwards it goes through
 * an inference Dropout to the MatMul or Einsum with V.  Every removed node
 * must have no user outside the pattern, so a rejected match leaves the
 * graph as it was and an accepted one never changes another result.
 */
#include "attn_match.h"

#include <string.h>

static bool same_shape(const Value *a, const Value *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static bool same_leading(const Value *a, const Value *b, int lead) {
  for (int i = 0; i < lead; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static bool const_scalar(const Value *v, double *out) {
  if (!ir_value_is_const(v) || ir_value_numel(v) != 1 || !dtype_is_float(v->dtype)) return false;
  *out = dtype_load_f64(v->dtype, v->data, 0);
  return true;
}

/* n = Mul(x, s) / Mul(s, x) / Div(x, s) with a constant scalar s that does
 * not change x's shape: *x and the factor (1/s for Div). */
static bool scalar_factor(const Node *n, Value **x, double *f) {
  if (!n || n->dead || n->num_inputs != 2 || !n->inputs[0] || !n->inputs[1]) return false;
  double s;
  if (n->op == OP_MUL) {
    for (int i = 0; i < 2; i++)
      if (!ir_value_is_const(n->inputs[i]) && const_scalar(n->inputs[1 - i], &s) &&
          same_shape(n->inputs[i], n->outputs[0])) {
        *x = n->inputs[i];
        *f = s;
        return true;
      }
    return false;
  }
  if (n->op == OP_DIV && !ir_value_is_const(n->inputs[0]) && const_scalar(n->inputs[1], &s) &&
      s != 0 && same_shape(n->inputs[0], n->outputs[0])) {
    *x = n->inputs[0];
    *f = 1.0 / s;
    return true;
  }
  return false;
}

static bool add_dead(AttnMatch *m, Node *n) {
  if (m->num_dead == ATTN_MAX_DEAD) return false;
  m->dead[m->num_dead++] = n;
  return true;
}

/* The node reading v, if exactly one input slot of one live node does and v
 * is not a graph output. */
static Node *sole_user(const Graph *g, const Value *v) {
  if (v->is_output) return NULL;
  Node *user = NULL;
  int slots = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j] == v) {
        user = n;
        slots++;
      }
  }
  return slots == 1 ? user : NULL;
}

/* ---- Einsum equations ------------------------------------------------- */

enum { EQ_TERM = 40 };

/* Splits a two-operand equation into terms; a leading "..." becomes '*'.
 * False for anything else (ellipsis elsewhere, repeated labels, ...). */
static bool einsum_terms(const Node *n, char t[3][EQ_TERM]) {
  const char *eq = ir_attr_string(n, "equation", NULL);
  if (!eq || n->num_inputs != 2) return false;
  char buf[3 * EQ_TERM];
  size_t k = 0;
  for (const char *c = eq; *c; c++) {
    if (*c == ' ') continue;
    if (k + 1 >= sizeof buf) return false;
    buf[k++] = *c;
  }
  buf[k] = '\0';
  char *arrow = strstr(buf, "->");
  if (!arrow) return false;
  *arrow = '\0';
  char *comma = strchr(buf, ',');
  if (!comma || strchr(comma + 1, ',')) return false;
  *comma = '\0';
  const char *src[3] = {buf, comma + 1, arrow + 2};
  for (int i = 0; i < 3; i++) {
    const char *s = src[i];
    size_t at = 0;
    if (strncmp(s, "...", 3) == 0) {
      t[i][at++] = '*';
      s += 3;
    }
    for (; *s; s++) {
      bool letter = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
      if (!letter || at + 1 >= EQ_TERM || memchr(t[i], *s, at)) return false;
      t[i][at++] = *s;
    }
    t[i][at] = '\0';
  }
  return true;
}

/* "Pxy,Pzy->Pxz" (*k_transposed false) or "Pxy,Pyz->Pxz" (true). */
static bool einsum_is_qk(const Node *n, bool *k_transposed) {
  char t[3][EQ_TERM];
  if (!einsum_terms(n, t)) return false;
  size_t l = strlen(t[0]);
  if (l < 2 || strlen(t[1]) != l || strlen(t[2]) != l) return false;
  if (strncmp(t[0], t[1], l - 2) != 0 || strncmp(t[0], t[2], l - 2) != 0) return false;
  char x = t[0][l - 2], y = t[0][l - 1], z = t[2][l - 1];
  if (t[2][l - 2] != x || z == y) return false;
  if (t[1][l - 2] == z && t[1][l - 1] == y) *k_transposed = false;
  else if (t[1][l - 2] == y && t[1][l - 1] == z) *k_transposed = true;
  else return false;
  return true;
}

/* "Pxz,Pzw->Pxw". */
static bool einsum_is_pv(const Node *n) {
  char t[3][EQ_TERM];
  if (!einsum_terms(n, t)) return false;
  size_t l = strlen(t[0]);
  if (l < 2 || strlen(t[1]) != l || strlen(t[2]) != l) return false;
  if (strncmp(t[0], t[1], l - 2) != 0 || strncmp(t[0], t[2], l - 2) != 0) return false;
  return t[1][l - 2] == t[0][l - 1] && t[2][l - 2] == t[0][l - 2] && t[2][l - 1] == t[1][l - 1];
}

/* ---- K side ----------------------------------------------------------- */

/* Reads a Transpose's permutation (absent = reversed axes). */
static bool transpose_perm(const Node *t, int64_t *perm) {
  int r = t->inputs[0]->rank;
  const int64_t *p;
  int count = ir_attr_ints(t, "perm", &p);
  if (count < 0) {
    for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
    return true;
  }
  if (count != r) return false;
  for (int i = 0; i < r; i++) {
    if (p[i] < 0 || p[i] >= r) return false;
    perm[i] = p[i];
  }
  return true;
}

/* Absorbs a scalar factor producing *v if *v has no other user. */
static bool absorb_factor(const Graph *g, Value **v, AttnMatch *m) {
  Value *x;
  double f;
  if (!scalar_factor((*v)->producer, &x, &f) || ir_use_count(g, *v) != 1) return true;
  if (!add_dead(m, (*v)->producer)) return false;
  m->scale *= f;
  *v = x;
  return true;
}

/* kt = K^T [..., D, M].  Prefers walking back through the Transpose that
 * made it: K = Transpose(x, perm with its last two entries swapped), which
 * is x itself for the plain swap. */
static bool match_kt(const Graph *g, Value *kt, AttnMatch *m) {
  int r = kt->rank;
  if (!absorb_factor(g, &kt, m)) return false;
  Node *t = kt->producer;
  int64_t perm[IR_MAX_RANK];
  if (t && !t->dead && t->op == OP_TRANSPOSE && t->num_inputs == 1 && t->inputs[0] &&
      t->inputs[0]->rank == r && transpose_perm(t, perm)) {
    Value *src = t->inputs[0];
    int64_t swap = perm[r - 1];
    perm[r - 1] = perm[r - 2];
    perm[r - 2] = swap;
    if (ir_use_count(g, kt) == 1) {
      if (!add_dead(m, t)) return false;
      if (!absorb_factor(g, &src, m)) return false;
    }
    bool identity = true;
    for (int i = 0; i < r; i++) identity = identity && perm[i] == i;
    if (identity) m->k = src;
    else {
      m->k_src = src;
      memcpy(m->k_perm, perm, sizeof(int64_t) * (size_t)r);
    }
    return true;
  }
  m->k_src = kt;
  for (int i = 0; i < r; i++) m->k_perm[i] = i;
  m->k_perm[r - 1] = r - 2;
  m->k_perm[r - 2] = r - 1;
  return true;
}

/* p multiplies Q [..., N, D] by K^T (or K for an Einsum "Pxy,Pzy->Pxz"). */
static bool match_qk(const Graph *g, Node *p, AttnMatch *m) {
  bool k_transposed = true;
  if (p->op == OP_EINSUM) {
    if (!einsum_is_qk(p, &k_transposed)) return false;
  } else if (p->op != OP_MATMUL) return false;
  if (p->num_inputs != 2 || !p->inputs[0] || !p->inputs[1]) return false;
  Value *a = p->inputs[0], *b = p->inputs[1], *s = p->outputs[0];
  int r = a->rank;
  if (r < 2 || b->rank != r || s->rank != r || !dtype_is_float(a->dtype)) return false;
  if (!same_leading(a, b, r - 2) || !same_leading(a, s, r - 2)) return false;
  int64_t d = k_transposed ? b->dims[r - 2] : b->dims[r - 1];
  int64_t mm = k_transposed ? b->dims[r - 1] : b->dims[r - 2];
  if (a->dims[r - 1] != d || s->dims[r - 2] != a->dims[r - 2] || s->dims[r - 1] != mm)
    return false;
  if (a == b) return false; /* x.x^T: Q and K^T share a producer we might remove */
  m->qk = p;
  if (!add_dead(m, p)) return false;
  Value *q = a;
  if (!absorb_factor(g, &q, m)) return false;
  m->q = q;
  if (!k_transposed) {
    Value *k = b;
    if (!absorb_factor(g, &k, m)) return false;
    m->k = k;
    return true;
  }
  return match_kt(g, b, m);
}

/* ---- score chain ------------------------------------------------------ */

/* v is consumed only by the next node of the pattern.  Pushes chain nodes
 * (Softmax side first) and backtracks over an Add's two operands. */
static bool walk_scores(const Graph *g, Value *v, AttnMatch *m) {
  Node *p = v->producer;
  if (!p || p->dead || p->num_outputs != 1 || ir_use_count(g, v) != 1) return false;
  if (p->op == OP_MATMUL || p->op == OP_EINSUM) return match_qk(g, p, m);
  if (m->num_chain == ATTN_MAX_CHAIN) return false;
  AttnMatch saved = *m; /* a failed branch leaves no trace */
  m->chain[m->num_chain++] = p;
  Value *x;
  double f;
  if (scalar_factor(p, &x, &f)) {
    if (walk_scores(g, x, m)) return true;
  } else if (p->op == OP_RESHAPE && p->num_inputs == 2 && p->inputs[0] &&
             !ir_value_is_const(p->inputs[0])) {
    if (walk_scores(g, p->inputs[0], m)) return true;
  } else if (p->op == OP_ADD && p->num_inputs == 2 && p->inputs[0] && p->inputs[1]) {
    for (int i = 0; i < 2; i++) {
      Value *path = p->inputs[i];
      if (ir_value_is_const(path) || !same_shape(path, v) || p->inputs[1 - i] == path) continue;
      if (walk_scores(g, path, m)) return true;
      *m = saved;
      m->chain[m->num_chain++] = p;
    }
  }
  *m = saved;
  return false;
}

/* Reverses the chain into qk -> Softmax order, multiplies its factors into
 * the scale and checks the biases: either only constant ones (any mix with
 * factors and Reshapes: attn_const_bias folds them), or one non-constant
 * Add with no factor after it and no Reshape anywhere, so that it is the
 * bias exactly as the Attention op adds it. */
static bool check_chain(AttnMatch *m) {
  for (int i = 0, j = m->num_chain - 1; i < j; i++, j--) {
    Node *t = m->chain[i];
    m->chain[i] = m->chain[j];
    m->chain[j] = t;
  }
  const Value *prev = m->qk->outputs[0];
  int adds = 0, reshapes = 0;
  bool factor_after_var = false;
  for (int i = 0; i < m->num_chain; i++) {
    Node *c = m->chain[i];
    Value *x;
    double f;
    if (scalar_factor(c, &x, &f)) {
      m->scale *= f;
      if (m->var_bias) factor_after_var = true;
    } else if (c->op == OP_RESHAPE) {
      reshapes++;
    } else { /* Add */
      Value *other = c->inputs[0] == prev ? c->inputs[1] : c->inputs[0];
      if (other->dtype != prev->dtype) return false;
      adds++;
      if (ir_value_is_const(other)) m->const_bias = true;
      else if (m->var_bias) return false;
      else m->var_bias = other;
    }
    if (!add_dead(m, c)) return false;
    prev = c->outputs[0];
  }
  if (m->var_bias && (adds != 1 || reshapes || factor_after_var)) return false;
  return same_shape(prev, m->qk->outputs[0]);
}

/* ---- Softmax and the product with V ------------------------------------ */

static bool softmax_on_last_axis(const Node *s) {
  const Value *x = s->inputs[0];
  int r = x->rank;
  if (r < 2) return false;
  int64_t a = s->opset < 13 ? ir_attr_int(s, "axis", 1) : ir_attr_int(s, "axis", -1);
  if (a < 0) a += r;
  return a == r - 1; /* the opset < 13 2-D coercion at rank-1 is the same thing */
}

/* Dropout in inference: training off, or ratio 0; its mask unused. */
static bool dropout_is_identity(const Graph *g, const Node *n) {
  if (n->num_outputs > 1 && n->outputs[1] && ir_use_count(g, n->outputs[1]) > 0) return false;
  const Value *ratio = n->num_inputs > 1 ? n->inputs[1] : NULL;
  const Value *training = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (!training) return true;
  if (ir_value_is_const(training) && ir_value_numel(training) == 1 &&
      dtype_load_f64(training->dtype, training->data, 0) == 0)
    return true;
  double r;
  return ratio && const_scalar(ratio, &r) && r == 0;
}

bool attn_match(const Graph *g, Node *s, AttnMatch *m) {
  memset(m, 0, sizeof *m);
  m->scale = 1.0;
  if (s->dead || s->op != OP_SOFTMAX || s->num_inputs != 1 || !s->inputs[0] ||
      s->num_outputs != 1 || !softmax_on_last_axis(s))
    return false;
  Value *p = s->outputs[0];
  Node *u = sole_user(g, p);
  Node *dropout = NULL;
  if (u && u->op == OP_DROPOUT && u->inputs[0] == p && dropout_is_identity(g, u)) {
    dropout = u;
    p = u->outputs[0];
    u = sole_user(g, p);
  }
  if (!u || u->num_inputs != 2 || u->inputs[0] != p || !u->inputs[1]) return false;
  if (u->op == OP_EINSUM) {
    if (!einsum_is_pv(u)) return false;
  } else if (u->op != OP_MATMUL) return false;
  if (!walk_scores(g, s->inputs[0], m) || !check_chain(m)) return false;
  const Value *sc = m->qk->outputs[0];
  Value *v = u->inputs[1], *o = u->outputs[0];
  int r = sc->rank;
  if (!same_shape(p, sc) || v->rank != r || o->rank != r || !same_leading(v, sc, r - 2) ||
      v->dims[r - 2] != sc->dims[r - 1] || v->dtype != sc->dtype || o->dtype != sc->dtype ||
      o->dims[r - 2] != sc->dims[r - 2] || o->dims[r - 1] != v->dims[r - 1])
    return false;
  m->v = v;
  m->pv = u;
  if (!add_dead(m, s) || !add_dead(m, u) || (dropout && !add_dead(m, dropout))) return false;
  return true;
}
