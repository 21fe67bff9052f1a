/*
 * One conformance test: load <dir>/model.onnx with the frontend, run the
 * default pass pipeline (verifier after every pass), feed
 * test_data_set_0/input_i.pb to graph input i BY POSITION (old exports list
 * their initializers as graph inputs too; the frontend turns those into
 * constants, so only the real inputs remain), evaluate with the reference
 * evaluator and compare every output with output_i.pb.
 *
 * Skips are only for the frontend's deliberate refusals (string, sequence
 * and optional types); every other problem is a failure with its reason.
 */
#include "conformance.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "frontend/onnx_load.h"
#include "frontend/tensor_pb.h"
#include "ir/graph.h"
#include "ops/eval.h"
#include "passes/pass.h"

#define CONF_MAX_TENSORS 64 /* input or output files of one test */

/* The reasons a test may be skipped instead of failed. */
static const char *const skip_phrases[] = {
    "element type string",
    "sequence types are not supported",
    "optional types are not supported",
};

typedef struct TestCtx {
  const char *dir;
  bool verbose;
  bool freeze; /* retry with shape inputs bound as constants */
  int compiled_opt; /* -1: reference evaluator; 0..3: compiled at that -O */
  int num_in, num_out;
  TensorFile in[CONF_MAX_TENSORS];
  TensorFile want[CONF_MAX_TENSORS];
  void *got[CONF_MAX_TENSORS];
  int feed[CONF_MAX_TENSORS]; /* graph input j takes input_<feed[j]>.pb */
  int num_frozen;             /* input files bound as constants instead */
  char frozen_list[64];
  Graph *g;
} TestCtx;

static bool file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Result lines are one line each: newlines and tabs in messages become spaces. */
static void set_reason(TestResult *r, ResultKind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_reason(TestResult *r, ResultKind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->reason, sizeof r->reason, fmt, ap);
  va_end(ap);
  for (char *p = r->reason; *p; p++)
    if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
  r->kind = kind;
}

/* A frontend refusal we deliberately do not support becomes SKIP, the rest FAIL. */
static void set_error(TestResult *r, Status st, const Error *err, const char *what) {
  if (st == ST_UNSUPPORTED)
    for (size_t i = 0; i < sizeof skip_phrases / sizeof *skip_phrases; i++)
      if (strstr(err->msg, skip_phrases[i])) {
        set_reason(r, RESULT_SKIP, "%s", err->msg);
        return;
      }
  set_reason(r, RESULT_FAIL, "%s: %s (%s)", what, err->msg, status_name(st));
}

static void type_str(DType dt, int rank, const int64_t *dims, char *buf, size_t size) {
  size_t off = (size_t)snprintf(buf, size, "%s[", dtype_short_name(dt));
  for (int i = 0; i < rank && off < size; i++)
    off += (size_t)snprintf(buf + off, size - off, "%s%lld", i ? "," : "", (long long)dims[i]);
  if (off < size) snprintf(buf + off, size - off, "]");
}

static bool same_type(const Value *v, const TensorFile *t) {
  if (v->dtype != t->dtype || v->rank != t->rank) return false;
  for (int i = 0; i < t->rank; i++)
    if (v->dims[i] != t->dims[i]) return false;
  return true;
}

/* Counts <prefix>0.pb, <prefix>1.pb, ... in the data folder. */
static int count_files(const char *data_dir, const char *prefix) {
  char path[4096];
  int n = 0;
  for (;;) {
    snprintf(path, sizeof path, "%s/%s%d.pb", data_dir, prefix, n);
    if (!file_exists(path)) return n;
    n++;
  }
}

static bool read_tensors(TestCtx *c, const char *data_dir, const char *prefix, TensorFile *out,
                         int count, TestResult *r) {
  for (int i = 0; i < count; i++) {
    char path[4096], what[64];
    Error err = {0};
    snprintf(path, sizeof path, "%s/%s%d.pb", data_dir, prefix, i);
    Status st = fe_read_tensor_pb(path, &out[i], &err);
    if (st != ST_OK) {
      snprintf(what, sizeof what, "%s%d.pb", prefix, i);
      set_error(r, st, &err, what);
      return false;
    }
  }
  (void)c;
  return true;
}

/* Loads the model; with_shapes passes the input files' shapes as
 * --input-shape values, as a user would for dynamic dims. */
static bool load_model(TestCtx *c, bool with_shapes, TestResult *r) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.onnx", c->dir);
  InputShape shapes[CONF_MAX_TENSORS];
  LoadOptions opt = {0};
  if (with_shapes) {
    /* The names live in the old graph's arena: load the new graph first. */
    for (int i = 0; i < c->num_in; i++) {
      shapes[i].name = c->g->inputs[i]->name;
      shapes[i].rank = c->in[i].rank;
      memcpy(shapes[i].dims, c->in[i].dims, sizeof shapes[i].dims);
    }
    opt = (LoadOptions){.input_shapes = shapes, .num_input_shapes = c->num_in};
  }
  Graph *g = NULL;
  Error err = {0};
  Status st = fe_load_file(path, &opt, &g, &err);
  ir_graph_free(c->g);
  c->g = g;
  c->num_frozen = 0;
  for (int i = 0; i < CONF_MAX_TENSORS; i++) c->feed[i] = i;
  if (st != ST_OK) {
    set_error(r, st, &err, with_shapes ? "load with the input files' shapes" : "load");
    return false;
  }
  return true;
}

