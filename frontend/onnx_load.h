/*
 * ONNX frontend: ModelProto bytes -> IR Graph.
 *
 * Validates everything (the later stages trust a loaded graph): sizes,
 * indices, dtypes, attribute types, names, opset range, external-data
 * paths.  Normalizes opset differences to the newest form of each op
 * (attributes that became inputs become constant inputs; Upsample becomes
 * Resize; Constant nodes become constant values), inlines model-local
 * functions, and fixes dynamic input dimensions from the user's
 * --input-shape values.  Every unsupported node is listed in one error.
 * The returned graph is topologically sorted; internal values have unknown
 * types until the infer-shapes pass.
 */
#ifndef ONNXC_FRONTEND_ONNX_LOAD_H
#define ONNXC_FRONTEND_ONNX_LOAD_H

#include <stddef.h>

#include "../ir/graph.h"

/* Refuse model files above this size (protobuf itself caps at 2 GiB). */
#define FE_MAX_MODEL_BYTES ((size_t)2 << 30)

typedef struct InputShape {
  const char *name;
  int rank;
  int64_t dims[IR_MAX_RANK];
} InputShape;

typedef struct LoadOptions {
  const InputShape *input_shapes;
  int num_input_shapes;
  /* Bound on any one tensor, kept in Graph.max_tensor_bytes for the passes
   * (0: IR_DEFAULT_MAX_TENSOR_BYTES). */
  size_t max_tensor_bytes;
  /* Called after a successful load with the resolved path of each file
   * holding external data (the driver keeps outputs off them); its error
   * fails the load.  NULL: not called. */
  Status (*on_external_file)(void *ctx, const char *path, Error *err);
  void *on_external_file_ctx;
} LoadOptions;

/* Parses "NAME=1,3,224,224" (also "NAME=" for a scalar); every dim must be
 * at least 1, since onnxc compiles for one concrete shape.  out->name is a
 * malloc'ed copy: release it with fe_input_shape_free. */
Status fe_parse_input_shape(const char *spec, InputShape *out, Error *err);
void fe_input_shape_free(InputShape *s);

/* *out is owned by the caller (ir_graph_free).  On error *out is NULL and
 * nothing is leaked. */
Status fe_load_file(const char *path, const LoadOptions *opt, Graph **out, Error *err);
/* base_dir: folder that external data paths are relative to (NULL: refuse
 * external data). source: name used in messages. */
Status fe_load_buffer(const void *data, size_t len, const char *source, const char *base_dir,
                      const LoadOptions *opt, Graph **out, Error *err);

#endif
