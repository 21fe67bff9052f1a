/*
 * fuse-elementwise: merges maximal trees of float32 elementwise ops into one
 * onnxc.FusedElementwise node (semantics and program encoding in
 * ops/elementwise_fused.c), so the backend runs one loop instead of one per
 * op and never materializes the intermediates.
 *
 * Roots are visited from the end of the graph backwards; from a root the
 * tree grows through operands whose producer is fusible, has this one user,
 * is not a graph output and has exactly the root's shape (so no small
 * broadcast operand is recomputed per output element).  Everything else is
 * an external input.  Trees of fewer than 2 ops, needing more than 8
 * inputs / 16 stack slots, or interleaved in the schedule with unrelated
 * nodes (fusing would then raise peak memory) are left alone.  The fused
 * node takes the root's place.  Runs after fold-transposes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/elementwise_fused.h"
#include "pass.h"

#define FE_MAX_OPS 48

typedef struct FeBuild {
  Graph *g;
  const Value *root;
  int64_t prog[FE_MAX_PROGRAM];
  int nprog;
  float params[FE_MAX_PARAMS];
  int nparams;
  Value *inputs[FE_MAX_INPUTS + 1];
  int ninputs;
  Node *nodes[FE_MAX_OPS];
  int nnodes;
  int depth, max_depth;
  bool overflow;
  bool no_immediates; /* scalar constants are inputs too (see fe_load) */
  const int *uses; /* per value id: live uses (nodes and graph outputs) */
  int *live;       /* Fenwick tree over schedule positions: 1 where a live node is */
  int nlive;       /* its size (positions) */
} FeBuild;

/* Fenwick tree: add d at position pos; live nodes in positions [0, pos]. */
static void live_add(int *t, int n, int pos, int d) {
  for (int i = pos + 1; i <= n; i += i & -i) t[i] += d;
}

static int live_upto(const int *t, int pos) {
  int s = 0;
  for (int i = pos + 1; i > 0; i -= i & -i) s += t[i];
  return s;
}

static bool is_f32(const Value *v) { return v && v->dtype == DT_FLOAT32 && ir_value_is_static(v); }

static bool scalar_const(const Value *v, double *out) {
  if (!ir_value_is_const(v) || !ir_value_is_static(v) || ir_value_numel(v) != 1) return false;
  Error e = {0};
  return ops_const_scalar(v, "constant", out, &e) == ST_OK;
}

/* What node n becomes in a program: its code, its params (up to 2) and how
 * many of its leading inputs are operands; false when n is not fusible. */
