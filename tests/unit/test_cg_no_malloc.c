/*
 * Compiled code never allocates: reference kernels get their scratch memory
 * from the workspace (ops.h scratch contract, codegen/memplan.c).
 *   - ONNX node tests of every op whose kernel used to malloc are compiled
 *     with reference kernels only (so the scratch path really runs), the .o
 *     must import none of malloc/calloc/realloc/free/posix_memalign/
 *     aligned_alloc (nm -u), and its outputs must match ONNX's expected
 *     outputs (output_N.pb);
 *   - the memory plan gives each such node a scratch region inside the
 *     workspace that overlaps no buffer live during that node;
 *   - float32 Conv with channel tiling, and transposed Gemm, compiled the
 *     same way, agree with the double-precision float64 path of the
 *     evaluator (a different algorithm) on random odd shapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/memplan.h"
#include "frontend/onnx_load.h"
#include "frontend/tensor_pb.h"
#include "ir/graph.h"
#include "ops/eval.h"
#include "ops/ops.h"
#include "passes/pass.h"
#include "tests/support/cg_harness.h"

#define NODE_TESTS ONNXC_SHARED_DIR "/onnx-node-tests"
#define MAX_IO 16

static const char *const forbidden[] = {"malloc", "calloc", "realloc", "free",
                                        "posix_memalign", "aligned_alloc", "memalign",
                                        "valloc", "pvalloc"};

/* Node tests whose kernels used to allocate, and the op that must get a
 * scratch region in the plan (OP_COUNT: the kernel now needs none). */
typedef struct NodeCase {
  const char *name;
  OpKind scratch_op;
} NodeCase;

static const NodeCase node_cases[] = {
    {"test_resize_upsample_scales_linear", OP_RESIZE},
    {"test_resize_downsample_scales_cubic_antialias", OP_RESIZE},
    {"test_convtranspose_3d", OP_CONV_TRANSPOSE},
    {"test_convtranspose_group_2", OP_CONV_TRANSPOSE},
    {"test_convtranspose_output_shape", OP_CONV_TRANSPOSE},
    {"test_col2im_pads", OP_COL2IM},
    {"test_maxpool_with_argmax_2d_precomputed_strides", OP_MAX_POOL},
    {"test_averagepool_2d_pads", OP_AVERAGE_POOL},
    {"test_globalaveragepool", OP_COUNT},
    {"test_conv_with_strides_padding", OP_COUNT}, /* Conv or FusedConv: checked below */
    {"test_einsum_batch_matmul", OP_EINSUM},
    {"test_einsum_batch_diagonal", OP_EINSUM},
    {"test_einsum_sum", OP_EINSUM},
    {"test_top_k_smallest", OP_TOP_K},
    {"test_reduce_mean_keepdims_random", OP_COUNT},
    {"test_reduce_l2_keep_dims_random", OP_COUNT},
    {"test_reduce_max_keepdims_random", OP_COUNT},
    {"test_gemm_all_attributes", OP_GEMM},
    {"test_gemm_transposeA", OP_GEMM},
};

/* nm -u of obj: fails on any allocator import. */
static void assert_no_allocator(const char *obj, const char *what) {
  char cmd[512], line[512];
  snprintf(cmd, sizeof cmd, "nm -u '%s'", obj);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  int lines = 0;
  while (fgets(line, sizeof line, p)) {
    char kind[64], sym[256];
    if (sscanf(line, "%63s %255s", kind, sym) != 2) continue;
    lines++;
    char *ver = strchr(sym, '@');
    if (ver) *ver = '\0';
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++)
      if (strcmp(sym, forbidden[i]) == 0) {
        pclose(p);
        fail_msg("%s: the compiled model imports '%s'", what, sym);
      }
  }
  assert_int_equal(pclose(p), 0);
  (void)lines;
}

/* Every node with scratch has a region inside the workspace that overlaps
 * no workspace buffer live while the node runs.  Returns how many nodes of
 * op `op` got scratch. */
