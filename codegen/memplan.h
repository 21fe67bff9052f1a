/*
 * Memory planning for the generated code: every intermediate tensor gets an
 * offset in ONE caller-provided workspace.
 *
 * Liveness is computed over the final node order: a buffer is live from the
 * node that defines it to its last reader.  View ops (Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Dropout without mask, and copies of one
 * contiguous block of their input such as q = Gather(qkv, 0)) do not get a
 * buffer: their result aliases the input's storage (at an offset for the
 * blocks), and the alias extends the storage's lifetime.  Offsets are assigned greedily, largest buffer first,
 * at the lowest 64-byte-aligned offset that does not overlap any already
 * placed buffer whose lifetime intersects.  A node whose reference kernel
 * or lowered kernel needs scratch memory (ops_scratch_bytes, ops/ops.h;
 * cg_lowered_scratch_bytes, lower.h) also gets a region
 * live during that node only, placed and counted like a buffer, so the
 * generated code never allocates.  The lower bound reported is the peak of
 * simultaneously live bytes.
 */
#ifndef ONNXC_CODEGEN_MEMPLAN_H
#define ONNXC_CODEGEN_MEMPLAN_H

#include <stdio.h>

#include "../ir/graph.h"

#define MEMPLAN_ALIGN 64

typedef enum BufKind {
  BUF_NONE = 0,   /* no storage (absent optional output) */
  BUF_CONST,      /* constant: lives in the weights */
  BUF_INPUT,      /* caller's input pointer */
  BUF_OUTPUT,     /* caller's output pointer */
  BUF_WORKSPACE,  /* workspace + offset */
} BufKind;

typedef struct BufPlace {
  BufKind kind;
  int index;          /* input/output index for BUF_INPUT / BUF_OUTPUT */
  size_t offset;      /* BUF_WORKSPACE: byte offset */
  size_t bytes;
  int first, last;    /* node indices of definition and last use */
  int alias_of;       /* value id whose storage this value shares, or -1 */
  size_t view_offset; /* bytes into alias_of's storage where this value starts
                       * (after planning: into the root's storage) */
} BufPlace;

typedef struct MemPlan {
  int num_values;
  BufPlace *place;        /* indexed by Value.id (malloc'ed) */
  int num_nodes;
  size_t *scratch_offset; /* by node index (malloc'ed): workspace offset of its scratch */
  size_t *scratch_bytes;  /* by node index (malloc'ed): 0 = the node needs none */
  bool *no_code;          /* by node index (malloc'ed): a Transpose attention reads or
                           * writes in place (codegen/attention/attn_views.h) */
  size_t workspace_size;  /* multiple of MEMPLAN_ALIGN */
  size_t lower_bound;     /* peak simultaneously live workspace bytes */
} MemPlan;

/* True for ops whose output is a reinterpretation of input 0's bytes. */
bool memplan_is_view(const Node *n);
/* True for those and for movement ops whose output is one contiguous block
 * of input 0 (Gather of one leading index, Slice of leading rows: see
 * mv_map_contiguous), with *bytes the block's start in input 0. */
bool memplan_view_offset(const Node *n, size_t *bytes);

/* g must be compacted (ids dense) and static.  lowered: the specialized
 * lowerings run (false with reference kernels only), so head split and
 * merge Transposes become views that the attention lowering reads and
 * writes in place, and a node's scratch covers its lowering's need too
 * (cg_lowered_scratch_bytes: Winograd convs). */
Status memplan_build(const Graph *g, bool lowered, MemPlan *plan, Error *err);
void memplan_free(MemPlan *plan);
void memplan_print(const Graph *g, const MemPlan *plan, FILE *out);

#endif
