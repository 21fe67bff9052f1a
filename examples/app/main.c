/*
 * classify: an image classifier built on a model compiled by onnxc.
 *
 *   classify IMAGE.ppm|IMAGE.pgm [--top K] [--threads N] [--dump-input FILE.npy]
 *
 * Reads a binary PPM/PGM image, resizes it (bilinear) to the model's input
 * height and width and normalizes it with the ImageNet mean and standard
 * deviation (all taken from the generated model.h: nothing here knows the
 * model), runs model_run, and prints the top-K classes (default 5) with
 * their softmax probabilities.  --dump-input writes the preprocessed tensor
 * as .npy, so `onnxc run` can check the result on exactly the same input.
 * --threads N runs the model on N threads (model_run_parallel on an
 * onnxc_pool from onnxc's runtime library; the scores are the same bits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "model.h"
#include "onnxc_pool.h"

_Static_assert(MODEL_NUM_INPUTS == 1, "the example feeds one image input");
_Static_assert(MODEL_INPUT_0_RANK == 4, "the image input must be NCHW");

static const long long in_shape[4] = MODEL_INPUT_0_SHAPE;

/* Writes a float32 tensor in NumPy's .npy format (version 1.0). */
static int write_npy(const char *path, const float *data, const long long *dims, int rank) {
  char dict[256];
  int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  size_t n = 1;
  for (int i = 0; i < rank; i++) {
    k += snprintf(dict + k, sizeof dict - (size_t)k, "%lld, ", dims[i]);
    n *= (size_t)dims[i];
  }
  k += snprintf(dict + k, sizeof dict - (size_t)k, "), }");
  int total = (10 + k + 1 + 63) / 64 * 64; /* magic+version+len, dict, '\n', padded */
  int pad = total - 10 - k - 1;
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  unsigned hl = (unsigned)(total - 10);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc((int)(hl & 0xff), f);
  fputc((int)(hl >> 8), f);
  fwrite(dict, 1, (size_t)k, f);
  for (int i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
  size_t put = fwrite(data, sizeof *data, n, f); /* little-endian hosts only, as the .o */
  return fclose(f) == 0 && put == n ? 0 : -1;
}

int main(int argc, char **argv) {
  const char *image = NULL, *dump = NULL;
  int top = 5, threads = 1;
  static const char usage[] =
      "usage: classify IMAGE.ppm|IMAGE.pgm [--top K] [--threads N] [--dump-input FILE.npy]\n";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dump-input") == 0 && i + 1 < argc) dump = argv[++i];
    else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) top = atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
    else if (argv[i][0] != '-' && !image) image = argv[i];
    else {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (!image || top < 1 || threads < 1 || threads > ONNXC_POOL_MAX_THREADS) {
    fputs(usage, stderr);
    return 2;
  }
  if (strcmp(MODEL_INPUT_0_DTYPE, "float32") != 0 || strcmp(MODEL_OUTPUT_0_DTYPE, "float32") != 0 ||
      in_shape[0] != 1 || (in_shape[1] != 1 && in_shape[1] != 3)) {
    fprintf(stderr, "classify: the model must take one float32 [1,1|3,H,W] image and give float32 scores\n");
    return 1;
  }
  int c = (int)in_shape[1], h = (int)in_shape[2], w = (int)in_shape[3];

  char err[512];
  Image img;
  if (img_read_pnm(image, &img, err, sizeof err) != 0) {
    fprintf(stderr, "classify: %s\n", err);
    return 1;
  }
  static const float mean3[3] = {0.485f, 0.456f, 0.406f}, std3[3] = {0.229f, 0.224f, 0.225f};
  static const float mean1[1] = {0.449f}, std1[1] = {0.226f}; /* averages of the above */
  float *input = malloc((size_t)MODEL_INPUT_0_SIZE * sizeof *input);
  float *scores = malloc((size_t)MODEL_OUTPUT_0_SIZE * sizeof *scores);
  size_t ws_bytes = (size_t)MODEL_WORKSPACE_SIZE_FOR_THREADS(threads);
  void *workspace = aligned_alloc(MODEL_WORKSPACE_ALIGN,
                                  (ws_bytes + MODEL_WORKSPACE_ALIGN - 1) / MODEL_WORKSPACE_ALIGN *
                                          MODEL_WORKSPACE_ALIGN + MODEL_WORKSPACE_ALIGN);
  if (!input || !scores || !workspace) {
    fprintf(stderr, "classify: out of memory\n");
    return 1;
  }
  img_to_tensor(&img, c, h, w, c == 3 ? mean3 : mean1, c == 3 ? std3 : std1, input);
  printf("%s: %dx%d %s -> input '%s' [1,%d,%d,%d]\n", image, img.width, img.height,
         img.channels == 3 ? "colour" : "grey", MODEL_INPUT_0_NAME, c, h, w);
  img_free(&img);
  if (dump && write_npy(dump, input, in_shape, 4) != 0) {
    fprintf(stderr, "classify: cannot write %s\n", dump);
    return 1;
  }

  const void *inputs[1] = {input};
  void *outputs[1] = {scores};
  onnxc_pool *pool = threads > 1 ? onnxc_pool_create(threads) : NULL;
  if (threads > 1 && !pool) {
    fprintf(stderr, "classify: cannot start %d threads\n", threads);
    return 1;
  }
  int rc = model_run_parallel(inputs, outputs, workspace, onnxc_pool_parallel(pool));
  onnxc_pool_destroy(pool);
  if (rc != 0) {
    fprintf(stderr, "classify: model_run_parallel failed (%d)\n", rc);
    return 1;
  }

  /* Softmax over all scores (the model gives logits), then top-K. */
  int n = MODEL_OUTPUT_0_SIZE;
  float mx = scores[0];
  for (int i = 1; i < n; i++) mx = scores[i] > mx ? scores[i] : mx;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += exp((double)scores[i] - mx);
  if (top > n) top = n;
  int *order = malloc((size_t)n * sizeof *order);
  if (!order) return 1;
  for (int i = 0; i < n; i++) order[i] = i;
  for (int k = 0; k < top; k++) /* partial selection sort: K is small */
    for (int i = k + 1; i < n; i++)
      if (scores[order[i]] > scores[order[k]]) {
        int t = order[k];
        order[k] = order[i];
        order[i] = t;
      }
  printf("top-%d of %d classes:\n", top, n);
  for (int k = 0; k < top; k++)
    printf("  %d. class %-5d p=%.4f  logit=%.4f\n", k + 1, order[k],
           exp((double)scores[order[k]] - mx) / sum, scores[order[k]]);
  free(order);
  free(input);
  free(scores);
  free(workspace);
  return 0;
}
