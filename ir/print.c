/* IR printers (placeholder until written). */
#include "print.h"

void ir_print(const Graph *g, FILE *out) { fprintf(out, "graph @%s\n", g->name); }
void ir_print_dot(const Graph *g, FILE *out) { fprintf(out, "digraph \"%s\" {}\n", g->name); }
