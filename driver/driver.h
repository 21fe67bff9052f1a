/*
 * Shared declarations of the onnxc command-line driver.
 *
 *   main.c        dispatch, --help, --version, --passes
 *   options.def   the table of every command and option
 *   options.c     argv -> CliOptions (every flag of every command)
 *   help.c        --help per command and --version, from options.def
 *   outputs.c     output files: refused when they name an input, written
 *                 beside their place and renamed there only on success
 *   llvm_fatal.c  LLVM's fatal errors become onnxc errors
 *   link.c        --emit=shared: the object linked by the system's C compiler
 *   progress.c    the progress line on a terminal
 *   model.c       load a model and run the pass pipeline with the CLI's flags
 *   tensors.c     input files (.npy / TensorProto .pb), random inputs,
 *                 output statistics, output file names, tolerance checks
 *   cmd_dump.c    onnxc dump     cmd_run.c  onnxc run     cmd_verify.c  onnxc verify
 *   cmd_compile.c onnxc compile  cmd_profile.c  onnxc profile
 *
 * Only main() prints errors and picks exit codes: commands return a Status
 * and fill an Error like the library does.
 */
#ifndef ONNXC_DRIVER_H
#define ONNXC_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../frontend/onnx_load.h"
#include "../ir/graph.h"
#include "../passes/pass.h"
#include "outputs.h"

#define CLI_MAX_LIST 64 /* repeatable flags: --input, --input-shape, --print-ir-* */

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef enum Command {
  CMD_NONE,
#define COMMAND(id, name, arguments, summary) CMD_##id,
#define OPTION(id, spelling, alias, value, commands, help)
#include "options.def"
#undef COMMAND
#undef OPTION
  CMD_COUNT
} Command;

/* Which commands an option belongs to (options.def). */
#define CMDS_OF(cmd) (1 << (cmd))
enum {
  CMDS_GLOBAL = CMDS_OF(CMD_NONE),
  CMDS_COMPILE = CMDS_OF(CMD_COMPILE),
  CMDS_DUMP = CMDS_OF(CMD_DUMP),
  CMDS_RUN = CMDS_OF(CMD_RUN),
  CMDS_VERIFY = CMDS_OF(CMD_VERIFY),
  CMDS_PROFILE = CMDS_OF(CMD_PROFILE),
  CMDS_ALL = CMDS_COMPILE | CMDS_DUMP | CMDS_RUN | CMDS_VERIFY | CMDS_PROFILE,
};

/* One row of options.def. */
typedef struct CliOption {
  const char *spelling;
  const char *alias;  /* NULL: none */
  const char *value;  /* NULL: a switch; leading '=': shown glued */
  int commands;       /* CMDS_* bits */
  const char *help;
} CliOption;

typedef struct CliCommand {
  Command id;
  const char *name, *arguments, *summary;
} CliCommand;

extern const CliOption cli_options[];
extern const int cli_num_options;
extern const CliCommand cli_commands[];
extern const int cli_num_commands;

/* Default of --max-tensor-bytes: far above any vision model's tensors,
 * far below what a hostile Expand or ConstantOfShape asks for. */
#define CLI_DEFAULT_MAX_TENSOR_BYTES ((size_t)1 << 30)

typedef struct InputSpec {
  const char *name; /* points into argv (the text before '=') */
  size_t name_len;
  const char *path;
} InputSpec;

typedef struct CliOptions {
  Command command;
  const char *model;
  /* shared by every command */
  InputShape shapes[CLI_MAX_LIST];
  const char *shape_specs[CLI_MAX_LIST]; /* the --input-shape texts, for messages */
  int num_shapes;
  const char *print_before[CLI_MAX_LIST];
  int num_print_before;
  const char *print_after[CLI_MAX_LIST];
  int num_print_after;
  bool print_after_all;
  bool time_passes;
  bool quiet;             /* --quiet: no progress line */
  bool verify_each;
  const char *stop_after;
  size_t max_tensor_bytes; /* --max-tensor-bytes */
  /* dump */
  bool dot;
  const char *output; /* -o FILE; NULL = stdout */
  /* run and verify */
  InputSpec inputs[CLI_MAX_LIST];
  int num_inputs;
  const char *output_dir; /* run */
  bool each;              /* verify */
  uint64_t seed;
  double rtol, atol;
  /* compile (-o is shared with dump) */
  const char *header;     /* --header; NULL = beside the output */
  const char *name;       /* --name PREFIX; NULL = from the model file name */
  const char *target;     /* --target TRIPLE; NULL = host */
  const char *mcpu;       /* -mcpu=CPU|native */
  const char *mattr;      /* -mattr=+avx2,... */
  int opt_level;          /* -O0..-O3, default 3 */
  const char *emit;       /* --emit=obj|asm|llvm */
  const char *weights;    /* --weights=embed|FILE.bin */
  bool print_memory_plan;
  bool print_kernels;     /* --print-kernels */
  bool reference_kernels; /* --reference-kernels */
  bool sanitize_address;  /* --sanitize=address */
  bool sanitize_thread;   /* --sanitize=thread */
  double min_task_us;     /* --min-task-us; 0 = the default grain */
  bool profile;           /* compile --profile */
  /* profile */
  int runs;               /* --runs; 0 = the default */
  int threads;            /* --threads; 0 = 1 */
  const char *trace;      /* --trace FILE.json */
  int argc;               /* the command line, for the generated header's banner */
  char **argv;
} CliOptions;

