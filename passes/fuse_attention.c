/*
 * fuse-attention: MatMul(Q, K^T) -> [scale] -> [+bias] -> Softmax(-1) ->
 * MatMul(., V), as torch (1.13, 2.x) and paddle export it, becomes one
 * onnxc.Attention(Q, K, V[, bias]) {scale} (semantics in ops/attention.c).
 * Runs after canonicalize and fold-batchnorm, so biases and scales are
 * folded constants.  attn_match.c recognizes the pattern (scale after the
 * product, on Q, on K or both, Div, Einsum, Swin's masked windows, M != N);
 * this file rewrites it.  K^T's Transpose is absorbed: the op reads K, or a
 * new Transpose of the Transpose's input when the head split permuted more
 * than the last two axes.  The Q/K/V head split itself stays as it is.
 */
#include "pass.h"

#include "../ops/ops.h"
#include "attn_match.h"

static int node_index(const Graph *g, const Node *n) {
  for (int i = 0; i < g->num_nodes; i++)
    if (g->nodes[i] == n) return i;
  return -1;
}

/* Moves the just-appended last node into slot `at`, whose node is dead;
 * the dead one goes to the end for ir_compact.  Every input of the new
 * node is defined before `at`, so the order stays topological. */
static void take_slot(Graph *g, int at) {
  Node *fresh = g->nodes[g->num_nodes - 1];
  g->nodes[g->num_nodes - 1] = g->nodes[at];
  g->nodes[at] = fresh;
}

/* K = Transpose(m->k_src, m->k_perm), placed where the Q.K^T product was. */
static Status make_k(Graph *g, AttnMatch *m, Error *err) {
  if (m->k) return ST_OK;
  const char *name = arena_printf(g->arena, "%s/K", m->qk->name ? m->qk->name : "");
  Node *t = name ? ir_node_new(g, OP_TRANSPOSE, name, 1, 1) : NULL;
  Value *k = t ? ir_value_new(g, "") : NULL;
  if (!k) return err_set(err, ST_NOMEM, "out of memory");
  t->inputs[0] = m->k_src;
  ir_node_set_output(t, 0, k);
  TRY(ir_node_set_attr_ints(g, t, "perm", m->k_perm, m->k_src->rank, err));
  TRY(ops_infer_node(g, t, err));
  int at = node_index(g, m->qk);
  if (at < 0) return err_set(err, ST_INTERNAL, "attention: lost the Q.K^T node");
  take_slot(g, at);
  m->k = k;
  return ST_OK;
}

static Status fuse_one(Graph *g, AttnMatch *m, bool *done, Error *err) {
  Value *bias = m->var_bias;
  *done = false;
  if (m->const_bias) {
    bool too_big;
    TRY(attn_const_bias(g, m, &bias, &too_big, err));
    if (too_big) return ST_OK;
  }
  for (int i = 0; i < m->num_dead; i++) m->dead[i]->dead = true;
  TRY(make_k(g, m, err));
  Value *out = m->pv->outputs[0];
  Node *a = ir_node_new(g, OP_ATTENTION, m->pv->name, bias ? 4 : 3, 1);
  if (!a) return err_set(err, ST_NOMEM, "out of memory");
  a->inputs[0] = m->q;
  a->inputs[1] = m->k;
  a->inputs[2] = m->v;
  if (bias) a->inputs[3] = bias;
  ir_node_set_output(a, 0, out);
  TRY(ir_node_set_attr_float(g, a, "scale", (float)m->scale, err));
  TRY(ops_infer_node(g, a, err));
  int at = node_index(g, m->pv);
  if (at < 0) return err_set(err, ST_INTERNAL, "attention: lost the product with V");
  take_slot(g, at);
  *done = true;
  return ST_OK;
}

Status pass_fuse_attention(Graph *g, Error *err) {
  int fused = 0;
  /* New nodes go into slots of dead ones, so the count does not grow
   * beyond the two appended per match and the loop sees each Softmax once. */
  for (int i = 0; i < g->num_nodes; i++) {
    Node *s = g->nodes[i];
    if (s->dead || s->op != OP_SOFTMAX) continue;
    AttnMatch m;
    if (!attn_match(g, s, &m)) continue;
    bool done;
    TRY(fuse_one(g, &m, &done, err));
    fused += done;
  }
  return fused ? ir_compact(g, err) : ST_OK;
}
