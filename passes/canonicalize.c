/* passes/canonicalize.c (placeholder until written). */
#include "pass.h"

Status pass_canonicalize(Graph *g, Error *err) {
  (void)g; (void)err;
  return ST_OK;
}