static bool fe_classify(const Node *n, int *code, float prm[2], int *nops) {
  if (n->dead || n->num_outputs < 1 || !is_f32(n->outputs[0])) return false;
  for (int i = 1; i < n->num_outputs; i++)
    if (n->outputs[i]) return false;
  *nops = 1;
  switch (n->op) {
  case OP_RELU: *code = FE_RELU; break;
  case OP_SIGMOID: *code = FE_SIGMOID; break;
  case OP_TANH: *code = FE_TANH; break;
  case OP_ERF: *code = FE_ERF; break;
  case OP_EXP: *code = FE_EXP; break;
  case OP_LOG: *code = FE_LOG; break;
  case OP_NEG: *code = FE_NEG; break;
  case OP_ABS: *code = FE_ABS; break;
  case OP_SQRT: *code = FE_SQRT; break;
  case OP_RECIPROCAL: *code = FE_RECIPROCAL; break;
  case OP_HARD_SWISH: *code = FE_HARD_SWISH; break;
  /* onnxc.SiLU is deliberately not fused yet: it has its own vector map,
   * and tests/unit/test_cg_fused_conv.c expects x*sigmoid(x) to survive the
   * pipeline as a SiLU node.  FE_SILU exists so enabling it is one line. */
  case OP_LEAKY_RELU:
    *code = FE_LEAKY_RELU;
    prm[0] = ir_attr_float(n, "alpha", 0.01f);
    break;
  case OP_HARD_SIGMOID:
    *code = FE_HARD_SIGMOID;
    prm[0] = ir_attr_float(n, "alpha", 0.2f);
    prm[1] = ir_attr_float(n, "beta", 0.5f);
    break;
  case OP_GELU: {
    const char *m = ir_attr_string(n, "approximate", "none");
    if (strcmp(m, "none") == 0) *code = FE_GELU;
    else if (strcmp(m, "tanh") == 0) *code = FE_GELU_TANH;
    else return false;
    break;
  }
  case OP_CLIP: {
    *code = FE_CLIP;
    prm[0] = -INFINITY;
    prm[1] = INFINITY;
    for (int i = 1; i < 3 && i < n->num_inputs; i++) {
      const Value *b = n->inputs[i];
      if (!b) continue;
      if (b->dtype != DT_FLOAT32 || !ir_value_is_const(b) || ir_value_numel(b) != 1) return false;
      prm[i - 1] = *(const float *)b->data;
    }
    break;
  }
  case OP_POW: {
    double e;
    if (n->num_inputs != 2 || !scalar_const(n->inputs[1], &e) || (e != 2.0 && e != 0.5) ||
        !is_f32(n->inputs[0]) || n->inputs[1]->rank > n->inputs[0]->rank)
      return false;
    *code = FE_POW;
    prm[0] = (float)e;
    break;
  }
  case OP_ADD: *code = FE_ADD; *nops = 2; break;
  case OP_SUB: *code = FE_SUB; *nops = 2; break;
  case OP_MUL: *code = FE_MUL; *nops = 2; break;
  case OP_DIV: *code = FE_DIV; *nops = 2; break;
  case OP_MAX: *code = FE_MAX; *nops = 2; break;
  case OP_MIN: *code = FE_MIN; *nops = 2; break;
  default: return false;
  }
  if (*nops == 2 && n->num_inputs != 2) return false;
  if (*nops == 1 && n->op != OP_CLIP && n->op != OP_POW && n->num_inputs != 1) return false;
  for (int i = 0; i < *nops; i++)
    if (!is_f32(n->inputs[i])) return false;
  return true;
}

