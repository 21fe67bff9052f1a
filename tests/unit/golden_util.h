/*
 * Helpers for the golden-file tests of the passes and printers
 * (tests/unit/test_passes*.c, test_print*.c): build small graphs with the
 * ir/graph.h API, print them into memory, and compare with a file under
 * tests/golden/.  With ONNXC_UPDATE_GOLDEN=1 in the environment the file is
 * rewritten instead (review the diff by hand before keeping it).
 * Header-only and static: each test executable includes it once.
 */
#ifndef ONNXC_TESTS_GOLDEN_UTIL_H
#define ONNXC_TESTS_GOLDEN_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ir/graph.h"
#include "ir/print.h"
#include "ops/ops.h"

/* Runs a printer into a malloc'ed NUL-terminated string. */
static inline char *print_to_string(const Graph *g, void (*printer)(const Graph *, FILE *)) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  printer(g, f);
  fclose(f);
  return buf;
}

static inline char *read_file_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  assert_non_null(s);
  size_t got = fread(s, 1, (size_t)n, f);
  s[got] = '\0';
  fclose(f);
  return s;
}

/* Compares text with tests/golden/<rel>; prints both on mismatch. */
static inline void check_golden(const char *rel, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/golden/%s", ONNXC_SOURCE_DIR, rel);
  const char *upd = getenv("ONNXC_UPDATE_GOLDEN");
  if (upd && strcmp(upd, "1") == 0) {
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write golden file %s (does its folder exist?)", path);
    fputs(text, f);
    fclose(f);
    return;
  }
  char *want = read_file_text(path);
  if (!want) fail_msg("golden file %s is missing (run with ONNXC_UPDATE_GOLDEN=1)", path);
  if (strcmp(want, text) != 0) {
    fprintf(stderr, "---- expected (%s)\n%s---- got\n%s----\n", path, want, text);
    free(want);
    fail_msg("output differs from %s", path);
  }
  free(want);
}

/* ---- graph building shorthands (fail the test on any error) ------------- */

static inline Value *g_input(Graph *g, const char *name, DType dt, int rank, const int64_t *dims) {
  Value *v = ir_value_new(g, name);
  assert_non_null(v);
  assert_int_equal(ir_value_set_type(v, dt, rank, dims, NULL), ST_OK);
  assert_int_equal(ir_graph_add_input(g, v, NULL), ST_OK);
  return v;
}

static inline Value *g_const_i64(Graph *g, const char *name, int rank, const int64_t *dims,
                          const int64_t *data) {
  Value *v = ir_const_new(g, name, DT_INT64, rank, dims, data);
  assert_non_null(v);
  return v;
}

static inline Value *g_const_f32(Graph *g, const char *name, int rank, const int64_t *dims,
                          const float *data) {
  Value *v = ir_const_new(g, name, DT_FLOAT32, rank, dims, data);
  assert_non_null(v);
  return v;
}

/* A node with num_in inputs (NULL allowed) and one fresh output named out. */
static inline Node *g_node(Graph *g, OpKind op, const char *name, const char *out, int num_in, ...) {
  Node *n = ir_node_new(g, op, name, num_in, 1);
  assert_non_null(n);
  va_list ap;
  va_start(ap, num_in);
  for (int i = 0; i < num_in; i++) n->inputs[i] = va_arg(ap, Value *);
  va_end(ap);
  Value *o = ir_value_new(g, out);
  assert_non_null(o);
  ir_node_set_output(n, 0, o);
  return n;
}

static inline Value *g_out(Node *n) { return n->outputs[0]; }

static inline void g_output(Graph *g, Value *v) { assert_int_equal(ir_graph_add_output(g, v, NULL), ST_OK); }

/* Types every node with its shape rule, without folding anything. */
static inline void g_type_all(Graph *g) {
  Error err = {0};
  for (int i = 0; i < g->num_nodes; i++)
    if (ops_infer_node(g, g->nodes[i], &err) != ST_OK) fail_msg("%s", err.msg);
}

#endif
