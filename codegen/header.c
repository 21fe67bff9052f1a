/*
 * The generated header: self-describing (model, onnxc version, command
 * line; no timestamps, so it is reproducible), C and C++ compatible, with
 * PREFIX_* macros for every input and output and the run prototype.
 */
#include "header.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void upper(const char *in, char *out, size_t size) {
  size_t i = 0;
  for (; in[i] && i + 1 < size; i++) out[i] = (char)toupper((unsigned char)in[i]);
  out[i] = 0;
}

/* Names go into C string literals: escape what would break them. */
static void put_cstring(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 32 || c >= 127) fprintf(f, "\\%03o", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void put_tensor(FILE *f, const char *P, const char *kind, int i, const Value *v) {
  fprintf(f, "#define %s_%s_%d_NAME      ", P, kind, i);
  put_cstring(f, v->name);
  fprintf(f, "\n#define %s_%s_%d_RANK      %d\n", P, kind, i, v->rank);
  fprintf(f, "#define %s_%s_%d_SHAPE     {", P, kind, i);
  for (int d = 0; d < v->rank; d++) fprintf(f, "%s%" PRId64, d ? ", " : "", v->dims[d]);
  fprintf(f, "}\n#define %s_%s_%d_SIZE      %" PRId64 "    /* elements */\n", P, kind, i,
          ir_value_numel(v));
  fprintf(f, "#define %s_%s_%d_DTYPE     \"%s\"\n\n", P, kind, i, dtype_name(v->dtype));
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void put_contract(FILE *f, const CgOptions *o, const char *P, const CgWeightsInfo *w) {
  const char *p = o->prefix;
  if (!w) {
    fprintf(f, " *\n"
               " * int %s_run(const void *const inputs[], void *const outputs[], void *workspace);\n",
            p);
  } else {
    fprintf(f, " *\n"
               " * The weights are NOT in the object file: they are in %s (written by\n"
               " * --weights), %s_WEIGHTS_SIZE bytes.  Load the whole file into\n"
               " * memory aligned to %s_WEIGHTS_ALIGN bytes (aligned_alloc + fread, or mmap)\n"
               " * and pass it to every call; it is only read, so threads can share it.\n"
               " * (%d weight blobs are in the file; %d small constants, %zu bytes, that\n"
               " * reference kernels read as node parameters stay in the object file.)\n",
            base_name(o->weights_path), P, P, w->moved, w->kept, w->kept_bytes);
    fprintf(f, " *\n"
               " * int %s_weights_check(const void *weights, unsigned long long size);\n"
               " *   Returns 0 when size, header and a hash of all bytes match what this\n"
               " *   object was compiled with; 3 otherwise.  Reads the whole file: call it\n"
               " *   once after loading.\n"
               " * int %s_run_with_weights(const void *weights, const void *const inputs[],\n"
               " *                        void *const outputs[], void *workspace);\n"
               " *   As %s_run would be with embedded weights; additionally returns 3 when\n"
               " *   weights is NULL, misaligned or its header does not match (a weights\n"
               " *   file from another model or another compile).\n",
            p, p, p);
  }
  fprintf(f, " *   inputs[i] / outputs[i]: dense row-major buffers of %s_INPUT_i_SIZE /\n"
             " *   %s_OUTPUT_i_SIZE elements of the listed dtype.  workspace: %s_WORKSPACE_SIZE\n"
             " *   bytes aligned to %s_WORKSPACE_ALIGN, owned by the caller, reusable between\n"
             " *   calls.  Returns 0 on success, 1 when workspace is NULL or misaligned.\n"
             " *   No global mutable state: concurrent calls with different workspaces are safe.\n"
             " *\n"
             " * %s_run_parallel%s(..., const onnxc_parallel *par) is the same call with\n"
             " *   the big nodes split into tasks run through par->parallel_for (the\n"
             " *   caller's threads; onnxc_pool.h of onnxc's runtime is one such pool).\n"
             " *   par == NULL or par->threads == 1 runs on the calling thread only.  The\n"
             " *   outputs are bit-identical for every thread count and task order.\n"
             " *   Workspace: %s_WORKSPACE_SIZE_FOR_THREADS(par->threads) bytes.  Returns 4\n"
             " *   when par->threads < 1, or > 1 with a NULL parallel_for.  Each thread that\n"
             " *   runs tasks needs 256 KiB of stack.\n"
             " */\n",
          P, P, P, P, o->prefix, w ? "_with_weights" : "", P);
}

/* The hook type, guarded so that several generated headers (and the
 * runtime's onnxc_pool.h) can be included together. */
static void put_parallel_typedef(FILE *f) {
  fputs("#ifndef ONNXC_PARALLEL_DEFINED\n"
        "#define ONNXC_PARALLEL_DEFINED\n"
        "typedef struct onnxc_parallel {\n"
        "  /* Runs task(ctx, i, worker) for every i in [0, n) and returns when all are done.\n"
        "     worker is in [0, threads): the id of the thread running that call (for per-thread scratch). */\n"
        "  void (*parallel_for)(void *runner, int n, void (*task)(void *ctx, int i, int worker), void *ctx);\n"
        "  void *runner;  /* the caller's pool, passed back unchanged */\n"
        "  int threads;   /* how many workers may run tasks at once (>= 1) */\n"
        "} onnxc_parallel;\n"
        "#endif\n\n",
        f);
}

/* --profile (profile.h): the timing entry point and the node table. */
static void put_profile(FILE *f, const CgOptions *o, const char *P, int nodes, bool weights) {
  const char *p = o->prefix;
  fprintf(f, "/* --profile: times[2*i], times[2*i+1] get node i's start and end\n"
             " * (CLOCK_MONOTONIC ns) in schedule order; times may be NULL. */\n");
  fprintf(f, "#define %s_PROFILE_NODES  %d\n", P, nodes);
  if (weights)
    fprintf(f, "int %s_run_profiled_with_weights(const void *weights, const void *const inputs[],\n"
               "    void *const outputs[], void *workspace, const onnxc_parallel *par, long long *times);\n",
            p);
  else
    fprintf(f, "int %s_run_profiled(const void *const inputs[], void *const outputs[], void *workspace,\n"
               "    const onnxc_parallel *par, long long *times);\n",
            p);
  fprintf(f, "/* Node i's name, op type and kernel path; NULL when i is out of range. */\n"
             "const char *%s_profile_node(int i, const char **op_type, const char **kernel);\n"
             "/* 12 independent vector FMA chains of iters steps each (a measure of the\n"
             " * core's peak); returns the floating-point operations done. */\n"
             "long long %s_profile_fma_loop(long long iters);\n\n",
          p, p);
}

Status cg_write_header(const Graph *g, const MemPlan *plan, const CgOptions *o,
                       const CgWeightsInfo *weights, const char *path, Error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return err_set(err, ST_IO, "%s: cannot write: %s", path, strerror(errno));
  char P[160];
  upper(o->prefix, P, sizeof P);
  fprintf(f, "/*\n * Generated by onnxc %s. Do not edit.\n", ONNXC_VERSION);
  fprintf(f, " * Model:   %s\n", o->model_path ? o->model_path : g->source);
  if (o->command_line) fprintf(f, " * Command: %s\n", o->command_line);
  put_contract(f, o, P, weights);
  fprintf(f, "#ifndef %s_ONNXC_H\n#define %s_ONNXC_H\n\n", P, P);
  fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  fprintf(f, "#define %s_NUM_INPUTS        %d\n", P, g->num_inputs);
  fprintf(f, "#define %s_NUM_OUTPUTS       %d\n", P, g->num_outputs);
  fprintf(f, "#define %s_WORKSPACE_SIZE    %zu   /* bytes of scratch the caller provides */\n", P,
          plan->workspace_size);
  fprintf(f, "#define %s_WORKSPACE_ALIGN   %d\n", P, MEMPLAN_ALIGN);
  /* Tasks keep their per-worker state on their own stack, so the workspace
   * does not grow with the thread count (yet: the macro is the contract). */
  fprintf(f, "#define %s_WORKSPACE_SIZE_FOR_THREADS(t)  (%s_WORKSPACE_SIZE + 0 * (t))\n\n", P, P);
  if (weights) {
    fprintf(f, "#define %s_WEIGHTS_EXTERNAL  1\n", P);
    fprintf(f, "#define %s_WEIGHTS_FILE      ", P);
    put_cstring(f, base_name(o->weights_path));
    fprintf(f, "\n#define %s_WEIGHTS_SIZE      %zuULL   /* bytes of the file */\n", P,
            weights->file_size);
    fprintf(f, "#define %s_WEIGHTS_ALIGN     64\n", P);
    fprintf(f, "#define %s_WEIGHTS_HASH      0x%016" PRIx64 "ULL   /* FNV-1a 64 of bytes 64.. */\n\n",
            P, weights->hash);
  }
  for (int i = 0; i < g->num_inputs; i++) put_tensor(f, P, "INPUT", i, g->inputs[i]);
  for (int i = 0; i < g->num_outputs; i++) put_tensor(f, P, "OUTPUT", i, g->outputs[i]);
  put_parallel_typedef(f);
  if (weights) {
    fprintf(f, "int %s_weights_check(const void *weights, unsigned long long size);\n", o->prefix);
    fprintf(f, "int %s_run_with_weights(const void *weights, const void *const inputs[],\n"
               "    void *const outputs[], void *workspace);\n",
            o->prefix);
    fprintf(f, "int %s_run_parallel_with_weights(const void *weights, const void *const inputs[],\n"
               "    void *const outputs[], void *workspace, const onnxc_parallel *par);\n\n",
            o->prefix);
  } else {
    fprintf(f, "int %s_run(const void *const inputs[], void *const outputs[], void *workspace);\n",
            o->prefix);
    fprintf(f, "int %s_run_parallel(const void *const inputs[], void *const outputs[], void *workspace,\n"
               "    const onnxc_parallel *par);\n\n",
            o->prefix);
  }
  if (o->profile) put_profile(f, o, P, g->num_nodes, weights != NULL);
  fprintf(f, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_ONNXC_H */\n", P);
  if (fclose(f) != 0) return err_set(err, ST_IO, "%s: write failed", path);
  return ST_OK;
}