/* What parsing asks main to do besides running a command. */
typedef enum CliAction { ACT_COMMAND, ACT_HELP, ACT_VERSION, ACT_LIST_PASSES } CliAction;

/* ST_INVALID with a message on a usage error (main exits 2).  Checks every
 * value it can without reading the model: numbers, names, pass names
 * against --stop-after, and --target/-mcpu/-mattr against LLVM. */
Status cli_parse(int argc, char **argv, CliOptions *o, CliAction *act, Error *err);
void cli_options_free(CliOptions *o);
/* help.c: the options of one command (CMD_NONE: of every command), one
 * line each, from options.def. */
void cli_print_help(FILE *f, Command command);
/* onnxc, LLVM and the targets of this build. */
void cli_print_version(FILE *f);
/* "-o FILE, --output=FILE" style left column of a help line. */
void cli_option_synopsis(const CliOption *opt, char *buf, size_t size);

/* Loads o->model with o's --input-shape and --max-tensor-bytes values;
 * *out owned by the caller.  outs (may be NULL) learns the model's
 * external data files, which no output may overwrite. */
Status drv_load(const CliOptions *o, Outputs *outs, Graph **out, Error *err);
/* Guards the model and the --input files against being overwritten. */
Status drv_guard_inputs(const CliOptions *o, Outputs *outs, Error *err);
/* Fills a PipelineOptions from the CLI flags (stop_after override: NULL keeps o's). */
void drv_pipeline_options(const CliOptions *o, PipelineOptions *p);
/* ST_INVALID naming the first value without a static type. */
Status drv_check_static(const Graph *g, Error *err);

/* One input tensor for eval_graph: data malloc'ed. */
typedef struct HostTensor {
  DType dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  void *data;
  size_t nbytes;
} HostTensor;

void host_tensor_free(HostTensor *t);
/* Reads FILE (.npy, or a TensorProto .pb) and checks it matches v exactly. */
Status drv_read_input(const char *path, const Value *v, HostTensor *out, Error *err);
/* Seeded random data of v's type: floats in [-1,1), integers in [0,10), bools 0/1. */
Status drv_random_input(const Value *v, uint64_t *rng, HostTensor *out, Error *err);
/* Reads every --input into out[i] for graph input i, matched by name.  A
 * graph input without --input is an error when rng is NULL, else random. */
Status drv_read_inputs(const CliOptions *o, const Graph *g, uint64_t *rng, HostTensor *out,
                       Error *err);

/* "name  f32  [1,1000]  min=... max=... mean=..." */
void drv_print_summary(FILE *f, const char *name, const Value *v, const void *data);
/* Output file stem: [A-Za-z0-9_.-] kept, everything else '_', never "" or dot-leading. */
void drv_sanitize_name(const char *name, int index, char *buf, size_t size);

/* llvm_fatal.c: LLVM fatal errors become `onnxc:` errors (exit 1). */
void drv_install_llvm_fatal_handler(void);

/* link.c: links a position-independent object into a shared object with
 * $CC, else cc (host) or <arch>-linux-gnu-gcc (--target another arch).
 * strict: no undefined symbols left (off for sanitized objects).  The
 * compiler's messages go to log_path, or to stderr when it is NULL. */
/* progress.c: the progress line of compile and profile on a terminal.
 * drv_progress_begin returns the callback's context, or NULL (no line:
 * --quiet, or stderr is not a terminal); drv_progress_end clears the line. */
typedef struct DrvProgress DrvProgress;
DrvProgress *drv_progress_begin(const CliOptions *o);
void drv_progress(void *ctx, const char *stage, long done, long total);
void drv_progress_end(DrvProgress *p);

Status drv_link_shared(const char *triple, const char *object, const char *output, bool strict,
                       const char *log_path, Error *err);

Status cmd_dump(const CliOptions *o, Error *err);
Status cmd_run(const CliOptions *o, Error *err);
Status cmd_verify(const CliOptions *o, Error *err);
Status cmd_compile(const CliOptions *o, Error *err);
Status cmd_profile(const CliOptions *o, Error *err);

#endif
