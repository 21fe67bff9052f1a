/*
 * Model loading and the pass pipeline as every onnxc command uses them: the
 * CLI's --input-shape values go to the frontend, its observation flags
 * (--print-ir-*, --time-passes, --verify-each, --stop-after) to the pass
 * manager.
 */
#include "driver.h"

static Status guard_external_file(void *ctx, const char *path, Error *err) {
  return outputs_guard(ctx, path, "external data of the model", err);
}

Status drv_load(const CliOptions *o, Outputs *outs, Graph **out, Error *err) {
  LoadOptions lo = {.input_shapes = o->shapes,
                    .num_input_shapes = o->num_shapes,
                    .max_tensor_bytes = o->max_tensor_bytes,
                    .on_external_file = outs ? guard_external_file : NULL,
                    .on_external_file_ctx = outs};
  return fe_load_file(o->model, &lo, out, err);
}

Status drv_guard_inputs(const CliOptions *o, Outputs *outs, Error *err) {
  TRY(outputs_guard(outs, o->model, "the model", err));
  for (int i = 0; i < o->num_inputs; i++)
    TRY(outputs_guard(outs, o->inputs[i].path, "an --input file", err));
  return ST_OK;
}

void drv_pipeline_options(const CliOptions *o, PipelineOptions *p) {
  *p = (PipelineOptions){
      .print_before = o->print_before,
      .num_print_before = o->num_print_before,
      .print_after = o->print_after,
      .num_print_after = o->num_print_after,
      .print_after_all = o->print_after_all,
      .time_passes = o->time_passes,
      .verify_each = o->verify_each,
      .dot = o->dot,
      .stop_after = o->stop_after,
      .dump = stderr,
      .log = stderr,
  };
}

static Status not_static(const Graph *g, const Value *v, Error *err) {
  return err_set(err, ST_INVALID,
                 "%s: value '%s' has no static type, so the graph cannot be evaluated (give "
                 "--input-shape for symbolic dims, and do not stop before infer-shapes)",
                 g->source, v->name);
}

/* Only what evaluation touches: graph inputs/outputs and node operands. */
Status drv_check_static(const Graph *g, Error *err) {
  for (int i = 0; i < g->num_inputs; i++)
    if (!ir_value_is_static(g->inputs[i])) return not_static(g, g->inputs[i], err);
  for (int i = 0; i < g->num_outputs; i++)
    if (!ir_value_is_static(g->outputs[i])) return not_static(g, g->outputs[i], err);
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j] && !ir_value_is_static(n->inputs[j])) return not_static(g, n->inputs[j], err);
    for (int j = 0; j < n->num_outputs; j++)
      if (n->outputs[j] && !ir_value_is_static(n->outputs[j]))
        return not_static(g, n->outputs[j], err);
  }
  return ST_OK;
}