static bool same_shape(const Value *a, const Value *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static void fe_emit(FeBuild *fb, int64_t code, int64_t arg) {
  if (fb->nprog + 2 > FE_MAX_PROGRAM) {
    fb->overflow = true;
    return;
  }
  fb->prog[fb->nprog++] = code;
  fb->prog[fb->nprog++] = arg;
  fb->depth += fe_code_pops(code);
  if (fb->depth > fb->max_depth) fb->max_depth = fb->depth;
}

static void fe_push_param(FeBuild *fb, float value) {
  if (fb->nparams + 1 > FE_MAX_PARAMS) {
    fb->overflow = true;
    return;
  }
  fb->params[fb->nparams] = value;
  fe_emit(fb, FE_CONST, fb->nparams++);
}

/* A one-element float constant becomes an FE_CONST immediate rather than an
 * input: a scalar costs no kernel operand, so chains like paddle2onnx's
 * LearnableAffineBlock (x * s + b with [1]-shaped s, b around an
 * activation) stay within the inputs a vector kernel takes. */
static void fe_load(FeBuild *fb, Value *v) {
  if (!fb->no_immediates && v->dtype == DT_FLOAT32 && ir_value_is_const(v) &&
      ir_value_numel(v) == 1) {
    fe_push_param(fb, *(const float *)v->data);
    return;
  }
  int k = 0;
  while (k < fb->ninputs && fb->inputs[k] != v) k++;
  if (k == fb->ninputs) {
    if (fb->ninputs > FE_MAX_INPUTS) {
      fb->overflow = true;
      return;
    }
    fb->inputs[fb->ninputs++] = v;
  }
  fe_emit(fb, FE_LOAD, k);
}

/* Emits node n (already classified) and, recursively, its absorbable operands. */
static void fe_grow(FeBuild *fb, Node *n, int code, const float prm[2], int nops) {
  if (fb->nnodes >= FE_MAX_OPS) {
    fb->overflow = true;
    return;
  }
  fb->nodes[fb->nnodes++] = n;
  for (int i = 0; i < nops && !fb->overflow; i++) {
    Value *v = n->inputs[i];
    Node *p = v->producer;
    int pc, pn;
    float pp[2] = {0, 0};
    if (p && !v->is_output && fb->nnodes < FE_MAX_OPS && same_shape(v, fb->root) &&
        fb->uses[v->id] == 1 && fe_classify(p, &pc, pp, &pn))
      fe_grow(fb, p, pc, pp, pn);
    else
      fe_load(fb, v);
  }
  if (fb->overflow) return;
  int np = fe_code_params(code), arg = 0;
  if (np > 0) {
    if (fb->nparams + np > FE_MAX_PARAMS) {
      fb->overflow = true;
      return;
    }
    arg = fb->nparams;
    for (int i = 0; i < np; i++) fb->params[fb->nparams++] = prm[i];
  }
  fe_emit(fb, code, arg);
}

/* True when the inputs alone broadcast to the root's shape: a scalar
 * constant turned into an immediate may have been the only operand of the
 * root's rank (x[3] * c[1,1] is [1,3]). */
static bool fe_inputs_give_root_shape(const FeBuild *fb) {
  const Value *r = fb->root;
  int rank = 0;
  for (int k = 0; k < fb->ninputs; k++)
    if (fb->inputs[k]->rank > rank) rank = fb->inputs[k]->rank;
  if (fb->ninputs < 1 || rank != r->rank) return false;
  for (int i = 0; i < r->rank; i++) {
    int64_t d = 1;
    for (int k = 0; k < fb->ninputs; k++) {
      const Value *v = fb->inputs[k];
      int j = i - (r->rank - v->rank);
      if (j >= 0 && v->dims[j] != 1) d = v->dims[j];
    }
    if (d != r->dims[i]) return false;
  }
  return true;
}

/* The tree's nodes stop using their inputs, the fused node starts. */
static void fe_update_uses(const FeBuild *fb, int *uses) {
  for (int i = 0; i < fb->nnodes; i++)
    for (int j = 0; j < fb->nodes[i]->num_inputs; j++)
      if (fb->nodes[i]->inputs[j]) uses[fb->nodes[i]->inputs[j]->id]--;
  for (int i = 0; i < fb->ninputs; i++) uses[fb->inputs[i]->id]++;
}

static Status fe_commit(Graph *g, Node *root, FeBuild *fb, Error *err) {
  Node *f = ir_node_new(g, OP_FUSED_ELEMENTWISE, root->name ? root->name : "", fb->ninputs, 1);
  if (!f) return err_set(err, ST_NOMEM, "out of memory creating a FusedElementwise node");
  f->opset = root->opset;
  for (int i = 0; i < fb->ninputs; i++) f->inputs[i] = fb->inputs[i];
  TRY(ir_node_set_attr_ints(g, f, "program", fb->prog, fb->nprog, err));
  if (fb->nparams > 0) {
    Attr a = {.name = "params", .kind = ATTR_FLOATS, .n = fb->nparams, .floats = fb->params};
    TRY(ir_node_set_attr(g, f, &a, err));
  }
  /* The fused node takes the root's place in the schedule (a stable
   * toposort would otherwise leave it at the end, stretching live ranges). */
  int pos = root->id;
  if (pos < 0 || pos >= g->num_nodes || g->nodes[pos] != root || g->nodes[g->num_nodes - 1] != f)
    return ir_node_error(err, ST_INTERNAL, g, root, "fuse-elementwise lost track of the schedule");
  g->nodes[pos] = f;
  g->num_nodes--;
  f->id = pos;
  Value *out = root->outputs[0];
  int rank = out->rank;
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, out->dims, sizeof dims);
  for (int i = 0; i < fb->nnodes; i++) {
    fb->nodes[i]->dead = true;
    /* The root's position now holds the fused node. */
    if (fb->nodes[i] != root) live_add(fb->live, fb->nlive, fb->nodes[i]->id, -1);
  }
  root->outputs[0] = NULL;
  ir_node_set_output(f, 0, out);
  TRY(ops_infer_node(g, f, err));
  if (out->rank != rank || memcmp(out->dims, dims, (size_t)rank * sizeof dims[0]) != 0)
    return ir_node_error(err, ST_INTERNAL, g, f, "fused shape differs from the original");
  return ST_OK;
}

