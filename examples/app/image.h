/*
 * Image input for the example classifier: a bounded reader for binary
 * Netpbm images (P6 colour PPM, P5 greyscale PGM, maxval <= 255), bilinear
 * resizing and per-channel normalization into a planar float tensor (CHW),
 * as the model's first input wants it.  Plain C11, no dependencies.
 */
#ifndef ONNXC_EXAMPLE_IMAGE_H
#define ONNXC_EXAMPLE_IMAGE_H

#include <stddef.h>

#define IMG_MAX_SIDE 16384       /* larger images are refused */
#define IMG_MAX_PIXELS (1 << 26) /* 64 Mpixel */

typedef struct Image {
  int width, height;
  int channels;         /* 1 (P5) or 3 (P6) */
  unsigned char *pixels; /* row-major, interleaved; malloc'ed, free with img_free */
} Image;

/* Reads a P5 or P6 file.  On failure returns -1 with a one-line reason in
 * err (e.g. "cat.ppm: header says 64x64 but the file ends after 1024 of
 * 12288 pixel bytes"). */
int img_read_pnm(const char *path, Image *out, char *err, size_t err_size);
void img_free(Image *img);

/* Resizes img to out_h x out_w with bilinear interpolation (pixel centres
 * aligned, as PyTorch's align_corners=False), converts it to out_c channels
 * (grey -> copies, colour -> Rec. 601 luma), scales to [0,1] and writes
 * (v - mean[c]) / std[c] to out[c][y][x]. */
void img_to_tensor(const Image *img, int out_c, int out_h, int out_w, const float *mean,
                   const float *std, float *out);

#endif
