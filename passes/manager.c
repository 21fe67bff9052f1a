/* Pass manager (placeholder until written). */
#include "pass.h"

#include <string.h>

const PassInfo pass_table[] = {
#define PASS(id, name, summary) {name, pass_##id, summary},
#include "pipeline.def"
#undef PASS
};
const int pass_count = sizeof pass_table / sizeof pass_table[0];

const PassInfo *pass_find(const char *name) {
  for (int i = 0; i < pass_count; i++)
    if (strcmp(pass_table[i].name, name) == 0) return &pass_table[i];
  return NULL;
}
Status pass_check_options(const PipelineOptions *o, Error *err) { (void)o; (void)err; return ST_OK; }
Status pass_run_pipeline(Graph *g, const PipelineOptions *o, Error *err) {
  (void)o;
  for (int i = 0; i < pass_count; i++) TRY(pass_table[i].fn(g, err));
  return ST_OK;
}
Status pass_fold_node(Graph *g, Node *n, Error *err) { (void)g; (void)n; (void)err; return ST_OK; }
