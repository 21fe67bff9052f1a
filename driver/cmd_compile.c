/*
 * onnxc compile MODEL: load, run the pass pipeline, then the LLVM backend
 * (codegen/codegen.h) writes the object file (or assembly / LLVM IR) and
 * the C header.  Defaults: output and header beside the model name in the
 * current directory, prefix from the model file name, host triple,
 * -mcpu=native, -O3, weights embedded.
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

static Status check_identifier(const char *s, Error *err) {
  bool ok = s[0] && !(s[0] >= '0' && s[0] <= '9');
  for (const char *p = s; *p && ok; p++)
    ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
         *p == '_';
  if (!ok || strlen(s) > 100)
    return err_set(err, ST_INVALID, "--name '%s' is not a C identifier (letters, digits, _; "
                   "at most 100 characters)", s);
  return ST_OK;
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

Status cmd_compile(const CliOptions *o, Error *err) {
  char prefix[128], output[4096], header[4096], cmdline[4096];
  if (o->name) {
    TRY(check_identifier(o->name, err));
    snprintf(prefix, sizeof prefix, "%s", o->name);
  } else {
    cg_sanitize_identifier(o->model, prefix, sizeof prefix);
  }
  CgEmit emit = CG_EMIT_OBJ;
  if (o->emit && strcmp(o->emit, "asm") == 0) emit = CG_EMIT_ASM;
  if (o->emit && strcmp(o->emit, "llvm") == 0) emit = CG_EMIT_LLVM;
  if (o->output) snprintf(output, sizeof output, "%s", o->output);
  else default_path(o->model, emit == CG_EMIT_OBJ ? ".o" : emit == CG_EMIT_ASM ? ".s" : ".ll",
                    output, sizeof output);
  if (o->header) snprintf(header, sizeof header, "%s", o->header);
  else header_beside(output, header, sizeof header);
  join_command_line(o, cmdline, sizeof cmdline);
  const char *weights = o->weights && strcmp(o->weights, "embed") != 0 ? o->weights : NULL;
  if (weights && (strcmp(weights, output) == 0 || strcmp(weights, header) == 0))
    return err_set(err, ST_INVALID, "--weights=%s would overwrite the %s", weights,
                   strcmp(weights, output) == 0 ? "output" : "header");

  Graph *g = NULL;
  TRY(drv_load(o, &g, err));
  PipelineOptions po;
  drv_pipeline_options(o, &po);
  Status st = pass_run_pipeline(g, &po, err);
  if (st == ST_OK) st = drv_check_static(g, err);
  if (st == ST_OK) {
    CgOptions co = {
        .prefix = prefix,
        .triple = o->target,
        .cpu = o->mcpu,
        .features = o->mattr,
        .opt_level = o->opt_level,
        .emit = emit,
        .output_path = output,
        .header_path = header,
        .model_path = o->model,
        .command_line = cmdline,
        .weights_path = weights,
        .print_memory_plan = o->print_memory_plan,
        .print_kernels = o->print_kernels,
        .reference_kernels_only = o->reference_kernels,
        .sanitize_address = o->sanitize_address,
        .sanitize_thread = o->sanitize_thread,
        .min_task_ns = o->min_task_us * 1000.0,
        .log = stderr,
    };
    st = cg_compile(g, &co, err);
  }
  ir_graph_free(g);
  return st;
}
