/*
 * The onnxc IR: a Graph of Values and Nodes with static shapes.
 *
 * - A Value is one tensor: dtype + shape, optionally constant data.  Graph
 *   inputs, constants (initializers, Constant nodes) and node results are all
 *   Values.  Before shape inference a result has rank IR_RANK_UNKNOWN; after
 *   it, every value has a rank and every dim is >= 0 ("static").
 * - A Node applies an op (OpKind from ops.def) to input Values and defines its
 *   output Values.  Absent optional inputs/outputs are NULL entries.
 * - Graph.nodes is kept in topological order (ir_toposort establishes it,
 *   passes preserve it); the verifier checks it.
 *
 * Memory: everything belongs to Graph.arena and is released by
 * ir_graph_free().  Functions returning pointers return NULL only on
 * allocation failure; those taking Error* return a Status.
 */
#ifndef ONNXC_IR_GRAPH_H
#define ONNXC_IR_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "dtype.h"
#include "op.h"
#include "status.h"

#define IR_MAX_RANK 8
#define IR_RANK_UNKNOWN (-1)
#define IR_DIM_UNKNOWN (-1)
/* Upper bound on any one tensor's element count (2^40): bigger is hostile. */
#define IR_MAX_NUMEL ((int64_t)1 << 40)
/* Default bound on the bytes of any one tensor (--max-tensor-bytes): far
 * above any vision model's, far below what a hostile Expand asks for. */
#define IR_DEFAULT_MAX_TENSOR_BYTES ((size_t)1 << 30)

typedef struct Node Node;

typedef struct Value {
  int id;                       /* index in Graph.values (ir_compact renumbers) */
  char *name;                   /* ONNX name; "" for values onnxc created */
  DType dtype;                  /* DT_UNDEFINED until known */
  int rank;                     /* IR_RANK_UNKNOWN until known */
  int64_t dims[IR_MAX_RANK];    /* IR_DIM_UNKNOWN for a dynamic dim not yet fixed */
  char *dim_param[IR_MAX_RANK]; /* the model's symbolic dim names, for messages; may be NULL */
  void *data;                   /* constant contents (arena), NULL if computed */
  char *const_origin;           /* for constants: initializer / Constant node name */
  Node *producer;               /* defining node; NULL for inputs and constants */
  bool is_input;                /* a runtime graph input */
  bool is_output;               /* listed in Graph.outputs */
} Value;

typedef enum AttrKind {
  ATTR_INT,
  ATTR_FLOAT,
  ATTR_STRING,
  ATTR_INTS,
  ATTR_FLOATS,
  ATTR_STRINGS,
  ATTR_TENSOR,
  ATTR_GRAPH       /* a nested Graph (Loop's body); see ir/subgraph.h */
} AttrKind;

/* A tensor outside the value graph (a TENSOR attribute such as
 * ConstantOfShape's `value`). */
typedef struct Tensor {
  DType dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  void *data; /* arena */
} Tensor;

typedef struct Attr {
  char *name;
  AttrKind kind;
  int64_t i;       /* ATTR_INT */
  float f;         /* ATTR_FLOAT */
  char *s;         /* ATTR_STRING (NUL-terminated; ONNX strings here are names/modes) */
  int n;           /* element count of ints / floats / strings */
  int64_t *ints;   /* ATTR_INTS */
  float *floats;   /* ATTR_FLOATS */
  /* ATTR_GRAPH shares the slot of `strings` and always has n == 0, so code
   * that copies or serializes arrays by n (ir_node_set_attr, codegen's node
   * descriptors) never reads it; sizeof(Attr) stays what codegen mirrors. */
  union {
    char **strings;       /* ATTR_STRINGS */
    struct Graph *graph;  /* ATTR_GRAPH: shares the owner graph's arena */
  };
  Tensor *t;       /* ATTR_TENSOR */
} Attr;

struct Node {
  int id;              /* position in Graph.nodes after the last ir_compact/toposort */
  OpKind op;
  char *name;          /* ONNX node name, kept for messages and printed as a comment */
  int opset;           /* default-domain opset version in force for this node */
  int num_inputs;
  Value **inputs;      /* NULL = omitted optional input */
  int num_outputs;
  Value **outputs;     /* NULL = omitted optional output */
  int num_attrs;
  Attr *attrs;         /* kept sorted by name (ir_node_set_attr keeps the order) */
  bool dead;           /* marked for removal; ir_compact drops it */
};

typedef struct Graph {
  Arena *arena;
  char *name;
  char *source;            /* file name for messages ("model.onnx"), or "<memory>" */
  int opset;               /* default-domain opset of the model */
  int64_t ir_version;
  char *producer;          /* "pytorch 1.13.1" etc., informative */
  int num_values, cap_values;
  Value **values;
  int num_nodes, cap_nodes;
  Node **nodes;
  int num_inputs;
  Value **inputs;          /* runtime inputs, in model order */
  int num_outputs;
  Value **outputs;         /* in model order */
  size_t max_tensor_bytes; /* bigger tensors are refused (0: IR_DEFAULT_MAX_TENSOR_BYTES) */
  /* Constant data owned by the graph outside its arena (ir_const_adopt),
   * so that it can be given back early (ir_graph_release_adopted). */
  void **adopted;          /* a freed block's entry keeps its address with bit 0 set */
  int num_adopted, cap_adopted;
  bool adopted_sorted;     /* adopted[] is in address order (for bsearch) */
} Graph;

