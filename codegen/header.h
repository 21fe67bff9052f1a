/* Writes the generated C header (the contract documented in docs/ABI.md). */
#ifndef ONNXC_CODEGEN_HEADER_H
#define ONNXC_CODEGEN_HEADER_H

#include "codegen.h"
#include "memplan.h"
#include "weights_file.h"

/* weights: NULL when the weights are embedded. */
Status cg_write_header(const Graph *g, const MemPlan *plan, const CgOptions *o,
                       const CgWeightsInfo *weights, const char *path, Error *err);

#endif
