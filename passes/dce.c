/* passes/dce.c (placeholder until written). */
#include "pass.h"

Status pass_dce(Graph *g, Error *err) { (void)g; (void)err; return ST_OK; }
