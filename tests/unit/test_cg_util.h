/*
 * Helpers shared by the compiled-code tests (test_cg_*.c): building
 * single-node graphs (float inputs, uniform constants), counting live nodes
 * of an op, and looking into the emitted LLVM IR to check that a
 * specialized kernel (not the reference fallback) was generated.  Static
 * inline and cmocka-asserting: include after <cmocka.h>.  Compiling for a
 * named cpu complements tests/support/cg_harness.h (host only).
 */
#ifndef ONNXC_TESTS_UNIT_TEST_CG_UTIL_H
#define ONNXC_TESTS_UNIT_TEST_CG_UTIL_H

#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "ir/graph.h"
#include "ops/eval.h"
#include "tests/support/cg_harness.h"

/* A float32 graph input of the given shape. */
static inline Value *tcg_input(Graph *g, int rank, const int64_t *dims) {
  Error err;
  Value *v = ir_value_new(g, "x");
  assert_non_null(v);
  assert_int_equal(ir_value_set_type(v, DT_FLOAT32, rank, dims, &err), ST_OK);
  assert_int_equal(ir_graph_add_input(g, v, &err), ST_OK);
  return v;
}

/* A float32 constant with entries in [-1, 1] drawn from rnd. */
static inline Value *tcg_constant(Graph *g, int rank, const int64_t *dims, uint32_t (*rnd)(void)) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
  assert_non_null(d);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(rnd() % 20001) / 10000.0f - 1.0f;
  Value *v = ir_const_new(g, "w", DT_FLOAT32, rank, dims, d);
  free(d);
  assert_non_null(v);
  return v;
}

/* Live nodes of g with operator op. */
static inline int tcg_count_op(const Graph *g, OpKind op) {
  int k = 0;
  for (int i = 0; i < g->num_nodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == op) k++;
  return k;
}

/* Nodes of g whose op type is one of ops[0..n) that a specialized kernel
 * runs ("lowered" in --print-kernels).  Not counted from the IR: nodes of
 * equal shapes share one kernel function there. */
static inline int tcg_count_lowered(Graph *g, const char *const *ops, int n) {
  char dir[] = "/tmp/onnxc-cgtest-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/m.ll", dir);
  char *log_text = NULL;
  size_t log_size = 0;
  FILE *log = open_memstream(&log_text, &log_size);
  assert_non_null(log);
  CgOptions o = {.prefix = "m", .opt_level = 0, .emit = CG_EMIT_LLVM, .output_path = path,
                 .print_kernels = true, .log = log};
  Error err;
  Status st = cg_compile(g, &o, &err);
  fclose(log);
  unlink(path);
  rmdir(dir);
  if (st != ST_OK) fail_msg("%s", err.msg);
  int count = 0;
  for (char *line = strtok(log_text, "\n"); line; line = strtok(NULL, "\n")) {
    char kind[32], op[64];
    if (sscanf(line, " %31s %63s", kind, op) != 2 || strcmp(kind, "lowered") != 0) continue;
    for (int i = 0; i < n; i++)
      if (strcmp(op, ops[i]) == 0) {
        count++;
        break;
      }
  }
  free(log_text);
  return count;
}

/* The emitted IR (opt level 0) for cpu (NULL: host) contains `tag`. */
static inline bool tcg_ir_has(Graph *g, const char *cpu, const char *tag) {
  char path[] = "/tmp/onnxc-cgtest-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  CgOptions o = {.prefix = "model", .cpu = cpu, .opt_level = 0, .emit = CG_EMIT_LLVM,
                 .output_path = path};
  Error err = {0};
  if (cg_compile(g, &o, &err) != ST_OK) fail_msg("compile: %s", err.msg);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)sz + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
  buf[sz] = 0;
  fclose(f);
  unlink(path);
  bool found = strstr(buf, tag) != NULL;
  free(buf);
  return found;
}

/* Like cgh_compile at -O3, for a named cpu (NULL: host). */
static inline void tcg_compile_for(Graph *g, const char *cpu, CgModule *m) {
  memset(m, 0, sizeof *m);
  snprintf(m->dir, sizeof m->dir, "/tmp/onnxc-cgtest-XXXXXX");
  assert_non_null(mkdtemp(m->dir));
  char obj[320], hdr[320], so[320], cmd[1200], line[512];
  snprintf(obj, sizeof obj, "%s/model.o", m->dir);
  snprintf(hdr, sizeof hdr, "%s/model.h", m->dir);
  snprintf(so, sizeof so, "%s/model.so", m->dir);
  CgOptions o = {.prefix = "model", .cpu = cpu, .opt_level = 3, .emit = CG_EMIT_OBJ,
                 .output_path = obj, .header_path = hdr};
  Error err = {0};
  if (cg_compile(g, &o, &err) != ST_OK) fail_msg("compile: %s", err.msg);
  snprintf(cmd, sizeof cmd, "cc -shared -o %s %s -lm", so, obj);
  assert_int_equal(system(cmd), 0);
  FILE *f = fopen(hdr, "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "#define MODEL_WORKSPACE_SIZE ", 29) == 0)
      m->workspace_size = (size_t)strtoull(line + 28, NULL, 10);
  fclose(f);
  m->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(m->dl);
  *(void **)&m->run = dlsym(m->dl, "model_run");
  assert_non_null(m->run);
}

/* Runs g on seeded random inputs compiled for cpu and compares every
 * element of its one float output with the reference evaluator within
 * atol + rtol*|ref| (NaN == NaN).  The host (cpu NULL) goes through
 * cgh_differential; `what` names the case in failure messages. */
static inline void tcg_compare_on_cpu(Graph *g, const char *cpu, unsigned seed, double rtol,
                                      double atol, const char *what) {
  Error err = {0};
  void **in = NULL;
  assert_int_equal(cgh_random_inputs(g, seed, &in, &err), ST_OK);
  if (!cpu) {
    CgCompare cmp;
    if (cgh_differential(g, 3, (const void *const *)in, rtol, atol, &cmp, &err) != ST_OK)
      fail_msg("%s: %s", what, err.msg);
    if (!cmp.ok) fail_msg("%s (host): max abs %g max rel %g", what, cmp.max_abs, cmp.max_rel);
    cgh_free_buffers(in, g->num_inputs);
    return;
  }
  size_t ny = (size_t)ir_value_numel(g->outputs[0]);
  float *ref = calloc(ny + 1, sizeof *ref);
  assert_non_null(ref);
  void *outs[1] = {ref};
  if (eval_graph(g, (const void *const *)in, outs, &err) != ST_OK) fail_msg("eval: %s", err.msg);
  CgModule m;
  tcg_compile_for(g, cpu, &m);
  void **got = NULL;
  if (cgh_run(&m, g, (const void *const *)in, &got, &err) != ST_OK) fail_msg("run: %s", err.msg);
  const float *gy = got[0];
  for (size_t k = 0; k < ny; k++) {
    double a = gy[k], b = ref[k];
    /* Equal infinities too (-inf - -inf is NaN): a max pool over a window
     * of padding only is -inf in both. */
    if (a == b || (isnan(a) && isnan(b))) continue;
    if (!(fabs(a - b) <= atol + rtol * fabs(b)))
      fail_msg("%s (cpu %s): element %zu is %g, expected %g", what, cpu, k, a, b);
  }
  cgh_free_buffers(got, g->num_outputs);
  cgh_unload(&m);
  free(ref);
  cgh_free_buffers(in, g->num_inputs);
}

#endif
