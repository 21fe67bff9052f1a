/*
 * Private interface between the frontend's files.
 *
 *   tensor_pb.c      TensorProto -> unpacked buffer (also the .pb file reader)
 *   external_data.c  reading tensor bytes that live next to the model
 *   attrs.c          AttributeProto -> Attr, with function attribute binding
 *   symtab.c         name -> Value map used while walking a graph or function
 *   normalize.c      rewriting old op forms to the newest (canon contract)
 *   functions.c      model-local function lookup and inlining
 *   input_shape.c    fixing dynamic input dims from --input-shape
 *   model_split.c    ModelProto unpacking, one initializer at a time
 *   onnx_load.c      the model/graph walk that ties them together
 *
 * Functions here set BARE reasons in Error unless said otherwise; the walker
 * adds the file and node context.
 */
#ifndef ONNXC_FRONTEND_FE_INTERNAL_H
#define ONNXC_FRONTEND_FE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../ir/graph.h"
#include "onnx.pb-c.h"
#include "onnx_load.h"
#include "tensor_pb.h"

#define FE_MIN_IR_VERSION 3
#define FE_MAX_IR_VERSION 14  /* IR_VERSION of the vendored onnx.proto */
#define FE_MIN_OPSET 1 /* 1..6 only for ops whose form did not change (normalize.c) */
#define FE_MAX_OPSET 27
#define FE_MAX_ATTRS 1024          /* attributes on one node */
#define FE_MAX_ATTR_ELEMS (1 << 24) /* ints/floats/strings in one attribute */
#define FE_MAX_NODE_IO 65536       /* inputs or outputs of one node */
#define FE_MAX_FUNCTION_DEPTH 16   /* nested model-local function calls */

/* ---- model_split.c ---- */
/* A model's bytes: a file read piecewise (mem NULL) or a buffer. */
typedef struct FeBytes {
  int fd;
  const uint8_t *mem;
  uint64_t size;
} FeBytes;
/* Unpacks a ModelProto with its graph's initializers read and unpacked one
 * at a time: the bytes and the message are never both whole in memory.
 * ST_PARSE for bytes that are not a ModelProto, ST_IO, ST_NOMEM. */
Status fe_unpack_model(const FeBytes *src, Onnx__ModelProto **out);

/* ---- tensor_pb.c ---- */
/* Decodes a TensorProto into out (data malloc'ed, unpacked).  base_dir is the
 * folder external data is relative to; NULL refuses external data. */
Status fe_tensor_decode(const Onnx__TensorProto *t, const char *base_dir, TensorFile *out,
                        Error *err);
/* ONNX elem_type -> DType, refusing string/complex/unknown types with a
 * message naming the type ("element type string is not supported"). */
Status fe_dtype_from_onnx(int64_t elem_type, DType *out, Error *err);
/* Reads a whole file (at most limit bytes) into a malloc'ed buffer.  Full
 * message naming the path. */
Status fe_read_file(const char *path, size_t limit, void **out, size_t *len, Error *err);
/* Bytes of the packed (file) form of numel elements of dt. */
size_t fe_packed_size(DType dt, size_t numel);
/* Unpacks `bytes` (little endian, packed sub-byte) into dst (dtype_size each). */
void fe_unpack_raw(DType dt, const uint8_t *bytes, size_t numel, void *dst);

/* ---- external_data.c ---- */
/* Reads exactly `nbytes` bytes described by t's external_data entries into
 * a malloc'ed *out, after checking the path stays inside base_dir and the
 * file really holds them (checked before allocating). */
Status fe_external_read(const Onnx__TensorProto *t, const char *base_dir, size_t nbytes,
                        uint8_t **out, Error *err);

/* ---- external_files.c ---- */
/* Calls opt->on_external_file (if set) with the resolved path of every file
 * the model's external data lives in. */
Status fe_report_external_files(const Onnx__ModelProto *m, const char *base_dir,
                                const LoadOptions *opt, Error *err);

/* ---- attrs.c ---- */
/* Converts one attribute (no ref_attr_name) into *out, allocating from a.
 * Graph-valued attributes give ST_UNSUPPORTED "nested graphs are not supported". */
Status fe_attr_convert(Arena *a, const Onnx__AttributeProto *p, const char *base_dir, Attr *out,
                       Error *err);
/* Converts all attributes of a node.  An attribute with ref_attr_name takes
 * the value of the same-named entry of `binding` (renamed) or is dropped when
 * absent.  *out is an arena array sorted by name. */
Status fe_attrs_convert(Arena *a, Onnx__AttributeProto *const *attrs, size_t n,
                        const Attr *binding, int num_binding, const char *base_dir, Attr **out,
                        int *num_out, Error *err);
/* Checks that attributes whose name has one type across all ONNX ops
 * (axes, pads, epsilon, mode, ...) have that type. */
Status fe_attrs_check_kinds(const Attr *attrs, int n, Error *err);

