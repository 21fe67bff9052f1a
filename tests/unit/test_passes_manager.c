/*
 * Tests of the pass manager (passes/manager.c): option checking, the
 * --print-ir-before/after headers, --time-passes table, verify-each,
 * stop-after and the per-pass hook, on a small graph run through the whole
 * pipeline.
 */
#include "golden_util.h"

#include "passes/pass.h"

/* x:f32[2,3] -> Identity -> Shape-driven Reshape to [6] -> Relu, plus a dead Neg. */
static Graph *small_graph(void) {
  Graph *g = ir_graph_new("small", "small.onnx");
  assert_non_null(g);
  g->opset = 13;
  int64_t xd[2] = {2, 3}, one[1] = {1}, minus1 = -1;
  Value *x = g_input(g, "x", DT_FLOAT32, 2, xd);
  Value *i = g_out(g_node(g, OP_IDENTITY, "id", "i", 1, x));
  Value *r = g_out(g_node(g, OP_RESHAPE, "flat", "r", 2, i, g_const_i64(g, "s", 1, one, &minus1)));
  g_out(g_node(g, OP_NEG, "unused", "n", 1, r));
  g_output(g, g_out(g_node(g, OP_RELU, "relu", "y", 1, r)));
  return g;
}

static void rejects_unknown_pass_names(void **state) {
  (void)state;
  const char *after[] = {"dce", "fold-constant"};
  PipelineOptions o = {.print_after = after, .num_print_after = 2};
  Error err = {0};
  assert_int_equal(pass_check_options(&o, &err), ST_INVALID);
  assert_non_null(strstr(err.msg, "'fold-constant'"));
  /* The message lists every pass of the pipeline, in order. */
  for (int i = 0; i < pass_count; i++) assert_non_null(strstr(err.msg, pass_table[i].name));
  assert_non_null(strstr(err.msg, "infer-shapes, fold-constants, simplify"));
  PipelineOptions o2 = {.stop_after = "nope"};
  assert_int_equal(pass_check_options(&o2, &err), ST_INVALID);
  PipelineOptions ok = {.print_after = after, .num_print_after = 1, .stop_after = "cse"};
  assert_int_equal(pass_check_options(&ok, &err), ST_OK);
  assert_null(pass_find("fold-constant"));
  assert_non_null(pass_find("simplify"));
}

typedef struct HookLog {
  char names[16][32];
  int count;
} HookLog;

static Status record_pass(void *ctx, const char *pass, Graph *g, Error *err) {
  (void)g;
  (void)err;
  HookLog *h = ctx;
  if (h->count < 16) snprintf(h->names[h->count++], 32, "%s", pass);
  return ST_OK;
}

static void runs_pipeline_with_observation(void **state) {
  (void)state;
  Graph *g = small_graph();
  char *dump = NULL, *log = NULL;
  size_t dn = 0, ln = 0;
  FILE *df = open_memstream(&dump, &dn), *lf = open_memstream(&log, &ln);
  const char *before[] = {"infer-shapes"}, *after[] = {"simplify"};
  HookLog h = {0};
  PipelineOptions o = {.print_before = before, .num_print_before = 1, .print_after = after,
                       .num_print_after = 1, .time_passes = true, .verify_each = true,
                       .dump = df, .log = lf, .hook = record_pass, .hook_ctx = &h};
  Error err = {0};
  if (pass_run_pipeline(g, &o, &err) != ST_OK) fail_msg("%s", err.msg);
  fclose(df);
  fclose(lf);
  /* Hook saw every pass in pipeline.def order. */
  assert_int_equal(h.count, pass_count);
  for (int i = 0; i < pass_count; i++) assert_string_equal(h.names[i], pass_table[i].name);
  assert_string_equal(h.names[0], "infer-shapes");
  assert_string_equal(h.names[pass_count - 1], "dce");
  /* Exactly the two requested dumps, in order. */
  const char *b = strstr(dump, "; IR before infer-shapes\ngraph @small(");
  const char *a = strstr(dump, "; IR after simplify\ngraph @small(");
  assert_non_null(b);
  assert_non_null(a);
  assert_true(b < a);
  assert_null(strstr(dump, "; IR after dce"));
  /* After simplify: Identity gone, Reshape of x to [6]. */
  assert_non_null(strstr(a, "Reshape %x, %c0 : f32[6]"));
  assert_null(strstr(a, "Identity"));
  /* Time table: a header, one row per pass with node counts, a total. */
  assert_non_null(strstr(log, "pass"));
  assert_non_null(strstr(log, "simplify"));
  assert_non_null(strstr(log, "4 -> 3")); /* simplify drops the Identity */
  assert_non_null(strstr(log, "3 -> 2")); /* dce drops the unused Neg */
  assert_non_null(strstr(log, "total"));
  /* Final graph: Reshape and Relu. */
  assert_int_equal(g->num_nodes, 2);
  free(dump);
  free(log);
  ir_graph_free(g);
}

static void stop_after_and_print_all(void **state) {
  (void)state;
  Graph *g = small_graph();
  char *dump = NULL;
  size_t dn = 0;
  FILE *df = open_memstream(&dump, &dn);
  PipelineOptions o = {.print_after_all = true, .stop_after = "fold-constants", .dump = df,
                       .dot = true};
  Error err = {0};
  if (pass_run_pipeline(g, &o, &err) != ST_OK) fail_msg("%s", err.msg);
  fclose(df);
  assert_non_null(strstr(dump, "// IR after infer-shapes\ndigraph \"small\" {"));
  assert_non_null(strstr(dump, "// IR after fold-constants\ndigraph"));
  assert_null(strstr(dump, "simplify"));
  /* The Identity survives: simplify did not run. */
  int ids = 0;
  for (int i = 0; i < g->num_nodes; i++) ids += g->nodes[i]->op == OP_IDENTITY;
  assert_int_equal(ids, 1);
  free(dump);
  ir_graph_free(g);
}

static Status failing_hook(void *ctx, const char *pass, Graph *g, Error *err) {
  (void)ctx;
  (void)g;
  if (strcmp(pass, "simplify") == 0) return err_set(err, ST_MISMATCH, "hook says no");
  return ST_OK;
}

static void hook_error_stops_pipeline(void **state) {
  (void)state;
  Graph *g = small_graph();
  PipelineOptions o = {.hook = failing_hook};
  Error err = {0};
  assert_int_equal(pass_run_pipeline(g, &o, &err), ST_MISMATCH);
  assert_string_equal(err.msg, "hook says no");
  /* dce did not run: the unused Neg is still there. */
  int negs = 0;
  for (int i = 0; i < g->num_nodes; i++) negs += g->nodes[i]->op == OP_NEG;
  assert_int_equal(negs, 1);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rejects_unknown_pass_names),
      cmocka_unit_test(runs_pipeline_with_observation),
      cmocka_unit_test(stop_after_and_print_all),
      cmocka_unit_test(hook_error_stops_pipeline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
