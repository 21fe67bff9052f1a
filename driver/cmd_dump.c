/*
 * onnxc dump MODEL: load, run the pass pipeline (with the observation flags),
 * print the resulting IR as text or Graphviz dot to stdout or -o FILE (put
 * in place only once complete; see outputs.h).
 */
#include <errno.h>
#include <string.h>

#include "../ir/print.h"
#include "driver.h"

static Status print_to(const CliOptions *o, const Graph *g, const char *path, Error *err) {
  FILE *out = stdout;
  if (path && !(out = fopen(path, "w")))
    return err_set(err, ST_IO, "%s: cannot create: %s", o->output, strerror(errno));
  if (o->dot) ir_print_dot(g, out);
  else ir_print(g, out);
  bool failed = ferror(out) != 0;
  if (out != stdout) failed |= fclose(out) != 0;
  else failed |= fflush(out) != 0;
  if (failed) return err_set(err, ST_IO, "%s: write failed", o->output ? o->output : "<stdout>");
  return ST_OK;
}

Status cmd_dump(const CliOptions *o, Error *err) {
  Outputs outs;
  outputs_init(&outs);
  const char *path = NULL;
  Graph *g = NULL;
  Status st = drv_guard_inputs(o, &outs, err);
  if (st == ST_OK && o->output) st = outputs_add(&outs, o->output, "the IR (-o)", &path, err);
  if (st == ST_OK) st = drv_load(o, &outs, &g, err);
  PipelineOptions po;
  drv_pipeline_options(o, &po);
  if (st == ST_OK) st = pass_run_pipeline(g, &po, err);
  if (st == ST_OK) st = print_to(o, g, path, err);
  if (st == ST_OK) st = outputs_commit(&outs, err);
  outputs_free(&outs);
  ir_graph_free(g);
  return st;
}