static int check_plan(Graph *g, OpKind op, const char *what) {
  Error err = {0};
  assert_int_equal(ir_compact(g, &err), ST_OK);
  MemPlan plan;
  if (memplan_build(g, true, &plan, &err) != ST_OK) fail_msg("%s: memplan: %s", what, err.msg);
  int with_scratch = 0;
  for (int k = 0; k < g->num_nodes; k++) {
    size_t sb = plan.scratch_bytes[k], so = plan.scratch_offset[k];
    assert_int_equal(sb, ops_scratch_bytes(g->nodes[k]));
    if (!sb) continue;
    if (g->nodes[k]->op == op) with_scratch++;
    assert_int_equal(so % MEMPLAN_ALIGN, 0);
    if (so + sb > plan.workspace_size)
      fail_msg("%s: scratch of node %d ends at %zu, past the workspace (%zu)", what, k, so + sb,
               plan.workspace_size);
    for (int i = 0; i < plan.num_values; i++) {
      const BufPlace *b = &plan.place[i];
      if (b->kind != BUF_WORKSPACE || b->alias_of >= 0 || b->first < 0) continue;
      if (b->first > k || b->last < k) continue;
      if (b->offset < so + sb && so < b->offset + (b->bytes ? b->bytes : 1))
        fail_msg("%s: scratch of node %d [%zu, %zu) overlaps live value %d [%zu, %zu)", what, k,
                 so, so + sb, i, b->offset, b->offset + b->bytes);
    }
  }
  assert_true(plan.lower_bound <= plan.workspace_size);
  memplan_free(&plan);
  return with_scratch;
}

static bool close_enough(DType t, const void *got, const void *want, size_t n, size_t *bad) {
  for (size_t i = 0; i < n; i++) {
    double a = dtype_load_f64(t, got, i), b = dtype_load_f64(t, want, i);
    if (dtype_is_float(t) ? !(fabs(a - b) <= 1e-4 + 1e-3 * fabs(b)) && !(isnan(a) && isnan(b))
                          : a != b) {
      *bad = i;
      return false;
    }
  }
  return true;
}

/* Loads a node test; binds integer and small 1-D inputs (Resize's scales,
 * TopK's k, Reduce's axes) as constants, as an AOT user would. */
static Graph *load_node_test(const char *name, TensorFile *in, int *num_in, int *feed) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/model.onnx", NODE_TESTS, name);
  Graph *g = NULL;
  Error err = {0};
  LoadOptions lo = {0};
  if (fe_load_file(path, &lo, &g, &err) != ST_OK) fail_msg("%s: load: %s", name, err.msg);
  int n = g->num_inputs, kept = 0;
  assert_true(n <= MAX_IO);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_%d.pb", NODE_TESTS, name, i);
    if (fe_read_tensor_pb(path, &in[i], &err) != ST_OK) fail_msg("%s: %s", path, err.msg);
  }
  for (int i = 0; i < n; i++) {
    Value *v = g->inputs[i];
    bool freeze = dtype_is_signed_int(v->dtype) || dtype_is_unsigned_int(v->dtype) ||
                  (v->rank <= 1 && in[i].rank <= 1 && in[i].dims[0] <= 2 * IR_MAX_RANK &&
                   v->dtype == in[i].dtype);
    if (freeze) {
      if (!ir_value_is_static(v))
        assert_int_equal(ir_value_set_type(v, in[i].dtype, in[i].rank, in[i].dims, &err), ST_OK);
      assert_int_equal(ir_value_set_data(g, v, in[i].data, &err), ST_OK);
      v->is_input = false;
    } else {
      feed[kept] = i;
      g->inputs[kept++] = v;
    }
  }
  g->num_inputs = kept;
  *num_in = n;
  PipelineOptions po = {.verify_each = true};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) fail_msg("%s: pipeline: %s", name, err.msg);
  return g;
}