/* An AOT compiler needs shape-determining inputs (Pad's pads, Expand's shape,
 * Range's limits, ...) at compile time, but some node tests pass them as
 * runtime data.  After the pipeline has refused such a graph, the runner
 * binds every integer input and every small 1-D or scalar input (Resize's
 * scales and roi) to its test data as a constant, as a user freezing those
 * inputs would, and tries once more; the PASS line says so.  The frozen part
 * is then computed by fold-constants with the same kernels. */
static bool freeze_shape_inputs(TestCtx *c, TestResult *r) {
  Graph *g = c->g;
  int kept = 0;
  size_t off = 0;
  for (int i = 0; i < g->num_inputs; i++) {
    Value *v = g->inputs[i];
    bool freeze = i < c->num_in && same_type(v, &c->in[i]) &&
                  c->in[i].nbytes == ir_value_nbytes(v) &&
                  (dtype_is_signed_int(v->dtype) || dtype_is_unsigned_int(v->dtype) ||
                   (v->rank <= 1 && ir_value_numel(v) <= 2 * IR_MAX_RANK));
    if (freeze) {
      Error err = {0};
      if (ir_value_set_data(g, v, c->in[i].data, &err) != ST_OK) {
        set_error(r, err.status, &err, "binding an input as a constant");
        return false;
      }
      v->is_input = false;
      c->num_frozen++;
      off += (size_t)snprintf(c->frozen_list + off, off < sizeof c->frozen_list ? sizeof c->frozen_list - off : 0,
                              "%s%d", off ? "," : "", i);
      if (off >= sizeof c->frozen_list) off = sizeof c->frozen_list - 1;
    } else {
      c->feed[kept] = i;
      g->inputs[kept++] = v;
    }
  }
  g->num_inputs = kept;
  return c->num_frozen > 0;
}

static bool inputs_static(const Graph *g) {
  for (int i = 0; i < g->num_inputs; i++)
    if (!ir_value_is_static(g->inputs[i])) return false;
  return true;
}

static bool run_pipeline(TestCtx *c, TestResult *r) {
  PipelineOptions opt = {.verify_each = true};
  Error err = {0};
  Status st = pass_run_pipeline(c->g, &opt, &err);
  if (st != ST_OK) {
    set_error(r, st, &err, "pipeline");
    return false;
  }
  return true;
}

static bool check_io_types(TestCtx *c, TestResult *r) {
  Graph *g = c->g;
  char a[160], b[160];
  if (c->num_in != g->num_inputs + c->num_frozen) {
    set_reason(r, RESULT_FAIL, "the test supplies %d input file(s) but the graph has %d runtime input(s)",
               c->num_in, g->num_inputs + c->num_frozen);
    return false;
  }
  for (int j = 0; j < g->num_inputs; j++) {
    const TensorFile *t = &c->in[c->feed[j]];
    if (!same_type(g->inputs[j], t)) {
      ir_type_str(g->inputs[j], a, sizeof a);
      type_str(t->dtype, t->rank, t->dims, b, sizeof b);
      set_reason(r, RESULT_FAIL, "input %d ('%s') is %s in the graph but input_%d.pb holds %s",
                 c->feed[j], g->inputs[j]->name, a, c->feed[j], b);
      return false;
    }
    if (t->nbytes != ir_value_nbytes(g->inputs[j])) {
      set_reason(r, RESULT_FAIL, "input_%d.pb holds %zu bytes, expected %zu", c->feed[j],
                 t->nbytes, ir_value_nbytes(g->inputs[j]));
      return false;
    }
  }
  if (c->num_out != g->num_outputs) {
    set_reason(r, RESULT_FAIL, "the test has %d output file(s) but the graph has %d output(s)",
               c->num_out, g->num_outputs);
    return false;
  }
  for (int i = 0; i < c->num_out; i++)
    if (!same_type(g->outputs[i], &c->want[i])) {
      ir_type_str(g->outputs[i], a, sizeof a);
      type_str(c->want[i].dtype, c->want[i].rank, c->want[i].dims, b, sizeof b);
      set_reason(r, RESULT_FAIL, "output %d ('%s') is %s but expected %s", i, g->outputs[i]->name,
                 a, b);
      return false;
    }
  for (int i = 0; i < c->num_out; i++)
    if (c->want[i].nbytes != ir_value_nbytes(g->outputs[i])) {
      set_reason(r, RESULT_FAIL, "output_%d.pb holds %zu bytes, expected %zu", i,
                 c->want[i].nbytes, ir_value_nbytes(g->outputs[i]));
      return false;
    }
  return true;
}

