/*
 * Window geometry for the conv-family emitters (see conv_emit.h): reads a
 * 2-D node's kernel, strides, dilations and pads (auto_pad included), and
 * computes per-output-position tap ranges.  The output sizes are taken
 * from the already inferred output value, so ceil_mode needs no special
 * case here: the tap ranges alone keep every read inside the input.
 */
#include "conv_emit.h"

#include <string.h>

#define CV_MAX_ATTR ((int64_t)1 << 24)

/* Copies an optional ints attribute of exactly 'want' values in [lo, max]. */
static bool read_ints(const Node *n, const char *name, int want, int64_t lo, int64_t *dst) {
  const int64_t *v;
  int cnt = ir_attr_ints(n, name, &v);
  if (cnt < 0) return ir_attr(n, name) == NULL;
  if (cnt != want) return false;
  for (int i = 0; i < cnt; i++) {
    if (v[i] < lo || v[i] > CV_MAX_ATTR) return false;
    dst[i] = v[i];
  }
  return true;
}

/* Pads of one axis for auto_pad SAME_*: ONNX's split of the total. */
static void same_pads(int64_t in, int64_t out, int64_t s, int64_t ext, bool upper, int64_t *b,
                      int64_t *e) {
  int64_t total = out > 0 ? (out - 1) * s + ext - in : 0;
  if (total < 0) total = 0;
  *b = upper ? total / 2 : total - total / 2;
  *e = total - *b;
}

bool cv_read_window(const Node *n, const Value *x, const Value *y, int64_t kh, int64_t kw,
                    CvConv *cv) {
  memset(cv, 0, sizeof *cv);
  if (!x || !y || x->dtype != DT_FLOAT32 || y->dtype != DT_FLOAT32) return false;
  if (x->rank != 4 || y->rank != 4 || !ir_value_is_static(x) || !ir_value_is_static(y))
    return false;
  for (int d = 0; d < 4; d++)
    if (x->dims[d] < 1 || y->dims[d] < 1) return false;
  if (y->dims[0] != x->dims[0]) return false;
  cv->n = x->dims[0];
  cv->c = x->dims[1];
  cv->h = x->dims[2];
  cv->w = x->dims[3];
  cv->oc = y->dims[1];
  cv->oh = y->dims[2];
  cv->ow = y->dims[3];
  int64_t k[2] = {kh, kw}, s[2] = {1, 1}, d[2] = {1, 1}, p[4] = {0, 0, 0, 0};
  const int64_t *ks;
  int kcnt = ir_attr_ints(n, "kernel_shape", &ks);
  if (kcnt >= 0) {
    if (kcnt != 2) return false;
    for (int i = 0; i < 2; i++) {
      if (kh >= 0 && ks[i] != k[i]) return false;
      k[i] = ks[i];
    }
  } else if (kh < 0) {
    return false;
  }
  for (int i = 0; i < 2; i++)
    if (k[i] < 1 || k[i] > CV_MAX_ATTR) return false;
  if (!read_ints(n, "strides", 2, 1, s) || !read_ints(n, "dilations", 2, 1, d)) return false;
  const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
  if (!strcmp(ap, "NOTSET") || !ap[0]) {
    if (!read_ints(n, "pads", 4, 0, p)) return false;
  } else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
    bool up = !strcmp(ap, "SAME_UPPER");
    same_pads(cv->h, cv->oh, s[0], (k[0] - 1) * d[0] + 1, up, &p[0], &p[2]);
    same_pads(cv->w, cv->ow, s[1], (k[1] - 1) * d[1] + 1, up, &p[1], &p[3]);
  } else if (strcmp(ap, "VALID") != 0) {
    return false;
  }
  cv->kh = k[0];
  cv->kw = k[1];
  cv->sh = s[0];
  cv->sw = s[1];
  cv->dh = d[0];
  cv->dw = d[1];
  cv->pt = p[0];
  cv->pl = p[1];
  cv->pb = p[2];
  cv->pr = p[3];
  cv->group = 1;
  cv->cin_g = cv->c;
  cv->cout_g = cv->oc;
  return true;
}

void cv_axis_ranges(int64_t out, int64_t in, int64_t k, int64_t s, int64_t d, int64_t p,
                    int32_t *lo, int32_t *hi) {
  for (int64_t o = 0; o < out; o++) {
    int64_t i0 = o * s - p, a = 0, b;
    if (i0 < 0) a = (-i0 + d - 1) / d;
    b = in - 1 - i0 < 0 ? 0 : (in - 1 - i0) / d + 1;
    if (a > k) a = k;
    if (b > k) b = k;
    if (b < a) b = a;
    lo[o] = (int32_t)a;
    hi[o] = (int32_t)b;
  }
}

void cv_interior(const int32_t *lo, const int32_t *hi, int64_t out, int64_t k, int64_t *a,
                 int64_t *b) {
  *a = *b = 0;
  for (int64_t o = 0; o < out;) {
    if (lo[o] != 0 || hi[o] != k) {
      o++;
      continue;
    }
    int64_t e = o;
    while (e < out && lo[e] == 0 && hi[e] == k) e++;
    if (e - o > *b - *a) {
      *a = o;
      *b = e;
    }
    o = e;
  }
}

int cv_num_regs(const CgCtx *c) { return c->vf32 >= 16 ? 32 : 16; }
