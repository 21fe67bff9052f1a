/*
 * The pass manager: runs the passes of pipeline.def in order on a Graph and
 * implements the observation options of PipelineOptions (see pass.h):
 * printing the IR before/after chosen passes, a --time-passes table, the
 * verifier after every pass (on by default in debug builds, chosen by the
 * driver), stopping early, and a caller hook after each pass.  The passes
 * themselves live in passes/<id>.c and know nothing about these options.
 */
#include "pass.h"

#include <string.h>
#include <time.h>

#include "../ir/print.h"
#include "../ir/verify.h"

const PassInfo pass_table[] = {
#define PASS(id, name, summary) {name, pass_##id, summary},
#include "pipeline.def"
#undef PASS
};
const int pass_count = sizeof pass_table / sizeof pass_table[0];

const PassInfo *pass_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < pass_count; i++)
    if (strcmp(pass_table[i].name, name) == 0) return &pass_table[i];
  return NULL;
}

static Status unknown_pass(const char *name, const char *flag, Error *err) {
  char list[512];
  size_t at = 0;
  list[0] = '\0';
  for (int i = 0; i < pass_count && at < sizeof list; i++) {
    int k = snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "", pass_table[i].name);
    if (k < 0) break;
    at += (size_t)k;
  }
  return err_set(err, ST_INVALID, "unknown pass '%s' in %s; valid passes: %s", name, flag, list);
}

Status pass_check_options(const PipelineOptions *o, Error *err) {
  if (!o) return ST_OK;
  for (int i = 0; i < o->num_print_before; i++)
    if (!pass_find(o->print_before[i]))
      return unknown_pass(o->print_before[i], "--print-ir-before", err);
  for (int i = 0; i < o->num_print_after; i++)
    if (!pass_find(o->print_after[i]))
      return unknown_pass(o->print_after[i], "--print-ir-after", err);
  if (o->stop_after && !pass_find(o->stop_after))
    return unknown_pass(o->stop_after, "--stop-after", err);
  return ST_OK;
}

static bool listed(const char *const *names, int count, const char *name) {
  for (int i = 0; i < count; i++)
    if (names[i] && strcmp(names[i], name) == 0) return true;
  return false;
}

static void dump_ir(const PipelineOptions *o, const Graph *g, const char *when, const char *pass) {
  FILE *out = o->dump ? o->dump : stderr;
  /* ';' starts a comment line in the text form; DOT files take '//'. */
  fprintf(out, "%s IR %s %s\n", o->dot ? "//" : ";", when, pass);
  if (o->dot) ir_print_dot(g, out);
  else ir_print(g, out);
  fflush(out);
}

static int live_nodes(const Graph *g) {
  int c = 0;
  for (int i = 0; i < g->num_nodes; i++) c += !g->nodes[i]->dead;
  return c;
}

static double now_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct PassTime {
  const char *name;
  double ms;
  int nodes_before, nodes_after;
} PassTime;

static void print_times(const PipelineOptions *o, const PassTime *t, int count) {
  FILE *log = o->log ? o->log : stderr;
  double total = 0;
  fprintf(log, "; %-16s %10s   %s\n", "pass", "ms", "nodes");
  for (int i = 0; i < count; i++) {
    fprintf(log, "; %-16s %10.3f   %d -> %d\n", t[i].name, t[i].ms, t[i].nodes_before,
            t[i].nodes_after);
    total += t[i].ms;
  }
  fprintf(log, "; %-16s %10.3f\n", "total", total);
  fflush(log);
}

Status pass_run_pipeline(Graph *g, const PipelineOptions *o, Error *err) {
  static const PipelineOptions defaults;
  if (!o) o = &defaults;
  TRY(pass_check_options(o, err));
  PassTime times[sizeof pass_table / sizeof pass_table[0]];
  int ran = 0;
  /* Types are static from infer-shapes on; before it the verifier checks
   * structure only. */
  bool typed = false;
  Status st = ST_OK;
  if (o->verify_each && (st = ir_verify(g, false, err)) != ST_OK) {
    err_prefix(err, "before the first pass");
    return st;
  }
  for (int i = 0; i < pass_count; i++) {
    const PassInfo *p = &pass_table[i];
    if (listed(o->print_before, o->num_print_before, p->name))
      dump_ir(o, g, "before", p->name);
    times[ran].name = p->name;
    times[ran].nodes_before = live_nodes(g);
    double t0 = now_ms();
    st = p->fn(g, err);
    times[ran].ms = now_ms() - t0;
    times[ran].nodes_after = live_nodes(g);
    ran++;
    if (st != ST_OK) break;
    if (p->fn == pass_infer_shapes) typed = true;
    if (o->print_after_all || listed(o->print_after, o->num_print_after, p->name))
      dump_ir(o, g, "after", p->name);
    if (o->verify_each && (st = ir_verify(g, typed, err)) != ST_OK) {
      err_prefix(err, "IR is invalid after pass %s", p->name);
      break;
    }
    if (o->hook && (st = o->hook(o->hook_ctx, p->name, g, err)) != ST_OK) break;
    if (o->stop_after && strcmp(o->stop_after, p->name) == 0) break;
  }
  if (o->time_passes) print_times(o, times, ran);
  return st;
}
