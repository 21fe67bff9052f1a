/*
 * The individual recognizers of the canonicalize pass (passes/canonicalize.c
 * drives them).  Each looks at one candidate root node n; when the whole
 * pattern matches (every constant checked, every deleted intermediate used
 * only inside the pattern) it inserts the replacement node where the
 * pattern's last node stood, marks the pattern dead and sets *done.
 * Otherwise the graph is untouched.  Errors are allocation failures only.
 */
#ifndef ONNXC_PASSES_PATTERN_CANON_H
#define ONNXC_PASSES_PATTERN_CANON_H

#include "pattern_match.h"

/* n: the Div(d, sqrt) or Mul(d, Reciprocal(sqrt)) at the core of a
 * decomposed LayerNormalization. */
Status canon_layernorm(Graph *g, Node *n, bool *done, Error *err);
/* n: the last Mul of an erf- or tanh-based GELU. */
Status canon_gelu(Graph *g, Node *n, bool *done, Error *err);

/* n: a Concat of Slices of one tensor along one axis (torch.roll). */
Status canon_roll(Graph *g, Node *n, bool *done, Error *err);

#endif