static bool evaluate(TestCtx *c, TestResult *r) {
  Graph *g = c->g;
  const void *inputs[CONF_MAX_TENSORS];
  for (int j = 0; j < g->num_inputs; j++) inputs[j] = c->in[c->feed[j]].data;
  for (int i = 0; i < c->num_out; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    c->got[i] = calloc(1, nb ? nb : 1);
    if (!c->got[i]) {
      set_reason(r, RESULT_FAIL, "out of memory for output %d (%zu bytes)", i, nb);
      return false;
    }
  }
  if (c->compiled_opt >= 0) {
    char why[sizeof r->reason];
    if (!conf_compiled_run(g, c->compiled_opt, inputs, c->got, r, why, sizeof why)) {
      set_reason(r, RESULT_FAIL, "%s", why);
      return false;
    }
    return true;
  }
  Error err = {0};
  double t0 = now_seconds();
  Status st = eval_graph(g, inputs, c->got, &err);
  r->eval_seconds = now_seconds() - t0;
  if (st != ST_OK) {
    set_error(r, st, &err, "eval");
    return false;
  }
  return true;
}

static bool compare_outputs(TestCtx *c, TestResult *r) {
  bool all_ok = true;
  r->maxerr = 0;
  for (int i = 0; i < c->num_out; i++) {
    const Value *v = c->g->outputs[i];
    size_t numel = (size_t)ir_value_numel(v);
    CompareStats st;
    bool ok = conf_compare(v->dtype, c->got[i], c->want[i].data, numel, CONF_RTOL, CONF_ATOL, &st);
    if (st.max_abs > r->maxerr) r->maxerr = st.max_abs;
    if (c->verbose)
      fprintf(stderr, "  output %d '%s': maxerr=%.3g, %zu of %zu elements outside tolerance\n", i,
              v->name, st.max_abs, st.num_bad, numel);
    if (!ok && all_ok) {
      set_reason(r, RESULT_FAIL,
                 "output %d ('%s'): %zu of %zu elements differ; first at flat index %zu: got %.9g, "
                 "expected %.9g; maxerr=%.3g",
                 i, v->name, st.num_bad, numel, st.first_bad, st.got, st.want, st.max_abs);
      all_ok = false;
    }
  }
  return all_ok;
}

static void run(TestCtx *c, TestResult *r) {
  char data_dir[4096];
  snprintf(data_dir, sizeof data_dir, "%s/test_data_set_0", c->dir);
  c->num_in = count_files(data_dir, "input_");
  c->num_out = count_files(data_dir, "output_");
  if (c->num_out == 0) {
    set_reason(r, RESULT_FAIL, "%s has no output_0.pb", data_dir);
    return;
  }
  if (c->num_in > CONF_MAX_TENSORS || c->num_out > CONF_MAX_TENSORS) {
    set_reason(r, RESULT_FAIL, "more than %d input or output files", CONF_MAX_TENSORS);
    return;
  }
  if (!load_model(c, false, r)) return;
  if (!read_tensors(c, data_dir, "input_", c->in, c->num_in, r)) return;
  if (!read_tensors(c, data_dir, "output_", c->want, c->num_out, r)) return;
  bool with_shapes = !inputs_static(c->g) && c->num_in == c->g->num_inputs;
  if (with_shapes && !load_model(c, true, r)) return;
  if (!run_pipeline(c, r)) {
    bool shape_input = strstr(r->reason, "must be a constant") != NULL;
    if (!c->freeze || !shape_input || r->kind != RESULT_FAIL) return;
    TestResult first = *r;
    if (!load_model(c, with_shapes, r)) return;
    if (!freeze_shape_inputs(c, r)) {
      if (r->kind != RESULT_FAIL || !r->reason[0]) *r = first;
      return;
    }
    if (!run_pipeline(c, r)) return;
  }
  if (!check_io_types(c, r)) return;
  if (!evaluate(c, r)) return;
  if (!compare_outputs(c, r)) return;
  r->kind = RESULT_PASS;
  r->reason[0] = '\0';
  if (c->num_frozen)
    snprintf(r->reason, sizeof r->reason, "[input(s) %s bound as constants]", c->frozen_list);
}

void conf_run_test(const char *dir, bool verbose, bool freeze, int compiled_opt, TestResult *r) {
  *r = (TestResult){.kind = RESULT_FAIL};
  TestCtx *c = calloc(1, sizeof *c);
  if (!c) {
    set_reason(r, RESULT_FAIL, "out of memory");
    return;
  }
  c->dir = dir;
  c->verbose = verbose;
  c->freeze = freeze;
  c->compiled_opt = compiled_opt;
  run(c, r);
  for (int i = 0; i < CONF_MAX_TENSORS; i++) {
    fe_tensor_file_free(&c->in[i]);
    fe_tensor_file_free(&c->want[i]);
    free(c->got[i]);
  }
  ir_graph_free(c->g);
  free(c);
}
