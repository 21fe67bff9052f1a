/*
 * Row-wise float32 kernels over [rows, width] (the reduced axis is the
 * last, contiguous one): Softmax/LogSoftmax, LayerNormalization and
 * Sum/Mean/Max reductions.  Each emits one internal function and its call
 * at c->b.  Accumulation is in <vf32 x float> registers, reduced
 * horizontally once per row; the width % vf32 tail is a masked vector.
 */
#ifndef ONNXC_CODEGEN_VEC_ROWS_H
#define ONNXC_CODEGEN_VEC_ROWS_H

#include "../lower.h"

typedef enum VrReduce { VR_SUM, VR_MEAN, VR_MAX } VrReduce;

/* out = softmax(x) (or log-softmax) along each row. */
void vr_emit_softmax(CgCtx *c, int64_t rows, int64_t width, bool log_form, LLVMValueRef x,
                     LLVMValueRef out);
/* out = (x - mean) / sqrt(var + eps) * scale + bias per row; bias may be
 * NULL; scale and bias hold `width` floats. */
void vr_emit_layer_norm(CgCtx *c, int64_t rows, int64_t width, float eps, LLVMValueRef x,
                        LLVMValueRef scale, LLVMValueRef bias, LLVMValueRef out);
/* out[r] = reduce(x[r, :]).  VR_MAX propagates NaN like the reference. */
void vr_emit_reduce(CgCtx *c, int64_t rows, int64_t width, VrReduce kind, LLVMValueRef x,
                    LLVMValueRef out);

#endif
