/* Placeholder so the test tree builds; replaced by real tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ir/graph.h"

static void graph_new_and_free(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t.onnx");
  assert_non_null(g);
  int64_t d[2] = {2, 3};
  Value *c = ir_const_new(g, "c", DT_FLOAT32, 2, d, NULL);
  assert_non_null(c);
  assert_int_equal(ir_value_numel(c), 6);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(graph_new_and_free)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
