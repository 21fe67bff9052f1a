/*
 * The conv-family code generators behind codegen/conv/lower_conv.c.
 *
 * lower_conv.c decides whether a node is covered (float32, 2-D, constant
 * weights) and reads its geometry into a CvConv (conv_geom.c); one of the
 * emitters then builds an internal kernel function and calls it:
 *
 *   conv_direct.c     any 2-D Conv: vectors over output channels, a tile of
 *                     output pixels along W, broadcast input loads
 *   conv_pointwise.c  1x1 stride-1 unpadded Conv as a GEMM: vectors over
 *                     pixels, a tile of output channels, broadcast weights
 *   conv_window.c     depthwise Conv, MaxPool, AveragePool: vectors over
 *                     output pixels along W, per-plane windows
 *   conv_depthwise_blocked.c  depthwise Conv (multiplier 1): vectors over
 *                     channels through a padded channels-last stack copy
 *                     of the plane or of a band of its rows
 *   conv_plane.c      GlobalAveragePool, GlobalMaxPool, BatchNormalization
 *   conv_winograd.c   stride-1 3x3 Conv with >= 32 channels per group as
 *                     Winograd F(4x4, 3x3): transforms around a batched
 *                     GEMM, in a workspace region reserved for the node
 *
 * Borders: per output row / column the range of kernel taps that land
 * inside the input is precomputed (cv_axis_ranges) into small constant
 * tables, so padding never costs a branch per tap; pixels whose column
 * window is complete ("interior") run the vector tiles.
 */
#ifndef ONNXC_CODEGEN_CONV_EMIT_H
#define ONNXC_CODEGEN_CONV_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lower.h"

/* The epilogue of an onnxc.FusedConv (lower_fused_conv.c, conv_epilogue.c):
 * each output vector goes through cg_epilogue_finish (epilogue.h) just
 * before it is stored; the bias stays in the accumulator init.  The kernel
 * then takes a third pointer parameter, R, when there is a residual. */
typedef struct CvEpilogue {
  const Node *node;        /* the fused node (activation attributes) */
  LLVMValueRef r;          /* residual data at the call site, or NULL; R has
                              exactly the output's shape */
} CvEpilogue;

typedef struct CvConv {
  int64_t n, c, h, w;      /* input N, C, H, W */
  int64_t oc, oh, ow;      /* output channels and spatial sizes */
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t pt, pl, pb, pr;  /* pads: top, left, bottom, right */
  int64_t group, cin_g, cout_g;
  const CvEpilogue *epi;   /* NULL (cv_read_window's default): plain Conv */
} CvConv;

/* Reads the 2-D window of node n (input x, output y) into cv: kernel from
 * kh/kw (Conv weights) or from kernel_shape when kh < 0 (pools).  false
 * when the node is not something these emitters cover. */
bool cv_read_window(const Node *n, const Value *x, const Value *y, int64_t kh, int64_t kw,
                    CvConv *cv);

/* For each output position o < out along one axis: the kernel taps
 * [lo[o], hi[o]) whose input index o*s - p + k*d lies in [0, in). */
void cv_axis_ranges(int64_t out, int64_t in, int64_t k, int64_t s, int64_t d, int64_t p,
                    int32_t *lo, int32_t *hi);
/* The widest run [*a, *b) of positions whose range is the whole kernel. */
void cv_interior(const int32_t *lo, const int32_t *hi, int64_t out, int64_t k, int64_t *a,
                 int64_t *b);

/* Registers the target offers for tiles (32 on AVX-512/NEON, else 16). */
int cv_num_regs(const CgCtx *c);

/* Conv (epi NULL) or FusedConv (epi->node == n) of node n: false in
 * *handled when the emitters do not cover it (lower_conv.c). */
Status cv_lower_conv_node(CgCtx *c, const Node *n, LLVMValueRef const in[],
                          LLVMValueRef const out[], const CvEpilogue *epi, bool *handled,
                          Error *err);

/* weights [oc][cin_g][kh][kw], bias [oc] or NULL. x/y: the node's data. */
Status cv_emit_direct(CgCtx *c, const CvConv *cv, const float *wt, const float *bias,
                      LLVMValueRef x, LLVMValueRef y, Error *err);
Status cv_emit_pointwise(CgCtx *c, const CvConv *cv, const float *wt, const float *bias,
                         LLVMValueRef x, LLVMValueRef y, Error *err);

/* The Winograd form chosen for a conv (conv_winograd.c). */
typedef struct CvWino {
  int m, a;                   /* output tile m x m, input tile a x a (a = m + 2) */
  int64_t th, tw, t;          /* tile rows and columns per image; tiles in all */
  int64_t br, tb, blocks;     /* a block: br tile rows of one image, tb = br * tw tiles */
  int64_t v_floats, m_floats; /* a block's transformed inputs and products */
  size_t bytes;               /* the workspace region both take */
} CvWino;

/* Whether cv runs as Winograd (a decision from the shapes alone, so that
 * memory planning and lowering agree), and in which form. */
bool cv_winograd_fits(const CvConv *cv, CvWino *w);
/* Bytes of workspace the lowering of Conv / FusedConv node n needs (0
 * when it needs none): memplan.c reserves them (CgCtx.scratch). */
size_t cv_conv_scratch_bytes(const Node *n);
/* scratch: at least w->bytes of workspace, 64-byte aligned. */
Status cv_emit_winograd(CgCtx *c, const CvConv *cv, const CvWino *w, const float *wt,
                        const float *bias, LLVMValueRef x, LLVMValueRef y, LLVMValueRef scratch,
                        Error *err);

/* Depthwise Conv with channel multiplier 1, vectors over channels
 * (conv_depthwise_blocked.c); _fits says whether it applies. */
bool cv_depthwise_blocked_fits(const CgCtx *c, const CvConv *cv);
Status cv_emit_depthwise_blocked(CgCtx *c, const CvConv *cv, const float *wt, const float *bias,
                                 LLVMValueRef x, LLVMValueRef y, Error *err);

typedef enum CvWinOp { CV_WIN_CONV, CV_WIN_MAX, CV_WIN_AVG } CvWinOp;
/* Depthwise Conv (cin_g == 1; wt [oc][1][kh][kw]) or a pool (wt NULL). */
Status cv_emit_window(CgCtx *c, const CvConv *cv, CvWinOp op, bool count_include_pad,
                      const float *wt, const float *bias, LLVMValueRef x, LLVMValueRef y,
                      Error *err);

/* planes x size: y = max/mean over each plane (one value per plane). */
Status cv_emit_global_pool(CgCtx *c, int64_t planes, int64_t size, bool is_max, LLVMValueRef x,
                           LLVMValueRef y, Error *err);
/* y[n][ch][i] = x[n][ch][i] * a[ch] + b[ch] over batch x ch x size. */
Status cv_emit_affine(CgCtx *c, int64_t batch, int64_t ch, int64_t size, const float *a,
                      const float *b, LLVMValueRef x, LLVMValueRef y, Error *err);

#endif
