/*
 * canonicalize: GELU recognizers.  torch writes
 *   erf:  x * 0.5 * (1 + erf(x / 1.4142135))   (or x * 0.70710678)
 *   tanh: 0.5 * x * (1 + tanh(0.7978846 * (x + 0.044715 * x*x*x)))  (or Pow(x, 3))
 * with the products associated and commuted in several ways, so a product
 * is matched as a multiset of factors: a tree of Muls whose inner results
 * are used only inside the tree is flattened into its leaves.
 */
#include "pattern_canon.h"

#include <math.h>

#define MAX_FACTORS 6

typedef struct Factors {
  int n, num_muls;
  Value *leaf[MAX_FACTORS];
  Node *mul[MAX_FACTORS]; /* the tree's Mul nodes, root first */
} Factors;

/* Adds v as a leaf, or expands it when a private Mul defines it. */
static bool add_factor(const Graph *g, Value *v, Factors *f) {
  Node *m = pat_def(v, OP_MUL);
  if (m && pat_private(g, v) && m->num_inputs == 2) {
    if (f->num_muls >= MAX_FACTORS) return false;
    f->mul[f->num_muls++] = m;
    return add_factor(g, m->inputs[0], f) && add_factor(g, m->inputs[1], f);
  }
  if (f->n >= MAX_FACTORS) return false;
  f->leaf[f->n++] = v;
  return true;
}

static bool flatten(const Graph *g, Node *root, Factors *f) {
  f->n = 0;
  f->num_muls = 1;
  f->mul[0] = root;
  if (root->num_inputs != 2 || !root->inputs[0] || !root->inputs[1]) return false;
  return add_factor(g, root->inputs[0], f) && add_factor(g, root->inputs[1], f);
}

/* Index of the leaf that is a scalar constant equal to want, or -1. */
static int find_const(const Factors *f, double want, double tol) {
  for (int i = 0; i < f->n; i++)
    if (pat_scalar_is(f->leaf[i], want, tol)) return i;
  return -1;
}

/* v = Add(op(z), 1) (either order) with private intermediates: returns the
 * op node, or NULL. */
static Node *one_plus(const Graph *g, const Value *v, OpKind op) {
  Node *add = pat_def(v, OP_ADD);
  if (!add || !pat_private(g, v) || add->num_inputs != 2) return NULL;
  for (int k = 0; k < 2; k++) {
    Node *f = pat_def(add->inputs[k], op);
    if (f && pat_private(g, add->inputs[k]) && pat_scalar_is(add->inputs[1 - k], 1.0, 0))
      return f;
  }
  return NULL;
}

static void kill_all(Factors *f) {
  for (int i = 0; i < f->num_muls; i++) f->mul[i]->dead = true;
}

/* Tolerance on the irrational constants: float32 rounding of them is ~6e-8. */
#define TOL 1e-6

static Status try_erf(Graph *g, Node *root, Factors *f, bool *done, Error *err) {
  if (f->n != 3) return ST_OK;
  for (int e = 0; e < 3; e++) {
    Node *erf = one_plus(g, f->leaf[e], OP_ERF);
    if (!erf || !pat_private(g, erf->inputs[0])) continue;
    Node *scale = pat_def(erf->inputs[0], OP_DIV);
    Value *x = NULL;
    if (scale && pat_scalar_is(scale->inputs[1], sqrt(2.0), TOL)) x = scale->inputs[0];
    if (!scale && (scale = pat_def(erf->inputs[0], OP_MUL)) != NULL)
      for (int k = 0; k < 2 && !x; k++)
        if (pat_scalar_is(scale->inputs[1 - k], sqrt(0.5), TOL)) x = scale->inputs[k];
    if (!x) continue;
    /* The other two leaves: x itself and 0.5. */
    int a = (e + 1) % 3, b = (e + 2) % 3;
    bool ok = (f->leaf[a] == x && pat_scalar_is(f->leaf[b], 0.5, 0)) ||
              (f->leaf[b] == x && pat_scalar_is(f->leaf[a], 0.5, 0));
    if (!ok) continue;
    Node *add = f->leaf[e]->producer, *gelu;
    TRY(pat_replace(g, root, OP_GELU, &x, 1, &gelu, err));
    kill_all(f);
    add->dead = erf->dead = scale->dead = true;
    *done = true;
    return ST_OK;
  }
  return ST_OK;
}

