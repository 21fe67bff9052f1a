/*
 * Tensors at the edge of the driver: input files (.npy or serialized
 * TensorProto .pb, checked against the graph input's exact dtype and shape),
 * seeded random inputs for `onnxc verify`, the one-line output summary of
 * `onnxc run` and output file names.  (verify's tolerance comparison is
 * rt_compare in runtime/compare.c.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../frontend/tensor_pb.h"
#include "../runtime/npy.h"
#include "driver.h"

void host_tensor_free(HostTensor *t) {
  if (!t) return;
  free(t->data);
  *t = (HostTensor){0};
}

static void shape_str(DType dt, int rank, const int64_t *dims, char *buf, size_t size) {
  size_t off = (size_t)snprintf(buf, size, "%s[", dtype_short_name(dt));
  for (int i = 0; i < rank && off < size; i++)
    off += (size_t)snprintf(buf + off, size - off, "%s%lld", i ? "," : "", (long long)dims[i]);
  if (off < size) snprintf(buf + off, size - off, "]");
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* .npy by extension or by magic; anything else is tried as a TensorProto. */
static bool looks_like_npy(const char *path) {
  if (ends_with(path, ".npy")) return true;
  if (ends_with(path, ".pb")) return false;
  FILE *f = fopen(path, "rb");
  if (!f) return false; /* the reader will report the open error */
  char magic[6] = {0};
  size_t got = fread(magic, 1, sizeof magic, f);
  fclose(f);
  return got == sizeof magic && memcmp(magic, "\x93NUMPY", 6) == 0;
}

static Status read_file(const char *path, HostTensor *out, Error *err) {
  *out = (HostTensor){0};
  if (looks_like_npy(path)) {
    NpyArray a;
    TRY(npy_read(path, &a, err));
    *out = (HostTensor){.dtype = a.dtype, .rank = a.rank, .data = a.data, .nbytes = a.nbytes};
    memcpy(out->dims, a.dims, sizeof out->dims);
    return ST_OK;
  }
  TensorFile t;
  memset(&t, 0, sizeof t);
  TRY(fe_read_tensor_pb(path, &t, err));
  *out = (HostTensor){.dtype = t.dtype, .rank = t.rank, .data = t.data, .nbytes = t.nbytes};
  memcpy(out->dims, t.dims, sizeof out->dims);
  t.data = NULL;
  fe_tensor_file_free(&t);
  return ST_OK;
}

Status drv_read_input(const char *path, const Value *v, HostTensor *out, Error *err) {
  TRY(read_file(path, out, err));
  bool same = out->dtype == v->dtype && out->rank == v->rank;
  for (int i = 0; same && i < v->rank; i++) same = out->dims[i] == v->dims[i];
  if (same && out->nbytes == ir_value_nbytes(v)) return ST_OK;
  char have[160], want[160];
  shape_str(out->dtype, out->rank, out->dims, have, sizeof have);
  ir_type_str(v, want, sizeof want);
  host_tensor_free(out);
  return err_set(err, ST_INVALID, "input '%s': %s holds %s but the model wants %s", v->name, path,
                 have, want);
}

