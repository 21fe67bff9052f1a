/*
 * Dynamic input dimensions.  onnxc compiles for one static shape, so every
 * dim_param (or missing dim) of a runtime input must be fixed by the user
 * (--input-shape NAME=d0,d1,...).  Errors list everything at once: every
 * unknown dimension, or every real input name when a given name matches
 * none, so one run tells the user all they need.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe_internal.h"

Status fe_parse_input_shape(const char *spec, InputShape *out, Error *err) {
  memset(out, 0, sizeof *out);
  if (!spec) return err_set(err, ST_INVALID, "missing input shape");
  const char *eq = strrchr(spec, '=');
  if (!eq || eq == spec)
    return err_set(err, ST_INVALID, "input shape '%s' is not of the form NAME=d0,d1,...", spec);
  const char *p = eq + 1;
  int rank = 0;
  while (*p) {
    if (rank == IR_MAX_RANK)
      return err_set(err, ST_INVALID, "input shape '%s' has more than %d dims", spec, IR_MAX_RANK);
    if (*p < '0' || *p > '9')
      return err_set(err, ST_INVALID, "input shape '%s': '%s' is not a positive integer", spec,
                     p);
    errno = 0;
    char *end;
    long long d = strtoll(p, &end, 10);
    if (errno || d < 0 || d > IR_MAX_NUMEL)
      return err_set(err, ST_INVALID, "input shape '%s': dimension out of range", spec);
    if (d == 0)
      return err_set(err, ST_INVALID, "input shape '%s': dimension %d is 0; every dimension must "
                     "be at least 1", spec, rank);
    out->dims[rank++] = d;
    p = end;
    if (*p == ',') {
      p++;
      if (!*p) return err_set(err, ST_INVALID, "input shape '%s' ends with ','", spec);
    } else if (*p) {
      return err_set(err, ST_INVALID, "input shape '%s': unexpected '%c'", spec, *p);
    }
  }
  /* The name may itself contain '=', so it is everything before the last one;
   * it gets its own copy (fe_input_shape_free releases it). */
  size_t len = (size_t)(eq - spec);
  char *name = malloc(len + 1);
  if (!name) return err_set(err, ST_NOMEM, "out of memory");
  memcpy(name, spec, len);
  name[len] = 0;
  out->name = name;
  out->rank = rank;
  return ST_OK;
}

void fe_input_shape_free(InputShape *s) {
  if (!s) return;
  free((char *)s->name);
  s->name = NULL;
}

/* Appends printf output to buf at *at, never overflowing. */
static void add(char *buf, size_t size, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t size, size_t *at, const char *fmt, ...) {
  if (*at >= size) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + *at, size - *at, fmt, ap);
  va_end(ap);
  if (k > 0) *at += (size_t)k;
  if (*at > size) *at = size;
}

static Status unknown_name(Graph *g, const char *name, Error *err) {
  char list[2048];
  size_t at = 0;
  list[0] = 0;
  for (int i = 0; i < g->num_inputs; i++)
    add(list, sizeof list, &at, "%s\"%s\"", i ? ", " : "", g->inputs[i]->name);
  if (!g->num_inputs) add(list, sizeof list, &at, "none");
  return err_set(err, ST_INVALID, "%s: error: --input-shape names \"%s\", which is not an input "
                 "of the model; its inputs are: %s", g->source, name, list);
}

static Status apply_one(Graph *g, Value *v, const InputShape *s, Error *err) {
  if (v->rank >= 0 && v->rank != s->rank)
    return err_set(err, ST_SHAPE, "%s: error: input \"%s\" has rank %d, but --input-shape gives %d "
                   "dims", g->source, v->name, v->rank, s->rank);
  for (int i = 0; v->rank >= 0 && i < v->rank; i++)
    if (v->dims[i] >= 0 && v->dims[i] != s->dims[i])
      return err_set(err, ST_SHAPE, "%s: error: input \"%s\" dim %d is %" PRId64 " in the model, "
                     "but --input-shape gives %" PRId64, g->source, v->name, i, v->dims[i],
                     s->dims[i]);
  v->rank = s->rank;
  for (int i = 0; i < s->rank; i++) v->dims[i] = s->dims[i];
  return ST_OK;
}

Status fe_apply_input_shapes(Graph *g, const LoadOptions *opt, Error *err) {
  int ns = opt ? opt->num_input_shapes : 0;
  for (int k = 0; k < ns; k++) {
    const InputShape *s = &opt->input_shapes[k];
    if (!s->name) return err_set(err, ST_INVALID, "%s: error: input shape without a name", g->source);
    if (s->rank < 0 || s->rank > IR_MAX_RANK)
      return err_set(err, ST_INVALID, "%s: error: input shape for \"%s\" has rank %d", g->source,
                     s->name, s->rank);
    Value *v = NULL;
    for (int i = 0; i < g->num_inputs; i++)
      if (strcmp(g->inputs[i]->name, s->name) == 0) v = g->inputs[i];
    if (!v) return unknown_name(g, s->name, err);
    TRY(apply_one(g, v, s, err));
  }
  /* Everything still unknown, in one message. */
  char list[3000];
  size_t at = 0;
  int count = 0;
  const Value *first = NULL;
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    if (v->rank < 0) {
      if (!count++) first = v;
      add(list, sizeof list, &at, "\n  input \"%s\" has no shape", v->name);
      continue;
    }
    for (int d = 0; d < v->rank; d++)
      if (v->dims[d] < 0) {
        if (!count++) first = v;
        if (v->dim_param[d])
          add(list, sizeof list, &at, "\n  input \"%s\" dim %d (\"%s\")", v->name, d,
              v->dim_param[d]);
        else
          add(list, sizeof list, &at, "\n  input \"%s\" dim %d", v->name, d);
      }
  }
  if (count) {
    char example[256];
    size_t e = 0;
    add(example, sizeof example, &e, "%s=", first->name);
    if (first->rank < 0) {
      add(example, sizeof example, &e, "1,3,224,224");
    } else {
      for (int d = 0; d < first->rank; d++)
        add(example, sizeof example, &e, "%s%" PRId64, d ? "," : "",
            first->dims[d] >= 0 ? first->dims[d] : (int64_t)1);
    }
    return err_set(err, ST_SHAPE, "%s: error: %d unknown input dimension%s:%s\n"
                   "give them with --input-shape, e.g. --input-shape %s", g->source, count,
                   count == 1 ? "" : "s", list, example);
  }
  for (int i = 0; i < g->num_inputs; i++) {
    Value *v = g->inputs[i];
    Error e2;
    if (ir_value_set_type(v, v->dtype, v->rank, v->dims, &e2) != ST_OK)
      return err_set(err, e2.status, "%s: error: input \"%s\": %s", g->source, v->name, e2.msg);
  }
  return ST_OK;
}
