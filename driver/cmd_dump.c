/*
 * onnxc dump MODEL: load, run the pass pipeline (with the observation flags),
 * print the resulting IR as text or Graphviz dot to stdout or -o FILE.
 */
#include <errno.h>
#include <string.h>

#include "../ir/print.h"
#include "driver.h"

Status cmd_dump(const CliOptions *o, Error *err) {
  Graph *g = NULL;
  TRY(drv_load(o, &g, err));
  PipelineOptions po;
  drv_pipeline_options(o, &po);
  Status st = pass_run_pipeline(g, &po, err);
  if (st != ST_OK) goto done;
  FILE *out = stdout;
  if (o->output) {
    out = fopen(o->output, "w");
    if (!out) {
      st = err_set(err, ST_IO, "%s: cannot create: %s", o->output, strerror(errno));
      goto done;
    }
  }
  if (o->dot) ir_print_dot(g, out);
  else ir_print(g, out);
  bool failed = ferror(out) != 0;
  if (out != stdout) failed |= fclose(out) != 0;
  else failed |= fflush(out) != 0;
  if (failed)
    st = err_set(err, ST_IO, "%s: write failed", o->output ? o->output : "<stdout>");
done:
  ir_graph_free(g);
  return st;
}
