/*
 * canonicalize: turns the decomposed forms torch exports for common
 * activations and normalizations back into single ops, so later passes
 * (fuse-epilogues) and the code generators see one node:
 *   decomposed LayerNormalization      -> LayerNormalization (pattern_layernorm.c)
 *   erf / tanh GELU                    -> Gelu [approximate=tanh] (pattern_gelu.c)
 *   x * Sigmoid(x)                     -> onnxc.SiLU
 *   x * HardSigmoid(x; 1/6, 0.5)       -> HardSwish (torch's hardswish below opset 14)
 *   Concat of Slices of one tensor     -> Gather along the axis (torch.roll; pattern_roll.c)
 * Runs after fold-constants, so every constant of a pattern is a Value.
 * One forward sweep: each recognizer checks every constant and that each
 * value it deletes is used only inside the pattern.
 */
#include "pass.h"

#include <math.h>

#include "pattern_canon.h"

/* Mul(x, f(x)) with f's result used only here: returns x and f's node. */
static Value *mul_self_gated(const Graph *g, const Node *n, OpKind gate, Node **gnode) {
  if (n->op != OP_MUL || n->num_inputs != 2) return NULL;
  for (int k = 0; k < 2; k++) {
    Node *f = pat_def(n->inputs[k], gate);
    if (f && pat_private(g, n->inputs[k]) && f->inputs[0] == n->inputs[1 - k]) {
      *gnode = f;
      return n->inputs[1 - k];
    }
  }
  return NULL;
}

static Status canon_silu(Graph *g, Node *n, bool *done, Error *err) {
  Node *sig, *silu;
  Value *x = mul_self_gated(g, n, OP_SIGMOID, &sig);
  if (!x || !dtype_is_float(x->dtype)) return ST_OK;
  TRY(pat_replace(g, n, OP_SILU, &x, 1, &silu, err));
  sig->dead = true;
  *done = true;
  return ST_OK;
}

static Status canon_hard_swish(Graph *g, Node *n, bool *done, Error *err) {
  Node *hs, *sw;
  Value *x = mul_self_gated(g, n, OP_HARD_SIGMOID, &hs);
  if (!x || !dtype_is_float(x->dtype)) return ST_OK;
  double alpha = ir_attr_float(hs, "alpha", 0.2f), beta = ir_attr_float(hs, "beta", 0.5f);
  if (fabs(alpha - 1.0 / 6.0) > 1e-6 || beta != 0.5) return ST_OK;
  TRY(pat_replace(g, n, OP_HARD_SWISH, &x, 1, &sw, err));
  hs->dead = true;
  *done = true;
  return ST_OK;
}

Status pass_canonicalize(Graph *g, Error *err) {
  /* Recognizers insert their node before the pattern's last node, which
   * is at or after index i, so the sweep never skips a live node. */
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || n->num_outputs != 1 || !n->outputs[0]) continue;
    bool done = false;
    TRY(canon_layernorm(g, n, &done, err));
    if (!done) TRY(canon_gelu(g, n, &done, err));
    if (!done) TRY(canon_silu(g, n, &done, err));
    if (!done) TRY(canon_hard_swish(g, n, &done, err));
    if (!done) TRY(canon_roll(g, n, &done, err));
  }
  return ir_compact(g, err);
}
