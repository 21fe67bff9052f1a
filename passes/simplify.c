/* passes/simplify.c (placeholder until written). */
#include "pass.h"

Status pass_simplify(Graph *g, Error *err) { (void)g; (void)err; return ST_OK; }
