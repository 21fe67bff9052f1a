/*
 * The pass manager.  Passes are listed once in pipeline.def and run in that
 * order by pass_run_pipeline, which also implements the observation flags
 * (--print-ir-before/after, --time-passes, --verify-each) and an optional
 * hook after every pass (`onnxc verify --each` evaluates the graph there).
 */
#ifndef ONNXC_PASSES_PASS_H
#define ONNXC_PASSES_PASS_H

#include <stdbool.h>
#include <stdio.h>

#include "../ir/graph.h"

#define PASS(id, name, summary) Status pass_##id(Graph *g, Error *err);
#include "pipeline.def"
#undef PASS

typedef Status (*PassFn)(Graph *g, Error *err);
typedef struct PassInfo {
  const char *name;    /* cli name */
  PassFn fn;
  const char *summary;
} PassInfo;

extern const PassInfo pass_table[];
extern const int pass_count;

/* Called after each pass; returning non-OK stops the pipeline. */
typedef Status (*PassHook)(void *ctx, const char *pass_name, Graph *g, Error *err);

typedef struct PipelineOptions {
  const char *const *print_before; int num_print_before;   /* pass names */
  const char *const *print_after;  int num_print_after;
  bool print_after_all;
  bool time_passes;          /* table of per-pass wall time to `log` at the end */
  bool verify_each;          /* run ir_verify after every pass */
  bool dot;                  /* print as Graphviz instead of text */
  const char *stop_after;    /* run passes up to and including this one; NULL = all */
  FILE *dump;                /* where printed IR goes (stderr if NULL) */
  FILE *log;                 /* where the time table goes (stderr if NULL) */
  PassHook hook; void *hook_ctx;
} PipelineOptions;

/* NULL if no such pass. */
const PassInfo *pass_find(const char *name);
/* Checks that every name in the print lists is a known pass. */
Status pass_check_options(const PipelineOptions *o, Error *err);
Status pass_run_pipeline(Graph *g, const PipelineOptions *o, Error *err);

/* Shared by infer-shapes and fold-constants: evaluates n (all inputs constant)
 * and turns its outputs into constants. */
Status pass_fold_node(Graph *g, Node *n, Error *err);
/* False when evaluating n would take too long to do at compile time. */
bool pass_fold_is_cheap(const Node *n);

#endif
