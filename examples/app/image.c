/*
 * Netpbm reading, bilinear resizing and normalization; see image.h.  Every
 * header number is range-checked before it sizes anything, and a short
 * file is an error, never a partial image.
 */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Skips whitespace and '#' comments between header fields. */
static void skip_space(FILE *f) {
  int c;
  while ((c = getc(f)) != EOF) {
    if (c == '#') {
      while ((c = getc(f)) != EOF && c != '\n') {
      }
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      ungetc(c, f);
      return;
    }
  }
}

/* A decimal header field in [1, max]; -1 if absent or out of range. */
static long read_field(FILE *f, long max) {
  skip_space(f);
  long v = 0;
  int c, digits = 0;
  while ((c = getc(f)) != EOF && c >= '0' && c <= '9') {
    if (v > max) break; /* keep reading digits without overflowing */
    v = v * 10 + (c - '0');
    digits++;
  }
  if (c != EOF) ungetc(c, f);
  return digits == 0 || digits > 9 || v < 1 || v > max ? -1 : v;
}

int img_read_pnm(const char *path, Image *out, char *err, size_t err_size) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  char magic[2] = {0, 0};
  if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '6')) {
    snprintf(err, err_size, "%s: not a binary PPM (P6) or PGM (P5) image", path);
    fclose(f);
    return -1;
  }
  long w = read_field(f, IMG_MAX_SIDE), h = read_field(f, IMG_MAX_SIDE);
  long maxval = read_field(f, 65535);
  if (w < 0 || h < 0) {
    snprintf(err, err_size, "%s: bad width or height (1..%d expected)", path, IMG_MAX_SIDE);
    fclose(f);
    return -1;
  }
  if (maxval < 0 || maxval > 255) {
    snprintf(err, err_size, "%s: maxval must be 1..255 (16-bit images are not supported)", path);
    fclose(f);
    return -1;
  }
  if (w * h > IMG_MAX_PIXELS) {
    snprintf(err, err_size, "%s: %ldx%ld is more than %d pixels", path, w, h, IMG_MAX_PIXELS);
    fclose(f);
    return -1;
  }
  int c = getc(f); /* exactly one whitespace byte ends the header */
  if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
    snprintf(err, err_size, "%s: no whitespace after the header", path);
    fclose(f);
    return -1;
  }
  int channels = magic[1] == '6' ? 3 : 1;
  size_t n = (size_t)w * (size_t)h * (size_t)channels;
  unsigned char *px = malloc(n);
  if (!px) {
    snprintf(err, err_size, "%s: out of memory for %zu bytes", path, n);
    fclose(f);
    return -1;
  }
  size_t got = fread(px, 1, n, f);
  fclose(f);
  if (got != n) {
    snprintf(err, err_size, "%s: header says %ldx%ld but the file ends after %zu of %zu pixel bytes",
             path, w, h, got, n);
    free(px);
    return -1;
  }
  if (maxval != 255)
    for (size_t i = 0; i < n; i++) px[i] = (unsigned char)(px[i] > maxval ? 255 : px[i] * 255 / maxval);
  *out = (Image){.width = (int)w, .height = (int)h, .channels = channels, .pixels = px};
  return 0;
}

void img_free(Image *img) {
  free(img->pixels);
  memset(img, 0, sizeof *img);
}

/* Pixel (x, y) of channel c as a float in [0, 255], after channel conversion. */
static float sample(const Image *img, int x, int y, int c, int out_c) {
  const unsigned char *p = img->pixels + ((size_t)y * (size_t)img->width + (size_t)x) * (size_t)img->channels;
  if (img->channels == 1) return p[0];
  if (out_c == 1) return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
  return p[c];
}

/* Source coordinate of destination index i (half-pixel centres), clamped. */
static void source_pos(int i, int in_size, int out_size, int *i0, int *i1, float *frac) {
  float s = ((float)i + 0.5f) * (float)in_size / (float)out_size - 0.5f;
  if (s < 0) s = 0;
  int lo = (int)s;
  if (lo > in_size - 1) lo = in_size - 1;
  *i0 = lo;
  *i1 = lo + 1 < in_size ? lo + 1 : in_size - 1;
  *frac = s - (float)lo;
}

void img_to_tensor(const Image *img, int out_c, int out_h, int out_w, const float *mean,
                   const float *std, float *out) {
  for (int c = 0; c < out_c; c++)
    for (int y = 0; y < out_h; y++) {
      int y0, y1;
      float fy;
      source_pos(y, img->height, out_h, &y0, &y1, &fy);
      for (int x = 0; x < out_w; x++) {
        int x0, x1;
        float fx;
        source_pos(x, img->width, out_w, &x0, &x1, &fx);
        float top = sample(img, x0, y0, c, out_c) * (1 - fx) + sample(img, x1, y0, c, out_c) * fx;
        float bot = sample(img, x0, y1, c, out_c) * (1 - fx) + sample(img, x1, y1, c, out_c) * fx;
        float v = (top * (1 - fy) + bot * fy) / 255.0f;
        out[((size_t)c * (size_t)out_h + (size_t)y) * (size_t)out_w + (size_t)x] = (v - mean[c]) / std[c];
      }
    }
}