/* ---- construction ---------------------------------------------------- */
Graph *ir_graph_new(const char *name, const char *source);
void ir_graph_free(Graph *g);

/* A value with unknown type. */
Value *ir_value_new(Graph *g, const char *name);
/* A constant; copies nbytes of data (data NULL = zeros).  Shape must be static. */
Value *ir_const_new(Graph *g, const char *name, DType dt, int rank, const int64_t *dims,
                    const void *data);
/* A constant whose data is `data` itself, a malloc'ed block of its size that
 * the graph now owns (freed with the graph, or by ir_graph_release_adopted);
 * on failure data is freed and NULL returned.  Big weights take no copy. */
Value *ir_const_adopt(Graph *g, const char *name, DType dt, int rank, const int64_t *dims,
                      void *data);
/* Frees every adopted block now, and clears the data of the values that
 * still point into one: for a caller that needs the weights no more (the
 * backend once they are in the LLVM module) and wants the memory back. */
void ir_graph_release_adopted(Graph *g);
/* The same for one value: its adopted block is freed now and its data
 * cleared (nothing when v's data is not an adopted block). */
void ir_value_release_adopted(Graph *g, Value *v);
/* Appends a node; inputs/outputs are allocated (all NULL) and filled by the caller.
 * Sets each output's producer when ir_node_set_output is used. */
Node *ir_node_new(Graph *g, OpKind op, const char *name, int num_inputs, int num_outputs);
void ir_node_set_output(Node *n, int i, Value *v);
Status ir_graph_add_input(Graph *g, Value *v, Error *err);
Status ir_graph_add_output(Graph *g, Value *v, Error *err);

/* ---- types ------------------------------------------------------------ */
static inline bool ir_value_is_const(const Value *v) { return v && v->data != NULL; }
/* Rank known and every dim >= 0. */
bool ir_value_is_static(const Value *v);
/* Element count (1 for rank 0); -1 if not static. */
int64_t ir_value_numel(const Value *v);
/* numel * dtype_size; 0 if not static. */
size_t ir_value_nbytes(const Value *v);
/* g->max_tensor_bytes, or the default. */
size_t ir_max_tensor_bytes(const Graph *g);
/* "512 bytes", "64 MiB", "4.0 TiB": for size messages. */
void ir_bytes_str(uint64_t n, char *buf, size_t size);
/* Sets dtype and shape, checking each dim >= 0 and numel <= IR_MAX_NUMEL. */
Status ir_value_set_type(Value *v, DType dt, int rank, const int64_t *dims, Error *err);
/* "f32[1,3,224,224]" into buf; returns buf. */
char *ir_type_str(const Value *v, char *buf, size_t size);
/* Turns v into a constant holding a copy of data (numel*dtype bytes). */
Status ir_value_set_data(Graph *g, Value *v, const void *data, Error *err);

/* ---- attributes ------------------------------------------------------- */
const Attr *ir_attr(const Node *n, const char *name);
int64_t ir_attr_int(const Node *n, const char *name, int64_t dflt);
float ir_attr_float(const Node *n, const char *name, float dflt);
const char *ir_attr_string(const Node *n, const char *name, const char *dflt);
/* Number of ints, with *out pointing at them; -1 (and *out NULL) when absent. */
int ir_attr_ints(const Node *n, const char *name, const int64_t **out);
int ir_attr_floats(const Node *n, const char *name, const float **out);
/* Adds or replaces; copies everything into the arena.  Keeps attrs sorted. */
Status ir_node_set_attr(Graph *g, Node *n, const Attr *a, Error *err);
Status ir_node_set_attr_int(Graph *g, Node *n, const char *name, int64_t v, Error *err);
Status ir_node_set_attr_ints(Graph *g, Node *n, const char *name, const int64_t *v, int count,
                             Error *err);
Status ir_node_set_attr_float(Graph *g, Node *n, const char *name, float v, Error *err);
Status ir_node_set_attr_string(Graph *g, Node *n, const char *name, const char *s, Error *err);
void ir_node_remove_attr(Node *n, const char *name);

/* ---- mutation --------------------------------------------------------- */
/* Every use of `from` (node inputs and graph outputs) now uses `to`. */
void ir_replace_uses(Graph *g, Value *from, Value *to);
/* Number of node inputs reading v, plus 1 if v is a graph output. */
int ir_use_count(const Graph *g, const Value *v);
/* Drops dead nodes and values nothing refers to; renumbers ids. */
Status ir_compact(Graph *g, Error *err);
/* Reorders nodes topologically (stable); ST_INVALID naming a node on a cycle
 * or a value used but never defined. */
Status ir_toposort(Graph *g, Error *err);

/* ---- messages --------------------------------------------------------- */
/* Formats `source: node "name" (Op, opset N): error: <msg>` into err. */
Status ir_node_error(Error *err, Status s, const Graph *g, const Node *n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Rewrites an error a shape rule or kernel set (a bare reason) into the
 * node form above. */
Status ir_node_wrap_error(Error *err, const Graph *g, const Node *n);

#endif