static void run_node_case(const NodeCase *c) {
  TensorFile in[MAX_IO] = {0}, want[MAX_IO] = {0};
  int num_in = 0, feed[MAX_IO];
  Graph *g = load_node_test(c->name, in, &num_in, feed);
  int got_scratch = check_plan(g, c->scratch_op, c->name);
  if (c->scratch_op != OP_COUNT && got_scratch == 0)
    fail_msg("%s: no %s node got a scratch region", c->name, op_name(c->scratch_op));
  Error err = {0};
  CgModule m;
  if (cgh_compile_ex(g, 1, true, &m, &err) != ST_OK) fail_msg("%s: compile: %s", c->name, err.msg);
  char obj[320];
  snprintf(obj, sizeof obj, "%s/model.o", m.dir);
  assert_no_allocator(obj, c->name);
  const void *inputs[MAX_IO];
  for (int j = 0; j < g->num_inputs; j++) inputs[j] = in[feed[j]].data;
  void **outs = NULL;
  if (cgh_run(&m, g, inputs, &outs, &err) != ST_OK) fail_msg("%s: run: %s", c->name, err.msg);
  for (int i = 0; i < g->num_outputs; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/test_data_set_0/output_%d.pb", NODE_TESTS, c->name, i);
    if (fe_read_tensor_pb(path, &want[i], &err) != ST_OK) fail_msg("%s: %s", path, err.msg);
    const Value *v = g->outputs[i];
    assert_int_equal(want[i].nbytes, ir_value_nbytes(v));
    size_t bad = 0;
    if (!close_enough(v->dtype, outs[i], want[i].data, (size_t)ir_value_numel(v), &bad))
      fail_msg("%s: output %d differs from ONNX's at flat index %zu: got %.9g, expected %.9g",
               c->name, i, bad, dtype_load_f64(v->dtype, outs[i], bad),
               dtype_load_f64(v->dtype, want[i].data, bad));
  }
  print_message("  %-50s ok\n", c->name);
  cgh_free_buffers(outs, g->num_outputs);
  for (int i = 0; i < MAX_IO; i++) {
    fe_tensor_file_free(&in[i]);
    fe_tensor_file_free(&want[i]);
  }
  cgh_unload(&m);
  ir_graph_free(g);
}

static void test_node_tests(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof node_cases / sizeof *node_cases; i++) run_node_case(&node_cases[i]);
}

/* ---- random shapes against the float64 path --------------------------------- */

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

static Value *make_const(Graph *g, DType t, int rank, const int64_t *dims, const double *vals) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  unsigned char *buf = malloc((size_t)(n ? n : 1) * dtype_size(t));
  assert_non_null(buf);
  for (int64_t i = 0; i < n; i++) dtype_store_f64(t, buf, (size_t)i, vals[i], false);
  Value *v = ir_const_new(g, "c", t, rank, dims, buf);
  free(buf);
  assert_non_null(v);
  return v;
}

/* One node with inputs x (graph input) and constants, in dtype t; random
 * values are shared through vals so both dtypes see the same numbers. */
typedef struct OneNode {
  Graph *g;
  Node *n;
} OneNode;

static OneNode one_node(OpKind op, DType t, int nin, const int *ranks, int64_t dims[][8],
                        double *const *vals) {
  Error err = {0};
  Graph *g = ir_graph_new("t", "t");
  assert_non_null(g);
  Node *n = ir_node_new(g, op, "n", nin, 1);
  assert_non_null(n);
  n->opset = g->opset;
  Value *x = ir_value_new(g, "x");
  assert_int_equal(ir_value_set_type(x, t, ranks[0], dims[0], &err), ST_OK);
  assert_int_equal(ir_graph_add_input(g, x, &err), ST_OK);
  n->inputs[0] = x;
  for (int i = 1; i < nin; i++) n->inputs[i] = make_const(g, t, ranks[i], dims[i], vals[i]);
  Value *y = ir_value_new(g, "y");
  ir_node_set_output(n, 0, y);
  return (OneNode){g, n};
}

