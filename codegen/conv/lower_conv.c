/*
 * codegen/conv/lower_conv.c: specialized lowerings for the convolutional ops
 * (Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool,
 * BatchNormalization).  This file only decides coverage and picks an
 * emitter (conv_emit.h); anything it does not cover -- other dtypes, 1-D
 * or 3-D windows, non-constant weights, MaxPool's Indices output,
 * training-mode BatchNormalization -- sets *handled = false and runs the
 * reference kernel.  ConvTranspose and Resize always do.
 */
#include <math.h>
#include <stdlib.h>

#include "conv_emit.h"

static bool is_f32_const(const Value *v, int rank) {
  return v && v->dtype == DT_FLOAT32 && v->data && v->rank == rank && ir_value_is_static(v);
}

/* The geometry of a 2-D float32 Conv / FusedConv with constant weights
 * (and bias); false when the emitters do not cover it. */
static bool read_conv(const Node *n, CvConv *cv) {
  if (n->num_inputs < 2 || n->num_outputs < 1 || !n->inputs[0] || !n->outputs[0]) return false;
  const Value *w = n->inputs[1];
  const Value *b = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (!is_f32_const(w, 4) || (b && !is_f32_const(b, 1))) return false;
  if (!cv_read_window(n, n->inputs[0], n->outputs[0], w->dims[2], w->dims[3], cv)) return false;
  int64_t group = ir_attr_int(n, "group", 1);
  if (group < 1 || cv->c % group || cv->oc % group) return false;
  cv->group = group;
  cv->cin_g = cv->c / group;
  cv->cout_g = cv->oc / group;
  return w->dims[0] == cv->oc && w->dims[1] == cv->cin_g && (!b || b->dims[0] == cv->oc);
}

size_t cv_conv_scratch_bytes(const Node *n) {
  CvConv cv;
  CvWino w;
  if (!read_conv(n, &cv) || !cv_winograd_fits(&cv, &w)) return 0;
  return w.bytes;
}

Status cv_lower_conv_node(CgCtx *c, const Node *n, LLVMValueRef const in[],
                          LLVMValueRef const out[], const CvEpilogue *epi, bool *handled,
                          Error *err) {
  *handled = false;
  CvConv cv;
  if (!read_conv(n, &cv)) return ST_OK;
  cv.epi = epi;
  const float *wt = n->inputs[1]->data;
  const float *bias = n->num_inputs > 2 && n->inputs[2] ? n->inputs[2]->data : NULL;
  *handled = true;
  CvWino wg;
  if (cv_winograd_fits(&cv, &wg) && c->scratch && c->scratch_bytes >= wg.bytes)
    return cv_emit_winograd(c, &cv, &wg, wt, bias, in[0], out[0], c->scratch, err);
  if (cv.cin_g == 1 && cv.group > 1 && cv_depthwise_blocked_fits(c, &cv))
    return cv_emit_depthwise_blocked(c, &cv, wt, bias, in[0], out[0], err);
  if (cv.cin_g == 1 && cv.group > 1)
    return cv_emit_window(c, &cv, CV_WIN_CONV, false, wt, bias, in[0], out[0], err);
  /* Small planes (Next-ViT's and ResNet's 7x7 and 14x14 stages) fill the
   * pointwise kernel's pixel vectors badly (49 pixels in four 16-lane
   * vectors); the direct kernel vectorizes over output channels instead.
   * Measured on AVX-512 at one thread: Next-ViT-S's 1x1 convs at 7x7 went
   * from 72% to 85% of the FMA peak, at 14x14 from 89% to 95%; at 28x28
   * the pointwise kernel stays ahead (95%).  Only with >= 256 input
   * channels, where the gain is: the direct kernel is twice the code, and
   * HRFormer-T's many small 1x1 convs (18-144 inputs) gained nothing and
   * cost 1.2 s of compile time. */
  bool small_plane = c->vf32 >= 16 && cv_num_regs(c) == 32 && cv.oh * cv.ow < 16 * c->vf32 &&
                     cv.cin_g >= 256;
  if (cv.kh == 1 && cv.kw == 1 && cv.sh == 1 && cv.sw == 1 && !cv.pt && !cv.pl && !cv.pb &&
      !cv.pr && cv.oh == cv.h && cv.ow == cv.w && !small_plane)
    return cv_emit_pointwise(c, &cv, wt, bias, in[0], out[0], err);
  return cv_emit_direct(c, &cv, wt, bias, in[0], out[0], err);
}

Status cg_lower_conv(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                     bool *handled, Error *err) {
  return cv_lower_conv_node(c, n, in, out, NULL, handled, err);
}

