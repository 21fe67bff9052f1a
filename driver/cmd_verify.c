/*
 * onnxc verify MODEL: checks that the pass pipeline preserves the model's
 * results.  The reference is the graph after infer-shapes alone, evaluated on
 * the given (--input) or seeded random inputs; the optimized graph is the
 * graph after the whole pipeline, or with --each after EVERY pass (through
 * the pass manager's hook).  Prints max abs / max rel error per output and
 * per check, names the first pass where an output leaves tolerance, and
 * fails with ST_MISMATCH then.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/eval.h"
#include "../runtime/compare.h"
#include "driver.h"

#define REFERENCE_PASS "infer-shapes"

typedef struct VerifyCtx {
  const CliOptions *o;
  const Graph *ref;
  HostTensor *ref_inputs; /* by ref->inputs index */
  void **want;            /* reference outputs, by ref->outputs index */
  int checks;
  bool mismatch;
  char first_bad[512];    /* "after pass 'x': output 'y' ..." */
} VerifyCtx;

static int ref_input_index(const Graph *ref, const Value *v) {
  for (int i = 0; i < ref->num_inputs; i++)
    if (strcmp(ref->inputs[i]->name, v->name) == 0) return i;
  return -1;
}

static bool same_type(const Value *a, const Value *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static void note_mismatch(VerifyCtx *c, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_mismatch(VerifyCtx *c, const char *label, const char *fmt, ...) {
  if (c->mismatch) return;
  c->mismatch = true;
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(c->first_bad, sizeof c->first_bad, "%s: %s", label, what);
}

/* Evaluates g on the reference inputs and compares every output. */
static Status check_graph(VerifyCtx *c, const char *label, const Graph *g, Error *err) {
  TRY(drv_check_static(g, err));
  if (g->num_outputs != c->ref->num_outputs)
    return err_set(err, ST_INTERNAL, "%s: the graph has %d outputs, the reference %d", label,
                   g->num_outputs, c->ref->num_outputs);
  const void **in_ptr = calloc((size_t)g->num_inputs + 1, sizeof *in_ptr);
  void **got = calloc((size_t)g->num_outputs + 1, sizeof *got);
  Status st = ST_OK;
  if (!in_ptr || !got) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto done;
  }
  for (int i = 0; i < g->num_inputs; i++) {
    int k = ref_input_index(c->ref, g->inputs[i]);
    if (k < 0 || !same_type(g->inputs[i], c->ref->inputs[k])) {
      st = err_set(err, ST_INTERNAL, "%s: graph input '%s' is not in the reference graph", label,
                   g->inputs[i]->name);
      goto done;
    }
    in_ptr[i] = c->ref_inputs[k].data;
  }
  for (int i = 0; i < g->num_outputs; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    got[i] = calloc(1, nb ? nb : 1);
    if (!got[i]) {
      st = err_set(err, ST_NOMEM, "out of memory for output '%s'", g->outputs[i]->name);
      goto done;
    }
  }
  st = eval_graph(g, in_ptr, got, err);
  if (st != ST_OK) {
    err_prefix(err, "%s", label);
    goto done;
  }
  c->checks++;
  for (int i = 0; i < g->num_outputs; i++) {
    const Value *v = g->outputs[i], *r = c->ref->outputs[i];
    if (!same_type(v, r)) {
      char a[160], b[160];
      ir_type_str(v, a, sizeof a);
      ir_type_str(r, b, sizeof b);
      printf("%-24s output '%s': type %s, reference %s  MISMATCH\n", label, r->name, a, b);
      note_mismatch(c, label, "output '%s' has type %s, the reference %s", r->name, a, b);
      continue;
    }
    size_t numel = (size_t)ir_value_numel(v);
    RtCompareStats es;
    bool ok = rt_compare(v->dtype, got[i], c->want[i], numel, c->o->rtol, c->o->atol, &es);
    printf("%-24s output '%s': max_abs=%.3g max_rel=%.3g  %s", label, r->name, es.max_abs,
           es.max_rel, ok ? "ok" : "MISMATCH");
    if (!ok) printf(" (%zu of %zu elements, first at flat index %zu)", es.num_bad, numel, es.first_bad);
    putchar('\n');
    if (!ok)
      note_mismatch(c, label, "output '%s' exceeds tolerance (max_abs=%.3g max_rel=%.3g, %zu of %zu elements)",
                    r->name, es.max_abs, es.max_rel, es.num_bad, numel);
  }
done:
  if (got)
    for (int i = 0; i < g->num_outputs; i++) free(got[i]);
  free(got);
  free(in_ptr);
  return st;
}

static Status after_pass(void *ctx, const char *pass_name, Graph *g, Error *err) {
  char label[128];
  snprintf(label, sizeof label, "after %s", pass_name);
  return check_graph(ctx, label, g, err);
}

/* Loads the model, runs infer-shapes only, builds the inputs and evaluates. */
static Status build_reference(VerifyCtx *c, Graph **ref, Error *err) {
  const CliOptions *o = c->o;
  TRY(drv_load(o, NULL, ref, err));
  c->ref = *ref;
  PipelineOptions po = {.verify_each = o->verify_each, .stop_after = REFERENCE_PASS};
  TRY(pass_run_pipeline(*ref, &po, err));
  TRY(drv_check_static(*ref, err));
  const Graph *g = *ref;
  c->ref_inputs = calloc((size_t)g->num_inputs + 1, sizeof *c->ref_inputs);
  c->want = calloc((size_t)g->num_outputs + 1, sizeof *c->want);
  const void **in_ptr = calloc((size_t)g->num_inputs + 1, sizeof *in_ptr);
  if (!c->ref_inputs || !c->want || !in_ptr) {
    free(in_ptr);
    return err_set(err, ST_NOMEM, "out of memory");
  }
  uint64_t rng = o->seed;
  Status st = drv_read_inputs(o, g, &rng, c->ref_inputs, err);
  for (int i = 0; st == ST_OK && i < g->num_inputs; i++) in_ptr[i] = c->ref_inputs[i].data;
  for (int i = 0; st == ST_OK && i < g->num_outputs; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    c->want[i] = calloc(1, nb ? nb : 1);
    if (!c->want[i]) st = err_set(err, ST_NOMEM, "out of memory for output '%s'", g->outputs[i]->name);
  }
  if (st == ST_OK) {
    st = eval_graph(g, in_ptr, c->want, err);
    if (st != ST_OK) err_prefix(err, "reference (after %s)", REFERENCE_PASS);
  }
  free(in_ptr);
  if (st == ST_OK) {
    int given = o->num_inputs;
    printf("reference: the graph after %s; %d input(s), %d from files, %d random (seed %llu)\n",
           REFERENCE_PASS, g->num_inputs, given, g->num_inputs - given,
           (unsigned long long)o->seed);
  }
  return st;
}

Status cmd_verify(const CliOptions *o, Error *err) {
  VerifyCtx c = {.o = o};
  Graph *ref = NULL, *g = NULL;
  Status st = build_reference(&c, &ref, err);
  if (st != ST_OK) goto done;
  st = drv_load(o, NULL, &g, err);
  if (st != ST_OK) goto done;
  PipelineOptions po;
  drv_pipeline_options(o, &po);
  if (o->each) {
    po.hook = after_pass;
    po.hook_ctx = &c;
  }
  st = pass_run_pipeline(g, &po, err);
  if (st != ST_OK) goto done;
  if (!o->each) {
    st = check_graph(&c, "after the pipeline", g, err);
    if (st != ST_OK) goto done;
  }
  if (c.mismatch) {
    st = err_set(err, ST_MISMATCH, "%s: %s (rtol %g, atol %g)", o->model, c.first_bad, o->rtol,
                 o->atol);
    goto done;
  }
  printf("verify: ok: %d output(s), %d check(s), rtol %g, atol %g\n", ref->num_outputs, c.checks,
         o->rtol, o->atol);
done:
  if (c.ref_inputs)
    for (int i = 0; i < ref->num_inputs; i++) host_tensor_free(&c.ref_inputs[i]);
  if (c.want)
    for (int i = 0; i < ref->num_outputs; i++) free(c.want[i]);
  free(c.ref_inputs);
  free(c.want);
  ir_graph_free(g);
  ir_graph_free(ref);
  return st;
}
