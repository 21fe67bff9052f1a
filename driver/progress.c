/*
 * The progress line of a long compile: one line on stderr, rewritten in
 * place ("onnxc: lowering 512/1077 nodes"), at most ten times a second, and
 * erased at the end.  Only on a terminal, and not with --quiet: logs and
 * pipes never see it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

struct DrvProgress {
  double last_ms;
  const char *last_stage;
  bool shown;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

DrvProgress *drv_progress_begin(const CliOptions *o) {
  if (o->quiet || !isatty(STDERR_FILENO)) return NULL;
  /* Whatever else goes to stderr meanwhile would land inside the line. */
  if (o->print_kernels || o->print_memory_plan || o->time_passes || o->print_after_all ||
      o->num_print_before || o->num_print_after)
    return NULL;
  const char *term = getenv("TERM");
  if (term && strcmp(term, "dumb") == 0) return NULL;
  return calloc(1, sizeof(DrvProgress)); /* NULL when out of memory: no line */
}

void drv_progress(void *ctx, const char *stage, long done, long total) {
  DrvProgress *p = ctx;
  if (!p) return;
  double t = now_ms();
  bool new_stage = stage != p->last_stage;
  if (!new_stage && t - p->last_ms < 100) return;
  p->last_ms = t;
  p->last_stage = stage;
  p->shown = true;
  if (total > 0) fprintf(stderr, "\ronnxc: %s %ld/%ld nodes\033[K", stage, done, total);
  else fprintf(stderr, "\ronnxc: %s\033[K", stage);
  fflush(stderr);
}

void drv_progress_end(DrvProgress *p) {
  if (!p) return;
  if (p->shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  free(p);
}