static Status lower_pool(CgCtx *c, const Node *n, LLVMValueRef const in[],
                         LLVMValueRef const out[], CvWinOp op, bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 1 || n->num_outputs < 1 || !n->inputs[0] || !n->outputs[0]) return ST_OK;
  /* MaxPool's optional Indices output stays with the reference kernel. */
  for (int i = 1; i < n->num_outputs; i++)
    if (n->outputs[i]) return ST_OK;
  int64_t ceil_mode = ir_attr_int(n, "ceil_mode", 0);
  int64_t cip = ir_attr_int(n, "count_include_pad", 0);
  if ((ceil_mode != 0 && ceil_mode != 1) || (cip != 0 && cip != 1)) return ST_OK;
  if (op == CV_WIN_MAX && ir_attr_int(n, "storage_order", 0) != 0) return ST_OK;
  CvConv cv;
  if (!cv_read_window(n, n->inputs[0], n->outputs[0], -1, -1, &cv)) return ST_OK;
  if (cv.oc != cv.c) return ST_OK;
  cv.group = cv.c;
  cv.cin_g = cv.cout_g = 1;
  *handled = true;
  return cv_emit_window(c, &cv, op, cip == 1, NULL, NULL, in[0], out[0], err);
}

Status cg_lower_max_pool(CgCtx *c, const Node *n, LLVMValueRef const in[],
                         LLVMValueRef const out[], bool *handled, Error *err) {
  return lower_pool(c, n, in, out, CV_WIN_MAX, handled, err);
}

Status cg_lower_average_pool(CgCtx *c, const Node *n, LLVMValueRef const in[],
                             LLVMValueRef const out[], bool *handled, Error *err) {
  return lower_pool(c, n, in, out, CV_WIN_AVG, handled, err);
}

/* (planes, plane size) of a float32 N x C x spatial tensor; false if odd. */
static bool planes_of(const Value *x, int min_rank, int64_t *planes, int64_t *size) {
  if (!x || x->dtype != DT_FLOAT32 || x->rank < min_rank || !ir_value_is_static(x)) return false;
  *planes = x->dims[0] * x->dims[1];
  *size = 1;
  for (int d = 2; d < x->rank; d++) *size *= x->dims[d];
  return *planes > 0 && *size > 0;
}

static Status lower_global(CgCtx *c, const Node *n, LLVMValueRef const in[],
                           LLVMValueRef const out[], bool is_max, bool *handled, Error *err) {
  *handled = false;
  int64_t planes, size;
  if (n->num_inputs < 1 || n->num_outputs < 1 || !n->outputs[0]) return ST_OK;
  if (!planes_of(n->inputs[0], 3, &planes, &size)) return ST_OK;
  if (n->outputs[0]->dtype != DT_FLOAT32 || ir_value_numel(n->outputs[0]) != planes) return ST_OK;
  *handled = true;
  return cv_emit_global_pool(c, planes, size, is_max, in[0], out[0], err);
}

Status cg_lower_global_average_pool(CgCtx *c, const Node *n, LLVMValueRef const in[],
                                    LLVMValueRef const out[], bool *handled, Error *err) {
  return lower_global(c, n, in, out, false, handled, err);
}

Status cg_lower_global_max_pool(CgCtx *c, const Node *n, LLVMValueRef const in[],
                                LLVMValueRef const out[], bool *handled, Error *err) {
  return lower_global(c, n, in, out, true, handled, err);
}

/* Inference BatchNormalization with constant statistics: the per-channel
 * scale a = scale / sqrt(var + eps) and shift b = B - mean * a are folded
 * here in double, as the reference kernel computes them. */
Status cg_lower_batch_normalization(CgCtx *c, const Node *n, LLVMValueRef const in[],
                                    LLVMValueRef const out[], bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 5 || n->num_outputs < 1 || !n->outputs[0]) return ST_OK;
  for (int i = 1; i < n->num_outputs; i++)
    if (n->outputs[i]) return ST_OK;
  if (ir_attr_int(n, "training_mode", 0) != 0 || ir_attr_int(n, "spatial", 1) != 1) return ST_OK;
  const Value *x = n->inputs[0];
  int64_t planes, size;
  if (!planes_of(x, 2, &planes, &size)) return ST_OK;
  int64_t ch = x->dims[1];
  if (n->outputs[0]->dtype != DT_FLOAT32 || ir_value_numel(n->outputs[0]) != planes * size)
    return ST_OK;
  for (int i = 1; i < 5; i++)
    if (!is_f32_const(n->inputs[i], 1) || n->inputs[i]->dims[0] != ch) return ST_OK;
  double eps = ir_attr_float(n, "epsilon", 1e-5f);
  float *a = malloc((size_t)ch * sizeof *a), *b = malloc((size_t)ch * sizeof *b);
  if (!a || !b) {
    free(a);
    free(b);
    return err_set(err, ST_NOMEM, "out of memory folding BatchNormalization");
  }
  const float *sc = n->inputs[1]->data, *bi = n->inputs[2]->data;
  const float *mean = n->inputs[3]->data, *var = n->inputs[4]->data;
  for (int64_t i = 0; i < ch; i++) {
    double k = (double)sc[i] / sqrt((double)var[i] + eps);
    a[i] = (float)k;
    b[i] = (float)((double)bi[i] - (double)mean[i] * k);
  }
  *handled = true;
  Status st = cv_emit_affine(c, x->dims[0], ch, size, a, b, in[0], out[0], err);
  free(a);
  free(b);
  return st;
}

Status cg_lower_conv_transpose(CgCtx *c, const Node *n, LLVMValueRef const in[],
                               LLVMValueRef const out[], bool *handled, Error *err) {
  (void)c, (void)n, (void)in, (void)out, (void)err;
  *handled = false;
  return ST_OK;
}
