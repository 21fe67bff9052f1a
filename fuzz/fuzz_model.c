/*
 * libFuzzer target: ONNX bytes -> frontend -> the whole pass pipeline (the
 * verifier after every pass) -> the IR printers -> for small graphs, the
 * reference evaluator on patterned inputs (what `onnxc run` does).
 * Constant folding evaluates whatever constant subgraph the input builds,
 * so this is where hostile graphs meet the reference kernels.  Bounded like
 * onnxc with --max-tensor-bytes=64M, so that no input needs more than the
 * fuzzer's 2 GB; any Status is fine, a crash, leak, sanitizer report or
 * timeout is a finding.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../frontend/onnx_load.h"
#include "../ir/print.h"
#include "../ops/eval.h"
#include "../passes/pass.h"
#include "fuzz.h"

/* Evaluated only when all values together are this small, so that one
 * input stays far below libFuzzer's 10 s even with ASan. */
#define EVAL_MAX_TOTAL_BYTES ((size_t)4 << 20)

static bool small_enough(const Graph *g) {
  size_t total = 0;
  for (int i = 0; i < g->num_values; i++) {
    if (!ir_value_is_static(g->values[i])) return false;
    total += ir_value_nbytes(g->values[i]);
    if (total > EVAL_MAX_TOTAL_BYTES) return false;
  }
  return true;
}

/* Inputs of a fixed byte pattern: every dtype gets ordinary and odd values
 * (zeros, negatives, NaN bit patterns). */
static void evaluate(const Graph *g) {
  const void **ins = calloc((size_t)g->num_inputs + 1, sizeof *ins);
  void **outs = calloc((size_t)g->num_outputs + 1, sizeof *outs);
  bool ok = ins && outs;
  for (int i = 0; ok && i < g->num_inputs; i++) {
    size_t nb = ir_value_nbytes(g->inputs[i]);
    unsigned char *p = malloc(nb ? nb : 1);
    for (size_t k = 0; p && k < nb; k++) p[k] = (unsigned char)(k * 37 + (size_t)i * 11);
    ins[i] = p;
    ok = p != NULL;
  }
  for (int i = 0; ok && i < g->num_outputs; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    ok = (outs[i] = malloc(nb ? nb : 1)) != NULL;
  }
  Error err;
  if (ok) eval_graph(g, ins, outs, &err);
  for (int i = 0; ins && i < g->num_inputs; i++) free((void *)ins[i]);
  for (int i = 0; outs && i < g->num_outputs; i++) free(outs[i]);
  free(ins);
  free(outs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  LoadOptions lo = {.max_tensor_bytes = FUZZ_MAX_TENSOR_BYTES};
  Graph *g = NULL;
  Error err;
  if (fe_load_buffer(data, size, "<fuzz>", NULL, &lo, &g, &err) != ST_OK) return 0;
  PipelineOptions po = {.verify_each = true};
  if (pass_run_pipeline(g, &po, &err) == ST_OK) {
    FILE *sink = fuzz_sink();
    ir_print(g, sink);
    ir_print_dot(g, sink);
    if (small_enough(g)) evaluate(g);
  }
  ir_graph_free(g);
  return 0;
}
