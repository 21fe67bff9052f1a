/*
 * onnxc run MODEL --input NAME=FILE ...: load, run the pass pipeline, evaluate
 * with the reference evaluator, print one summary line per output (name,
 * dtype, shape, min, max, mean) and, with --output-dir, write each output as
 * DIR/<sanitized name>.npy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../ops/eval.h"
#include "../runtime/npy.h"
#include "driver.h"

/* Creates DIR if missing (one level, like mkdir). */
static Status ensure_dir(const char *dir, Error *err) {
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) return ST_OK;
    return err_set(err, ST_IO, "%s: exists and is not a directory", dir);
  }
  if (mkdir(dir, 0777) != 0) return err_set(err, ST_IO, "%s: cannot create: %s", dir, strerror(errno));
  return ST_OK;
}

/* File stems for every output; a clash after sanitizing gets the output's index appended. */
static void output_stems(const Graph *g, char (*stems)[256]) {
  for (int i = 0; i < g->num_outputs; i++) {
    drv_sanitize_name(g->outputs[i]->name, i, stems[i], sizeof stems[i]);
    for (int j = 0; j < i; j++)
      if (strcmp(stems[i], stems[j]) == 0) {
        size_t n = strlen(stems[i]);
        if (n > 240) n = 240;
        snprintf(stems[i] + n, sizeof stems[i] - n, "_%d", i);
        break;
      }
  }
}

/* DIR/<stem>.npy for every output, checked against the model and the
 * inputs before the (possibly long) evaluation; *paths[i] is where output i
 * is written until outputs_commit. */
static Status plan_outputs(const CliOptions *o, const Graph *g, Outputs *files,
                           const char **paths, Error *err) {
  TRY(ensure_dir(o->output_dir, err));
  char(*stems)[256] = calloc((size_t)g->num_outputs + 1, sizeof *stems);
  if (!stems) return err_set(err, ST_NOMEM, "out of memory");
  output_stems(g, stems);
  Status st = ST_OK;
  for (int i = 0; i < g->num_outputs && st == ST_OK; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", o->output_dir, stems[i]);
    st = outputs_add(files, path, "an output (--output-dir)", &paths[i], err);
  }
  free(stems);
  return st;
}

static Status write_outputs(const Graph *g, void **outs, const char **paths, Error *err) {
  for (int i = 0; i < g->num_outputs; i++) {
    const Value *v = g->outputs[i];
    if (npy_write(paths[i], v->dtype, v->rank, v->dims, outs[i], err) != ST_OK)
      return err_prefix(err, "output '%s'", v->name);
  }
  return ST_OK;
}

Status cmd_run(const CliOptions *o, Error *err) {
  Graph *g = NULL;
  HostTensor *ins = NULL;
  const void **in_ptr = NULL;
  void **outs = NULL;
  const char **paths = NULL;
  Outputs files;
  outputs_init(&files);
  Status st = drv_guard_inputs(o, &files, err);
  if (st == ST_OK) st = drv_load(o, &files, &g, err);
  if (st != ST_OK) goto done;
  PipelineOptions po;
  drv_pipeline_options(o, &po);
  st = pass_run_pipeline(g, &po, err);
  if (st != ST_OK) goto done;
  st = drv_check_static(g, err);
  if (st != ST_OK) goto done;

  ins = calloc((size_t)g->num_inputs + 1, sizeof *ins);
  in_ptr = calloc((size_t)g->num_inputs + 1, sizeof *in_ptr);
  outs = calloc((size_t)g->num_outputs + 1, sizeof *outs);
  paths = calloc((size_t)g->num_outputs + 1, sizeof *paths);
  if (!ins || !in_ptr || !outs || !paths) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto done;
  }
  if (o->output_dir && (st = plan_outputs(o, g, &files, paths, err)) != ST_OK) goto done;
  st = drv_read_inputs(o, g, NULL, ins, err);
  if (st != ST_OK) goto done;
  for (int i = 0; i < g->num_inputs; i++) in_ptr[i] = ins[i].data;
  for (int i = 0; i < g->num_outputs; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    outs[i] = calloc(1, nb ? nb : 1);
    if (!outs[i]) {
      st = err_set(err, ST_NOMEM, "out of memory for output '%s' (%zu bytes)",
                   g->outputs[i]->name, nb);
      goto done;
    }
  }
  st = eval_graph(g, in_ptr, outs, err);
  if (st != ST_OK) goto done;
  for (int i = 0; i < g->num_outputs; i++)
    drv_print_summary(stdout, g->outputs[i]->name, g->outputs[i], outs[i]);
  if (o->output_dir) st = write_outputs(g, outs, paths, err);
  if (st == ST_OK) st = outputs_commit(&files, err);
done:
  outputs_free(&files);
  free(paths);
  if (ins)
    for (int i = 0; i < g->num_inputs; i++) host_tensor_free(&ins[i]);
  if (outs)
    for (int i = 0; i < g->num_outputs; i++) free(outs[i]);
  free(ins);
  free(in_ptr);
  free(outs);
  ir_graph_free(g);
  return st;
}