/* ---- symtab.c ---- */
typedef struct SymEntry {
  const char *key; /* borrowed: lives as long as the protobuf */
  Value *v;
  bool defined;    /* false: referenced before any definition */
} SymEntry;

typedef struct SymTab {
  SymEntry *slots;
  size_t cap, count;
} SymTab;

void symtab_free(SymTab *t);
SymEntry *symtab_find(const SymTab *t, const char *key);
/* Inserts (v, defined) under key; NULL when out of memory. */
SymEntry *symtab_put(SymTab *t, const char *key, Value *v, bool defined);

/* ---- normalize.c ---- */
/* The walker's view of a node before it becomes IR: resolved inputs and
 * outputs and converted attributes.  normalize rewrites it in place. */
typedef struct ProtoNode {
  const char *op_type;
  const char *name;
  int opset;
  OpKind op;
  int num_inputs, num_outputs;
  Value **inputs;  /* arena arrays, with room for FE_NORM_EXTRA more inputs */
  Value **outputs;
  int num_attrs;
  Attr *attrs;
} ProtoNode;

#define FE_NORM_EXTRA 4

/* Rewrites pn to the newest form of its op (canonical op forms).  May add
 * constant values and helper nodes to g.  pn->op is set here (OP_COUNT if
 * unknown).  Errors are bare reasons about this node. */
Status fe_normalize(Graph *g, ProtoNode *pn, Error *err);
/* decompose.c: rewrites ops that have no kernel (PRelu, Elu, Selu, training-mode
 * BatchNormalization) into ones that do; *done tells whether pn was one
 * (pn then holds the last op of the expansion).  Called by fe_normalize. */
Status fe_decompose(Graph *g, ProtoNode *pn, bool *done, Error *err);

/* ---- functions.c ---- */
const Onnx__FunctionProto *fe_find_function(const Onnx__ModelProto *m, const char *domain,
                                            const char *op_type, const char *overload);
/* Default-domain opset in force inside f (model_opset when f imports none). */
int fe_function_opset(const Onnx__FunctionProto *f, int model_opset);
/* Builds the attribute binding of one call: the caller's attributes plus f's
 * attribute_proto defaults for those the caller did not set. */
Status fe_function_binding(Arena *a, const Onnx__FunctionProto *f, const Attr *caller,
                           int num_caller, const char *base_dir, Attr **out, int *num_out,
                           Error *err);

/* ---- onnx_load.c: the walker's state, shared with subgraph.c ---- */
typedef struct Loader {
  Graph *g;                /* graph being built: the model's, or a Loop body while walking it */
  const Onnx__ModelProto *m;
  const char *base_dir;
  Error *err;
  int model_opset;
  int num_unsup;
  char unsup[ERROR_MSG_MAX];
  size_t unsup_len;
} Loader;

typedef struct FeBody FeBody;

typedef struct Scope {
  SymTab names;
  const Attr *binding;     /* caller attributes + defaults, for ref_attr_name */
  int num_binding;
  int opset;               /* default-domain opset in force */
  const char *prefix;      /* "" at top level, "<call>/" inside a function */
  int depth;
  FeBody *body;            /* non-NULL while walking a Loop body */
} Scope;

/* Full messages (file and node context). */
Value *fe_lookup_input(Loader *L, Scope *S, const char *name); /* (Value *)-1: out of memory */
Status fe_define_output(Loader *L, Scope *S, const char *name, Value **out, bool *dup);
Status fe_walk_nodes(Loader *L, Scope *S, Onnx__NodeProto *const *nodes, size_t n);

/* ---- subgraph.c ---- */
/* A Loop body being walked: the outer values it reads become extra body
 * inputs (after the formal ones) and extra Loop inputs, in first-use order. */
struct FeBody {
  Graph *graph;            /* the body */
  Scope *outer;            /* the enclosing scope (itself maybe a body) */
  int num_captured, cap_captured;
  Value **captured;        /* outer values, parallel to the extra body inputs */
};

/* Walks a Loop node: its body becomes a nested Graph (ir/subgraph.h) and the
 * node an OP_LOOP in L->g.  Full messages. */
Status fe_walk_loop(Loader *L, Scope *S, const Onnx__NodeProto *np, const char *name);
/* Resolves `name`, unknown in body scope S, in the enclosing scopes; when
 * found (*found), *out is the new body input standing for it (NULL when the
 * outer name is an absent optional value).  ST_NOMEM only. */
Status fe_body_capture(Loader *L, Scope *S, const char *name, Value **out, bool *found);

/* ---- input_shape.c ---- */
/* Applies opt's input shapes to g's runtime inputs, then refuses any input
 * dim still unknown, listing all of them.  Full messages (with source). */
Status fe_apply_input_shapes(Graph *g, const LoadOptions *opt, Error *err);

/* True for the default ONNX domain ("" or "ai.onnx"). */
static inline bool fe_default_domain(const char *d) {
  return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

#endif