/* splitmix64: tiny, seedable, and the same sequence on every platform. */
static uint64_t next_random(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Status drv_random_input(const Value *v, uint64_t *rng, HostTensor *out, Error *err) {
  *out = (HostTensor){.dtype = v->dtype, .rank = v->rank};
  if (!ir_value_is_static(v))
    return err_set(err, ST_INVALID, "input '%s' has symbolic dims: give --input-shape", v->name);
  memcpy(out->dims, v->dims, sizeof out->dims);
  out->nbytes = ir_value_nbytes(v);
  out->data = calloc(1, out->nbytes ? out->nbytes : 1);
  if (!out->data) return err_set(err, ST_NOMEM, "out of memory for input '%s'", v->name);
  size_t numel = (size_t)ir_value_numel(v);
  for (size_t i = 0; i < numel; i++) {
    uint64_t r = next_random(rng);
    if (v->dtype == DT_BOOL) ((uint8_t *)out->data)[i] = (uint8_t)(r & 1);
    else if (dtype_is_float(v->dtype))
      dtype_store_f64(v->dtype, out->data, i, (double)(r >> 11) * 0x1p-53 * 2.0 - 1.0, true);
    else dtype_store_i64(v->dtype, out->data, i, (int64_t)(r % 10));
  }
  return ST_OK;
}

static int find_input(const Graph *g, const InputSpec *s) {
  for (int i = 0; i < g->num_inputs; i++) {
    const char *n = g->inputs[i]->name;
    if (strlen(n) == s->name_len && memcmp(n, s->name, s->name_len) == 0) return i;
  }
  return -1;
}

static Status unknown_input(const Graph *g, const InputSpec *s, Error *err) {
  char list[1024] = "";
  size_t off = 0;
  for (int i = 0; i < g->num_inputs && off < sizeof list; i++)
    off += (size_t)snprintf(list + off, sizeof list - off, "%s'%s'", i ? ", " : "",
                            g->inputs[i]->name);
  return err_set(err, ST_INVALID, "%s has no input named '%.*s' (inputs: %s)", g->source,
                 (int)s->name_len, s->name, g->num_inputs ? list : "none");
}

Status drv_read_inputs(const CliOptions *o, const Graph *g, uint64_t *rng, HostTensor *out,
                       Error *err) {
  for (int k = 0; k < o->num_inputs; k++)
    if (find_input(g, &o->inputs[k]) < 0) return unknown_input(g, &o->inputs[k], err);
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    const InputSpec *spec = NULL;
    for (int k = 0; k < o->num_inputs; k++)
      if (find_input(g, &o->inputs[k]) == i) spec = &o->inputs[k];
    if (spec) {
      TRY(drv_read_input(spec->path, v, &out[i], err));
    } else if (rng) {
      TRY(drv_random_input(v, rng, &out[i], err));
    } else {
      char t[160];
      ir_type_str(v, t, sizeof t);
      return err_set(err, ST_INVALID, "no --input for graph input '%s' (%s)", v->name, t);
    }
  }
  return ST_OK;
}

void drv_print_summary(FILE *f, const char *name, const Value *v, const void *data) {
  char shape[160] = "";
  size_t off = 0;
  for (int i = 0; i < v->rank && off < sizeof shape; i++)
    off += (size_t)snprintf(shape + off, sizeof shape - off, "%s%lld", i ? "," : "",
                            (long long)v->dims[i]);
  size_t numel = (size_t)ir_value_numel(v);
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  size_t nans = 0;
  for (size_t i = 0; i < numel; i++) {
    double x = dtype_load_f64(v->dtype, data, i);
    if (isnan(x)) {
      nans++;
      continue;
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    sum += x;
  }
  fprintf(f, "%s  %s  [%s]", name, dtype_short_name(v->dtype), shape);
  if (numel == nans) fprintf(f, "  min=- max=- mean=-");
  else {
    double mean = sum / (double)(numel - nans);
    fprintf(f, "  min=%.6g max=%.6g", lo, hi);
    /* +inf and -inf together make the sum NaN; glibc would print it "-nan". */
    if (isnan(mean)) fprintf(f, " mean=nan");
    else fprintf(f, " mean=%.6g", mean);
  }
  if (nans) fprintf(f, "  nan=%zu", nans);
  fputc('\n', f);
}

void drv_sanitize_name(const char *name, int index, char *buf, size_t size) {
  size_t n = 0;
  for (const char *p = name; *p && n + 1 < size; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || (c == '.' && n > 0);
    buf[n++] = ok ? c : '_';
  }
  buf[n] = '\0';
  if (n == 0) snprintf(buf, size, "output_%d", index);
}
