/*
 * Runs the one model of this executable (every model of the project is
 * compiled with NAME model, each into its own folder) on a fixed input and
 * writes input.npy and output.npy (first input and output, float32) into
 * the folder given, for run_test.sh to compare with `onnxc run`.
 *   runner OUT_DIR [WEIGHTS_FILE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const long long input_shape[] = MODEL_INPUT_0_SHAPE;
static const long long output_shape[] = MODEL_OUTPUT_0_SHAPE;

static int write_npy(const char *dir, const char *name, const float *data, const long long *shape,
                     int rank, size_t count) {
  char path[4096], dict[256], dims[128] = "";
  for (int i = 0; i < rank; i++)
    snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%lld,%s", shape[i],
             i + 1 < rank ? " " : "");
  int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }",
                   dims);
  int padded = (10 + n + 1 + 63) / 64 * 64 - 10; /* the header ends in '\n' at a multiple of 64 */
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return 1;
  unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(padded & 255),
                             (unsigned char)(padded >> 8)};
  fwrite(magic, 1, 10, f);
  fprintf(f, "%s%*s\n", dict, padded - n - 1, "");
  fwrite(data, sizeof(float), count, f);
  return fclose(f) != 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  static float in[MODEL_INPUT_0_SIZE], out[MODEL_OUTPUT_0_SIZE];
  for (size_t i = 0; i < MODEL_INPUT_0_SIZE; i++) in[i] = (float)sin(0.37 * (double)i);
  const void *inputs[] = {in};
  void *outputs[] = {out};
  void *workspace = aligned_alloc(MODEL_WORKSPACE_ALIGN,
                                  (MODEL_WORKSPACE_SIZE + MODEL_WORKSPACE_ALIGN - 1) /
                                      MODEL_WORKSPACE_ALIGN * MODEL_WORKSPACE_ALIGN);
  if (!workspace) return 1;
  int rc;
#if defined(MODEL_WEIGHTS_EXTERNAL)
  if (argc < 3) return 2;
  FILE *f = fopen(argv[2], "rb");
  void *weights = aligned_alloc(MODEL_WEIGHTS_ALIGN, (MODEL_WEIGHTS_SIZE + MODEL_WEIGHTS_ALIGN - 1) /
                                                         MODEL_WEIGHTS_ALIGN * MODEL_WEIGHTS_ALIGN);
  if (!f || !weights || fread(weights, 1, MODEL_WEIGHTS_SIZE, f) != MODEL_WEIGHTS_SIZE) return 1;
  fclose(f);
  if (model_weights_check(weights, MODEL_WEIGHTS_SIZE) != 0) return 1;
  rc = model_run_with_weights(weights, inputs, outputs, workspace);
#elif defined(MODEL_PROFILE_NODES)
  static long long times[2 * MODEL_PROFILE_NODES];
  rc = model_run_profiled(inputs, outputs, workspace, NULL, times);
  for (int i = 0; rc == 0 && i < MODEL_PROFILE_NODES; i++)
    if (times[2 * i + 1] < times[2 * i] || !model_profile_node(i, NULL, NULL)) rc = 3;
  printf("profiled %d nodes\n", MODEL_PROFILE_NODES);
#else
  rc = model_run(inputs, outputs, workspace);
#endif
  if (rc != 0) return 10 + rc;
  return write_npy(argv[1], "input.npy", in, input_shape, MODEL_INPUT_0_RANK, MODEL_INPUT_0_SIZE) |
         write_npy(argv[1], "output.npy", out, output_shape, MODEL_OUTPUT_0_RANK,
                   MODEL_OUTPUT_0_SIZE);
}