/* True when the tree's nodes are exactly the live nodes scheduled from its
 * first node to the root: fusing then delays no external input's last use
 * past unrelated work, so the fused node never raises peak memory (a
 * residual sum of branches computed at different times stays unfused). */
static bool fe_contiguous(const Graph *g, const FeBuild *fb, int root_pos) {
  int lo = root_pos;
  for (int k = 0; k < fb->nnodes; k++) {
    int p = fb->nodes[k]->id;
    if (p < 0 || p > root_pos || g->nodes[p] != fb->nodes[k]) return false;
    if (p < lo) lo = p;
  }
  int live = live_upto(fb->live, root_pos) - (lo > 0 ? live_upto(fb->live, lo - 1) : 0);
  return live == fb->nnodes;
}

Status pass_fuse_elementwise(Graph *g, Error *err) {
  int count = g->num_nodes;
  for (int i = 0; i < count; i++) g->nodes[i]->id = i;
  /* Use counts once, kept current as trees fuse (ir_use_count per operand
   * would make the pass quadratic in the graph's size). */
  for (int i = 0; i < g->num_values; i++) g->values[i]->id = i;
  int *uses = calloc((size_t)g->num_values + 1, sizeof *uses);
  if (!uses) return err_set(err, ST_NOMEM, "out of memory in fuse-elementwise");
  for (int i = 0; i < count; i++) {
    const Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j]) uses[n->inputs[j]->id]++;
  }
  for (int i = 0; i < g->num_outputs; i++) uses[g->outputs[i]->id]++;
  int *live = calloc((size_t)count + 1, sizeof *live);
  if (!live) {
    free(uses);
    return err_set(err, ST_NOMEM, "out of memory in fuse-elementwise");
  }
  for (int i = 0; i < count; i++)
    if (!g->nodes[i]->dead) live_add(live, count, i, 1);
  for (int i = count - 1; i >= 0; i--) {
    Node *n = g->nodes[i];
    int code, nops;
    float prm[2] = {0, 0};
    if (n->dead || !fe_classify(n, &code, prm, &nops)) continue;
    FeBuild *fb = calloc(1, sizeof *fb);
    if (!fb) {
      free(uses);
      free(live);
      return err_set(err, ST_NOMEM, "out of memory in fuse-elementwise");
    }
    for (int attempt = 0; attempt < 2; attempt++) {
      memset(fb, 0, sizeof *fb);
      fb->g = g;
      fb->uses = uses;
      fb->live = live;
      fb->nlive = count;
      fb->root = n->outputs[0];
      fb->no_immediates = attempt == 1;
      fe_grow(fb, n, code, prm, nops);
      if (fb->overflow || fe_inputs_give_root_shape(fb)) break;
    }
    Status s = ST_OK;
    if (!fb->overflow && fb->nnodes >= 2 && fb->ninputs <= FE_MAX_INPUTS &&
        fb->max_depth <= FE_MAX_STACK && fe_inputs_give_root_shape(fb) && fe_contiguous(g, fb, i)) {
      fe_update_uses(fb, uses);
      s = fe_commit(g, n, fb, err);
    }
    free(fb);
    if (s != ST_OK) {
      free(uses);
      free(live);
      return s;
    }
  }
  free(uses);
  free(live);
  TRY(ir_compact(g, err));
  return ir_toposort(g, err);
}
