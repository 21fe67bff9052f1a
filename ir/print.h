/*
 * IR printers.  Text form (stable, diffable; see docs/IR.md):
 *
 *   graph @vit(%x: f32[1,3,224,224]) -> (%9: f32[1,1000]) {
 *     %c0 = const f32[768,3,16,16]            # 2359296 B "conv_proj.weight"
 *     %c1 = const i64[3] [1, 768, -1]
 *     %0 = Conv %x, %c0, %c2 {group=1, kernel_shape=[16,16], strides=[16,16]} : f32[1,768,14,14]   # "/conv_proj/Conv"
 *   }
 *
 * Graph inputs keep their ONNX names (sanitized); constants are %c<k> in
 * order of first use, node results %<k> in node order: names never depend
 * on pointers or hash order.  Attributes are sorted by name; floats print
 * with %.9g.  Constants with at most 16 elements print their values.
 * DOT form: one box per node, one ellipse per graph input/output; edges
 * labeled with the value's type.
 */
#ifndef ONNXC_IR_PRINT_H
#define ONNXC_IR_PRINT_H

#include <stdio.h>

#include "graph.h"

void ir_print(const Graph *g, FILE *out);
void ir_print_dot(const Graph *g, FILE *out);

#endif