static void finish(OneNode o) {
  Error err = {0};
  if (ops_infer_node(o.g, o.n, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(ir_graph_add_output(o.g, o.n->outputs[0], &err), ST_OK);
}

/* Compiles f32 (reference kernels only), evaluates f64, compares. */
static void compare_f32_f64(OneNode a, OneNode b, const double *x, bool need_scratch,
                            const char *what) {
  Error err = {0};
  int64_t nx = ir_value_numel(a.g->inputs[0]);
  float *x32 = malloc((size_t)(nx ? nx : 1) * sizeof *x32);
  assert_non_null(x32);
  for (int64_t i = 0; i < nx; i++) x32[i] = (float)x[i];
  const void *in32[1] = {x32}, *in64[1] = {x};
  if (need_scratch != (ops_scratch_bytes(a.n) > 0))
    fail_msg("%s: the kernel should %suse scratch", what, need_scratch ? "" : "not ");
  check_plan(a.g, a.n->op, what);
  CgModule m;
  if (cgh_compile_ex(a.g, 1, true, &m, &err) != ST_OK) fail_msg("%s: %s", what, err.msg);
  char obj[320];
  snprintf(obj, sizeof obj, "%s/model.o", m.dir);
  assert_no_allocator(obj, what);
  void **outs = NULL;
  if (cgh_run(&m, a.g, in32, &outs, &err) != ST_OK) fail_msg("%s: %s", what, err.msg);
  int64_t ny = ir_value_numel(b.g->outputs[0]);
  double *want = malloc((size_t)(ny ? ny : 1) * sizeof *want);
  assert_non_null(want);
  void *wp[1] = {want};
  if (eval_graph(b.g, in64, wp, &err) != ST_OK) fail_msg("%s: %s", what, err.msg);
  const float *got = outs[0];
  for (int64_t i = 0; i < ny; i++)
    if (!(fabs(got[i] - want[i]) <= 1e-4 + 1e-4 * fabs(want[i])))
      fail_msg("%s: element %lld: got %.9g, float64 path %.9g", what, (long long)i, got[i],
               want[i]);
  cgh_free_buffers(outs, 1);
  cgh_unload(&m);
  free(want);
  free(x32);
  ir_graph_free(a.g);
  ir_graph_free(b.g);
}

static double *random_vals(int64_t n) {
  double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
  assert_non_null(v);
  for (int64_t i = 0; i < n; i++) v[i] = (double)(rnd() % 2001) / 1000.0 - 1.0;
  return v;
}

/* Conv shapes that make the float32 kernel tile the patch matrix in every
 * way it can, and one whose output rows exceed the tile budget (the direct
 * loop then runs, without scratch). */
static void test_conv_tiles(void **state) {
  (void)state;
  static const int64_t shapes[][8] = {
      /* c_in, h, w, c_out, k, group, stride, uses scratch */
      {200, 9, 40, 5, 3, 1, 1, 1},  /* patch rows split, output rows batched */
      {37, 13, 11, 6, 3, 1, 2, 1},  /* whole patch matrix, several output rows */
      {64, 5, 300, 3, 5, 1, 1, 1},  /* patch rows split, one output row */
      {12, 17, 19, 12, 3, 3, 1, 1}, /* groups */
      {3, 1, 31, 7, 1, 1, 2, 1},    /* 1x1 kernel, strided */
      {2, 1, 4500, 3, 3, 1, 1, 0},  /* an output row longer than a tile */
  };
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    const int64_t *sh = shapes[s];
    int64_t c = sh[0], h = sh[1], w = sh[2], m = sh[3], k = sh[4], grp = sh[5], st = sh[6];
    int64_t k_h = h < k ? 1 : k;
    int64_t dims[3][8] = {{1, c, h, w}, {m, c / grp, k_h, k}, {m}};
    int ranks[3] = {4, 4, 1};
    double *wv = random_vals(m * (c / grp) * k_h * k), *bv = random_vals(m);
    double *x = random_vals(c * h * w);
    double *vals[3] = {NULL, wv, bv};
    OneNode o[2];
    for (int t = 0; t < 2; t++) {
      o[t] = one_node(OP_CONV, t ? DT_FLOAT64 : DT_FLOAT32, 3, ranks, dims, vals);
      Error err = {0};
      int64_t strides[2] = {st, st}, pads[4] = {k_h / 2, k / 2, k_h / 2, k / 2};
      assert_int_equal(ir_node_set_attr_ints(o[t].g, o[t].n, "strides", strides, 2, &err), ST_OK);
      assert_int_equal(ir_node_set_attr_ints(o[t].g, o[t].n, "pads", pads, 4, &err), ST_OK);
      assert_int_equal(ir_node_set_attr_int(o[t].g, o[t].n, "group", grp, &err), ST_OK);
      finish(o[t]);
    }
    char what[64];
    snprintf(what, sizeof what, "conv shape %zu", s);
    compare_f32_f64(o[0], o[1], x, sh[7] != 0, what);
    free(wv);
    free(bv);
    free(x);
  }
}

/* Gemm with transA / transB over odd sizes (blocks of 64 plus remainders). */
static void test_gemm_transposed(void **state) {
  (void)state;
  static const int64_t shapes[][3] = {{1, 70, 130}, {67, 1, 65}, {5, 129, 3}};
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (int tr = 1; tr < 4; tr++) {
      int64_t mm = shapes[s][0], kk = shapes[s][1], nn = shapes[s][2];
      bool ta = tr & 1, tb = tr & 2;
      int64_t dims[3][8] = {{ta ? kk : mm, ta ? mm : kk}, {tb ? nn : kk, tb ? kk : nn}, {nn}};
      int ranks[3] = {2, 2, 1};
      double *bv = random_vals(kk * nn), *cv = random_vals(nn), *x = random_vals(mm * kk);
      double *vals[3] = {NULL, bv, cv};
      OneNode o[2];
      for (int t = 0; t < 2; t++) {
        Error err = {0};
        o[t] = one_node(OP_GEMM, t ? DT_FLOAT64 : DT_FLOAT32, 3, ranks, dims, vals);
        assert_int_equal(ir_node_set_attr_int(o[t].g, o[t].n, "transA", ta, &err), ST_OK);
        assert_int_equal(ir_node_set_attr_int(o[t].g, o[t].n, "transB", tb, &err), ST_OK);
        assert_int_equal(ir_node_set_attr_float(o[t].g, o[t].n, "alpha", 0.5f, &err), ST_OK);
        finish(o[t]);
      }
      char what[64];
      snprintf(what, sizeof what, "gemm %zu trans %d", s, tr);
      compare_f32_f64(o[0], o[1], x, true, what);
      free(bv);
      free(cv);
      free(x);
    }
}

/* A kernel asking for more scratch than its size function promised gets a
 * clean error, not an overrun. */
static void test_scratch_bump(void **state) {
  (void)state;
  _Alignas(64) unsigned char buf[256];
  void *out[2] = {NULL, buf};
  OpsScratch s = ops_scratch_begin(out, 1, sizeof buf);
  void *p = NULL, *q = NULL;
  Error err = {0};
  assert_int_equal(ops_scratch_take(&s, 3, sizeof(double), &p, &err), ST_OK);
  assert_ptr_equal(p, buf);
  assert_int_equal(ops_scratch_take(&s, 1, 1, &q, &err), ST_OK);
  assert_ptr_equal(q, buf + 64); /* pieces are 64-byte aligned */
  assert_int_equal(ops_scratch_take(&s, 129, 1, &q, &err), ST_INTERNAL);
  assert_null(q);
  assert_int_equal(ops_scratch_take(&s, INT64_MAX, 8, &q, &err), ST_INTERNAL);
  assert_int_equal(ops_scratch_take(&s, -1, 8, &q, &err), ST_INTERNAL);
  assert_int_equal(ops_scratch_take(&s, 128, 1, &q, &err), ST_OK);
  assert_ptr_equal(q, buf + 128);
  /* No scratch passed at all. */
  OpsScratch none = ops_scratch_begin(out, 0, 0);
  assert_int_equal(ops_scratch_take(&none, 1, 4, &q, &err), ST_INTERNAL);
  assert_int_equal(ops_scratch_add(0, 1, 1), 64);
  assert_int_equal(ops_scratch_add(64, 65, 1), 192);
  assert_int_equal(ops_scratch_add(0, INT64_MAX, 2), SIZE_MAX);
  assert_int_equal(ops_scratch_add(SIZE_MAX, 0, 1), SIZE_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scratch_bump),
      cmocka_unit_test(test_node_tests),
      cmocka_unit_test(test_conv_tiles),
      cmocka_unit_test(test_gemm_transposed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
