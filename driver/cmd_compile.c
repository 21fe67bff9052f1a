/*
 * onnxc compile MODEL: load, run the pass pipeline, then the LLVM backend
 * (codegen/codegen.h) writes the object file (or assembly / LLVM IR) and
 * the C header.  Defaults: output and header beside the model name in the
 * current directory, prefix from the model file name, host triple,
 * -mcpu=native, -O3, weights embedded.  --emit=shared writes the object as
 * a scratch file beside the output and links it (link.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codegen/codegen.h"
#include "driver.h"

/* "dir/name.onnx" -> "name<ext>" in the current directory. */
static void default_path(const char *model, const char *ext, char *out, size_t size) {
  const char *base = strrchr(model, '/');
  base = base ? base + 1 : model;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  snprintf(out, size, "%.*s%s", (int)n, base, ext);
}

/* "out.o" -> "out.h"; "out" -> "out.h". */
static void header_beside(const char *output, char *out, size_t size) {
  const char *slash = strrchr(output, '/');
  const char *dot = strrchr(output, '.');
  size_t n = dot && (!slash || dot > slash + 1) ? (size_t)(dot - output) : strlen(output);
  snprintf(out, size, "%.*s.h", (int)n, output);
}

static void join_command_line(const CliOptions *o, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < o->argc && at + 1 < size; i++) {
    /* Keep the banner free of absolute build paths only where it is ours:
     * the user's own arguments are reproduced as given. */
    int k = snprintf(buf + at, size - at, "%s%s", i ? " " : "", i == 0 ? "onnxc" : o->argv[i]);
    if (k < 0) break;
    at += (size_t)k;
  }
}

/* The outputs, each written beside its place and renamed there at the end. */
typedef struct CompileOutputs {
  const char *object, *header, *weights; /* where cg_compile writes them */
} CompileOutputs;

static Status add_outputs(const char *output, const char *header,
                          const char *weights, Outputs *outs, CompileOutputs *w, Error *err) {
  TRY(outputs_add(outs, output, "the object file (-o)", &w->object, err));
  TRY(outputs_add(outs, header, "the header (--header)", &w->header, err));
  if (weights) TRY(outputs_add(outs, weights, "the weights file (--weights)", &w->weights, err));
  return ST_OK;
}

Status cmd_compile(const CliOptions *o, Error *err) {
  char prefix[128], output[4096], header[4096], cmdline[4096];
  if (o->name) snprintf(prefix, sizeof prefix, "%s", o->name);
  else cg_sanitize_identifier(o->model, prefix, sizeof prefix);
  CgEmit emit = CG_EMIT_OBJ;
  if (o->emit && strcmp(o->emit, "asm") == 0) emit = CG_EMIT_ASM;
  if (o->emit && strcmp(o->emit, "llvm") == 0) emit = CG_EMIT_LLVM;
  bool shared = o->emit && strcmp(o->emit, "shared") == 0;
  const char *ext = shared                ? ".so"
                    : emit == CG_EMIT_OBJ ? ".o"
                    : emit == CG_EMIT_ASM ? ".s"
                                          : ".ll";
  if (o->output) snprintf(output, sizeof output, "%s", o->output);
  else default_path(o->model, ext, output, sizeof output);
  if (o->header) snprintf(header, sizeof header, "%s", o->header);
  else header_beside(output, header, sizeof header);
  join_command_line(o, cmdline, sizeof cmdline);
  const char *weights = o->weights && strcmp(o->weights, "embed") != 0 ? o->weights : NULL;

  Outputs outs;
  outputs_init(&outs);
  CompileOutputs w = {0};
  Graph *g = NULL;
  DrvProgress *progress = drv_progress_begin(o);
  Status st = drv_guard_inputs(o, &outs, err);
  if (st == ST_OK) st = add_outputs(output, header, weights, &outs, &w, err);
  drv_progress(progress, "loading the model", 0, 0);
  const char *object = w.object;
  if (st == ST_OK && shared) st = outputs_scratch(&outs, w.object, "model.o", &object, err);
  if (st == ST_OK) st = drv_load(o, &outs, &g, err);
  PipelineOptions po;
  drv_pipeline_options(o, &po);
  drv_progress(progress, "passes", 0, 0);
  if (st == ST_OK) st = pass_run_pipeline(g, &po, err);
  if (st == ST_OK) st = drv_check_static(g, err);
  if (st == ST_OK) {
    CgOptions co = {
        .prefix = prefix,
        .triple = o->target,
        .cpu = o->mcpu,
        .features = o->mattr,
        .opt_level = o->opt_level,
        .emit = emit,
        .output_path = object,
        .header_path = w.header,
        .model_path = o->model,
        .command_line = cmdline,
        .weights_path = w.weights, /* same base name as the final file, which the header quotes */
        .print_memory_plan = o->print_memory_plan,
        .print_kernels = o->print_kernels,
        .reference_kernels_only = o->reference_kernels,
        .sanitize_address = o->sanitize_address,
        .sanitize_thread = o->sanitize_thread,
        .min_task_ns = o->min_task_us * 1000.0,
        .profile = o->profile,
        .time_stages = o->time_passes,
        .release_weights = true, /* g is only freed after this */
        .log = stderr,
    };
    co.progress = progress ? drv_progress : NULL;
    co.progress_ctx = progress;
    st = cg_compile(g, &co, err);
    drv_progress_end(progress); /* before the C compiler may print */
    progress = NULL;
    if (st == ST_OK && shared)
      st = drv_link_shared(o->target, object, w.object, !o->sanitize_address && !o->sanitize_thread,
                           NULL, err);
  }
  drv_progress_end(progress);
  if (st == ST_OK) st = outputs_commit(&outs, err);
  outputs_free(&outs);
  ir_graph_free(g);
  return st;
}
