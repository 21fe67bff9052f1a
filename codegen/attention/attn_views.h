/*
 * Head split and merge Transposes that attention reads or writes in place.
 *
 * Exporters write multi-head attention as
 *   qkv [B, N, 3, H, D] -> Transpose(2, 0, 3, 1, 4) -> Gather(0 / 1 / 2) -> Q, K, V [B, H, N, D]
 *   Attention -> O [B, H, N, Dv] -> Transpose(0, 2, 1, 3) -> [B, N, H, Dv] -> Reshape
 * (or a Transpose straight into Q, K or V, as torchvision writes it).  Both
 * Transposes keep the last axis, so every row of Q, K, V and O is still
 * contiguous: the attention kernel can read Q, K and V at a row stride and
 * per-head offsets inside the untransposed tensor, and write O rows into
 * the merged layout.  The memory plan then makes such a Transpose a view
 * (it emits no code): a split Transpose shares its input's storage, and an
 * attention result shares the storage of the merge Transpose that reads it.
 * The IR is unchanged; only the backend knows.
 */
#ifndef ONNXC_CODEGEN_ATTN_VIEWS_H
#define ONNXC_CODEGEN_ATTN_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../ir/graph.h"

/* The attention lowering takes this node (no fallback to the reference
 * kernel on any target): float32, static shapes the kernel fits. */
bool attn_lowerable(const Node *n);

/* n is a Transpose that attention reads in place: it keeps the last axis,
 * its input is computed at run time, and every reader of its result is an
 * Attention (as Q, K or V) or a Gather of one index along axis 0 that only
 * Attentions read (as Q, K or V); all of them lowerable. */
bool attn_split_view(const Graph *g, const Node *n);

/* n is a Transpose that keeps the last axis of an Attention's result, which
 * nothing else reads: the attention writes in n's layout. */
bool attn_merge_view(const Graph *g, const Node *n);

/* Byte offset of Gather n (one index along axis 0) inside the storage of
 * the split view it reads, whose logical layout is not its memory's. */
bool attn_split_gather_offset(const Graph *g, const Node *n, size_t *bytes);

/* Where the logical tensor v (an Attention's Q, K, V or result) lies in
 * the memory its pointer starts: the row stride *ld (elements) and the
 * offset of each leading index in off[0 .. numel(leading dims)) (malloc'ed,
 * NULL when v is dense).  ST_NOMEM only. */
Status attn_view_layout(const Graph *g, const Value *v, bool is_output, int64_t *ld,
                        int64_t **off, Error *err);

#endif