/* inner = c * (x + 0.044715 * x^3): returns x and the nodes to delete. */
static Value *tanh_inner(const Graph *g, Value *inner, Node **dead, int *num_dead) {
  Node *m = pat_def(inner, OP_MUL);
  if (!m || !pat_private(g, inner)) return NULL;
  Factors f;
  if (!flatten(g, m, &f) || f.n != 2) return NULL;
  int c = find_const(&f, 0.79788456080286535588 /* sqrt(2/pi) */, TOL);
  if (c < 0) return NULL;
  Value *sum = f.leaf[1 - c];
  Node *add = pat_def(sum, OP_ADD);
  if (!add || !pat_private(g, sum) || add->num_inputs != 2) return NULL;
  for (int k = 0; k < 2; k++) {
    Value *x = add->inputs[k], *cube = add->inputs[1 - k];
    Node *cm = pat_def(cube, OP_MUL);
    Factors cf;
    if (!cm || !pat_private(g, cube) || !flatten(g, cm, &cf)) continue;
    int kc = find_const(&cf, 0.044715, TOL);
    if (kc < 0) continue;
    int xs = 0, others = 0;
    Node *pow = NULL;
    for (int i = 0; i < cf.n; i++) {
      if (i == kc) continue;
      if (cf.leaf[i] == x) xs++;
      else if ((pow = pat_def(cf.leaf[i], OP_POW)) != NULL && pat_private(g, cf.leaf[i]) &&
               pow->inputs[0] == x && pat_scalar_is(pow->inputs[1], 3.0, 0))
        others++;
      else others = 99;
    }
    bool cube_ok = (cf.n == 4 && xs == 3 && others == 0) || (cf.n == 2 && xs == 0 && others == 1);
    if (!cube_ok) continue;
    *num_dead = 0;
    for (int i = 0; i < f.num_muls; i++) dead[(*num_dead)++] = f.mul[i];
    for (int i = 0; i < cf.num_muls; i++) dead[(*num_dead)++] = cf.mul[i];
    dead[(*num_dead)++] = add;
    if (others) dead[(*num_dead)++] = pow;
    return x;
  }
  return NULL;
}

static Status try_tanh(Graph *g, Node *root, Factors *f, bool *done, Error *err) {
  if (f->n != 3) return ST_OK;
  for (int e = 0; e < 3; e++) {
    Node *th = one_plus(g, f->leaf[e], OP_TANH);
    if (!th) continue;
    Node *dead[2 * MAX_FACTORS + 2];
    int num_dead = 0;
    Value *x = tanh_inner(g, th->inputs[0], dead, &num_dead);
    if (!x) continue;
    int a = (e + 1) % 3, b = (e + 2) % 3;
    bool ok = (f->leaf[a] == x && pat_scalar_is(f->leaf[b], 0.5, 0)) ||
              (f->leaf[b] == x && pat_scalar_is(f->leaf[a], 0.5, 0));
    if (!ok) continue;
    Node *add = f->leaf[e]->producer, *gelu;
    TRY(pat_replace(g, root, OP_GELU, &x, 1, &gelu, err));
    TRY(ir_node_set_attr_string(g, gelu, "approximate", "tanh", err));
    kill_all(f);
    add->dead = th->dead = true;
    for (int i = 0; i < num_dead; i++) dead[i]->dead = true;
    *done = true;
    return ST_OK;
  }
  return ST_OK;
}

Status canon_gelu(Graph *g, Node *n, bool *done, Error *err) {
  *done = false;
  Factors f;
  if (n->op != OP_MUL || !flatten(g, n, &f)) return ST_OK;
  TRY(try_erf(g, n, &f, done, err));
  if (!*done) TRY(try_tanh(g, n, &f, done, err));
  return ST_OK;
}
