/* Compile-link-dlopen-run support for tests; see cg_harness.h. */
#include "cg_harness.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../codegen/codegen.h"
#include "../../ops/eval.h"

Status cgh_compile(Graph *g, int opt_level, CgModule *m, Error *err) {
  return cgh_compile_ex(g, opt_level, false, m, err);
}

/* The sanitizer build instruments the generated code with AddressSanitizer
 * too: the test process carries the ASan runtime, so a kernel's
 * out-of-bounds access fails the test where it happens. */
#ifndef CGH_SANITIZE
#define CGH_SANITIZE 0
#endif

Status cgh_compile_ex(Graph *g, int opt_level, bool reference_only, CgModule *m, Error *err) {
  memset(m, 0, sizeof *m);
  snprintf(m->dir, sizeof m->dir, "/tmp/onnxc-cgh-XXXXXX");
  if (!mkdtemp(m->dir)) return err_set(err, ST_IO, "mkdtemp failed");
  char obj[320], hdr[320], so[320], cmd[1200];
  snprintf(obj, sizeof obj, "%s/model.o", m->dir);
  snprintf(hdr, sizeof hdr, "%s/model.h", m->dir);
  snprintf(so, sizeof so, "%s/model.so", m->dir);
  CgOptions o = {.prefix = "model", .opt_level = opt_level, .emit = CG_EMIT_OBJ,
                 .output_path = obj, .header_path = hdr, .model_path = g->source,
                 .reference_kernels_only = reference_only, .sanitize_address = CGH_SANITIZE};
  TRY(cg_compile(g, &o, err));
  snprintf(cmd, sizeof cmd, "cc -shared -o %s %s -lm", so, obj);
  if (system(cmd) != 0) return err_set(err, ST_IO, "linking %s failed", obj);
  FILE *f = fopen(hdr, "r");
  if (!f) return err_set(err, ST_IO, "%s: cannot read", hdr);
  char line[512];
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "#define MODEL_WORKSPACE_SIZE", 28) == 0)
      m->workspace_size = (size_t)strtoull(line + 28, NULL, 10);
  fclose(f);
  m->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!m->dl) return err_set(err, ST_IO, "dlopen %s: %s", so, dlerror());
  *(void **)&m->run = dlsym(m->dl, "model_run");
  if (!m->run) return err_set(err, ST_INTERNAL, "model_run not found in %s", so);
  return ST_OK;
}

void cgh_unload(CgModule *m) {
  if (m->dl) dlclose(m->dl);
  if (m->dir[0]) {
    char path[320];
    const char *files[] = {"model.o", "model.h", "model.so"};
    for (int i = 0; i < 3; i++) {
      snprintf(path, sizeof path, "%s/%s", m->dir, files[i]);
      unlink(path);
    }
    rmdir(m->dir);
  }
  memset(m, 0, sizeof *m);
}

Status cgh_run(const CgModule *m, const Graph *g, const void *const inputs[], void ***outputs,
               Error *err) {
  void **outs = calloc((size_t)g->num_outputs + 1, sizeof *outs);
  if (!outs) return err_set(err, ST_NOMEM, "out of memory");
  for (int i = 0; i < g->num_outputs; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    outs[i] = calloc(1, nb ? nb : 1);
    if (!outs[i]) {
      cgh_free_buffers(outs, g->num_outputs);
      return err_set(err, ST_NOMEM, "out of memory");
    }
  }
  void *ws = aligned_alloc(64, (m->workspace_size + 63) / 64 * 64 + 64);
  int rc = ws ? m->run(inputs, outs, ws) : -1;
  free(ws);
  if (rc != 0) {
    cgh_free_buffers(outs, g->num_outputs);
    return err_set(err, ST_INTERNAL, "model_run returned %d", rc);
  }
  *outputs = outs;
  return ST_OK;
}

void cgh_free_buffers(void **bufs, int n) {
  if (!bufs) return;
  for (int i = 0; i < n; i++) free(bufs[i]);
  free(bufs);
}

Status cgh_random_inputs(const Graph *g, unsigned seed, void ***inputs, Error *err) {
  void **ins = calloc((size_t)g->num_inputs + 1, sizeof *ins);
  if (!ins) return err_set(err, ST_NOMEM, "out of memory");
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    size_t n = (size_t)ir_value_numel(v);
    ins[i] = calloc(1, ir_value_nbytes(v) + 1);
    if (!ins[i]) {
      cgh_free_buffers(ins, g->num_inputs);
      return err_set(err, ST_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      double u = (double)(s >> 11) / 9007199254740992.0; /* [0,1) */
      if (dtype_is_float(v->dtype)) dtype_store_f64(v->dtype, ins[i], k, 2 * u - 1, true);
      else if (v->dtype == DT_BOOL) dtype_store_i64(v->dtype, ins[i], k, u < 0.5);
      else dtype_store_i64(v->dtype, ins[i], k, (int64_t)(u * 10));
    }
  }
  *inputs = ins;
  return ST_OK;
}

Status cgh_differential(Graph *g, int opt_level, const void *const inputs[], double rtol,
                        double atol, CgCompare *cmp, Error *err) {
  memset(cmp, 0, sizeof *cmp);
  cmp->ok = true;
  Status st = ir_compact(g, err);
  if (st != ST_OK) return st;
  void **ref = calloc((size_t)g->num_outputs + 1, sizeof *ref);
  if (!ref) return err_set(err, ST_NOMEM, "out of memory");
  for (int i = 0; i < g->num_outputs; i++)
    if (!(ref[i] = calloc(1, ir_value_nbytes(g->outputs[i]) + 1))) {
      cgh_free_buffers(ref, g->num_outputs);
      return err_set(err, ST_NOMEM, "out of memory");
    }
  st = eval_graph(g, inputs, ref, err);
  CgModule m;
  void **got = NULL;
  if (st == ST_OK) st = cgh_compile(g, opt_level, &m, err);
  if (st == ST_OK) st = cgh_run(&m, g, inputs, &got, err);
  for (int i = 0; st == ST_OK && i < g->num_outputs; i++) {
    const Value *v = g->outputs[i];
    size_t n = (size_t)ir_value_numel(v);
    for (size_t k = 0; k < n; k++) {
      double a = dtype_load_f64(v->dtype, got[i], k), b = dtype_load_f64(v->dtype, ref[i], k);
      if (isnan(a) && isnan(b)) continue;
      double d = fabs(a - b);
      if (a == b) d = 0; /* same-sign infinities */
      bool exact = !dtype_is_float(v->dtype);
      bool bad = exact ? d != 0 : !(d <= atol + rtol * fabs(b));
      double rel = d / (fabs(b) > 1e-30 ? fabs(b) : 1e-30);
      if (d > cmp->max_abs) {
        cmp->max_abs = d;
        cmp->worst_output = i;
      }
      if (rel > cmp->max_rel && d > atol) cmp->max_rel = rel;
      if (bad) cmp->ok = false;
    }
  }
  if (got) cgh_free_buffers(got, g->num_outputs);
  cgh_free_buffers(ref, g->num_outputs);
  if (m.dl || m.dir[0]) cgh_unload(&m);
  return st;
}
