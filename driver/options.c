/*
 * Command-line parsing for onnxc: argv -> CliOptions.
 *
 * Grammar: onnxc [--help|--version|--passes] COMMAND MODEL [flags...]
 * Flags may come before or after MODEL; a flag that takes a value accepts
 * both `--flag=value` and `--flag value`.  Every mistake (unknown flag, flag
 * of another command, bad number, unknown pass name) is ST_INVALID with a
 * message, which main turns into exit status 2.  The help text here is the
 * reference for docs/CLI.md; keep the two in step.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* Which commands a flag belongs to. */
enum { F_DUMP = 1, F_RUN = 2, F_VERIFY = 4, F_COMPILE = 8, F_ALL = 15 };

typedef enum FlagId {
  FL_INPUT_SHAPE,
  FL_PRINT_BEFORE,
  FL_PRINT_AFTER,
  FL_PRINT_AFTER_ALL,
  FL_TIME_PASSES,
  FL_VERIFY_EACH,
  FL_NO_VERIFY_EACH,
  FL_STOP_AFTER,
  FL_FORMAT,
  FL_OUTPUT,
  FL_INPUT,
  FL_OUTPUT_DIR,
  FL_EACH,
  FL_SEED,
  FL_RTOL,
  FL_ATOL,
  FL_HEADER,
  FL_NAME,
  FL_TARGET,
  FL_MCPU,
  FL_MATTR,
  FL_OPT0,
  FL_OPT1,
  FL_OPT2,
  FL_OPT3,
  FL_EMIT,
  FL_WEIGHTS,
  FL_PRINT_MEMORY_PLAN,
  FL_PRINT_KERNELS,
  FL_REFERENCE_KERNELS,
  FL_SANITIZE,
  FL_MIN_TASK,
} FlagId;

typedef struct Flag {
  const char *name;
  FlagId id;
  bool takes_value;
  int commands;
} Flag;

static const Flag flags[] = {
    {"--input-shape", FL_INPUT_SHAPE, true, F_ALL},
    {"--print-ir-before", FL_PRINT_BEFORE, true, F_ALL},
    {"--print-ir-after", FL_PRINT_AFTER, true, F_ALL},
    {"--print-ir-after-all", FL_PRINT_AFTER_ALL, false, F_ALL},
    {"--time-passes", FL_TIME_PASSES, false, F_ALL},
    {"--verify-each", FL_VERIFY_EACH, false, F_ALL},
    {"--no-verify-each", FL_NO_VERIFY_EACH, false, F_ALL},
    {"--stop-after", FL_STOP_AFTER, true, F_ALL},
    {"--format", FL_FORMAT, true, F_DUMP},
    {"-o", FL_OUTPUT, true, F_DUMP | F_COMPILE},
    {"--output", FL_OUTPUT, true, F_DUMP | F_COMPILE},
    {"--input", FL_INPUT, true, F_RUN | F_VERIFY},
    {"--output-dir", FL_OUTPUT_DIR, true, F_RUN},
    {"--each", FL_EACH, false, F_VERIFY},
    {"--seed", FL_SEED, true, F_VERIFY},
    {"--rtol", FL_RTOL, true, F_VERIFY},
    {"--atol", FL_ATOL, true, F_VERIFY},
    {"--header", FL_HEADER, true, F_COMPILE},
    {"--name", FL_NAME, true, F_COMPILE},
    {"--target", FL_TARGET, true, F_COMPILE},
    {"-mcpu", FL_MCPU, true, F_COMPILE},
    {"-mattr", FL_MATTR, true, F_COMPILE},
    {"-O0", FL_OPT0, false, F_COMPILE},
    {"-O1", FL_OPT1, false, F_COMPILE},
    {"-O2", FL_OPT2, false, F_COMPILE},
    {"-O3", FL_OPT3, false, F_COMPILE},
    {"--emit", FL_EMIT, true, F_COMPILE},
    {"--weights", FL_WEIGHTS, true, F_COMPILE},
    {"--print-memory-plan", FL_PRINT_MEMORY_PLAN, false, F_COMPILE},
    {"--print-kernels", FL_PRINT_KERNELS, false, F_COMPILE},
    {"--reference-kernels", FL_REFERENCE_KERNELS, false, F_COMPILE},
    {"--sanitize", FL_SANITIZE, true, F_COMPILE},
    {"--min-task-us", FL_MIN_TASK, true, F_COMPILE},
};
#define NUM_FLAGS (sizeof flags / sizeof flags[0])

void cli_print_help(FILE *f) {
  fputs(
      "usage: onnxc COMMAND MODEL.onnx [flags]\n"
      "       onnxc --help | --version | --passes\n"
      "\n"
      "onnxc compiles ONNX vision models ahead of time into one object file plus a C\n"
      "header; it also loads, checks, optimizes and evaluates them with a reference\n"
      "evaluator.\n"
      "\n"
      "commands:\n"
      "  compile load, run the pass pipeline, emit MODEL.o and MODEL.h\n"
      "  dump    load, run the pass pipeline, print the IR\n"
      "  run     load, run the pipeline, evaluate on the given inputs\n"
      "  verify  compare the optimized graph with the unoptimized one on the same inputs\n"
      "\n"
      "flags for every command:\n"
      "  --input-shape NAME=D0,D1,...  fix the dims of graph input NAME (NAME= for a scalar);\n"
      "                                repeatable; needed for inputs with symbolic dims\n"
      "  --print-ir-before=PASS        print the IR before PASS (repeatable)\n"
      "  --print-ir-after=PASS         print the IR after PASS (repeatable)\n"
      "  --print-ir-after-all          print the IR after every pass\n"
      "  --time-passes                 print each pass's wall time at the end\n"
      "  --verify-each                 check the IR invariants after every pass\n"
      "                                (default in Debug builds)\n"
      "  --no-verify-each              do not (default in Release builds)\n"
      "  --stop-after=PASS             run the pipeline up to and including PASS\n"
      "  (printed IR and pass times go to stderr; see --passes for PASS names)\n"
      "\n"
      "dump:\n"
      "  --format=text|dot             IR as text (default) or Graphviz dot\n"
      "  -o FILE, --output=FILE        write the IR to FILE instead of stdout\n"
      "\n"
      "compile:\n"
      "  -o FILE, --output=FILE        the object file (default: MODEL name + .o)\n"
      "  --header FILE                 the C header (default: the output with .h)\n"
      "  --name PREFIX                 prefix of the generated symbols and macros\n"
      "                                (default: the model file name as a C identifier)\n"
      "  --target TRIPLE               target triple (default: the host's)\n"
      "  -mcpu=CPU|native              target CPU (default: native, the host's CPU)\n"
      "  -mattr=+avx2,...              target features (default: those of the CPU)\n"
      "  -O0 -O1 -O2 -O3               LLVM optimization level (default -O3)\n"
      "  --emit=obj|asm|llvm           object file (default), assembly or LLVM IR text\n"
      "  --weights=embed|FILE          weights in the object file (default), or in FILE,\n"
      "                                which the caller loads and passes to\n"
      "                                PREFIX_run_with_weights (see the header)\n"
      "  --print-memory-plan           print each workspace buffer, the workspace size\n"
      "                                and the liveness lower bound (to stderr)\n"
      "  --print-kernels               print, per node, whether a specialized vector\n"
      "                                kernel or the reference kernel runs it (to stderr)\n"
      "  --reference-kernels           use only the reference kernels (slow; to rule out\n"
      "                                a specialized kernel when debugging)\n"
      "  --sanitize=address|thread     instrument the generated code with AddressSanitizer\n"
      "                                or ThreadSanitizer (debugging; link the program with\n"
      "                                -fsanitize=address or -fsanitize=thread)\n"
      "  --min-task-us=US              grain of PREFIX_run_parallel: a node is split into\n"
      "                                at most one task per US microseconds of estimated\n"
      "                                work (default 20; see docs/ABI.md)\n"
      "\n",
      f);
  fputs("run:\n"
      "  --input NAME=FILE             data for graph input NAME: a .npy file or a\n"
      "                                serialized TensorProto (.pb); dtype and shape must\n"
      "                                match the model; one per graph input\n"
      "  --output-dir DIR              write each output to DIR/<name>.npy (characters\n"
      "                                other than A-Z a-z 0-9 . _ - become _)\n"
      "  prints one line per output: name, dtype, shape, min, max, mean\n"
      "\n"
      "verify:\n"
      "  --input NAME=FILE             as for run; inputs not given are random\n"
      "  --seed N                      seed of the random inputs (default 1): floats in\n"
      "                                [-1,1), integers in [0,10), bools 0/1\n"
      "  --each                        compare after every pass, not only at the end\n"
      "  --rtol R                      relative tolerance (default 1e-4)\n"
      "  --atol A                      absolute tolerance (default 1e-5)\n"
      "  an element passes when |got - want| <= atol + rtol * |want|; integers exactly\n"
      "\n"
      "other:\n"
      "  -h, --help                    this text\n"
      "  --version                     print the version\n"
      "  --passes                      list the passes of the pipeline in order\n"
      "\n"
      "exit status: 0 success, 1 bad input or verification mismatch, 2 usage error\n",
      f);
}

static const Flag *find_flag(const char *arg, const char **value) {
  *value = NULL;
  for (size_t i = 0; i < NUM_FLAGS; i++) {
    size_t n = strlen(flags[i].name);
    if (strncmp(arg, flags[i].name, n) != 0) continue;
    if (arg[n] == '\0') return &flags[i];
    if (arg[n] == '=' && flags[i].takes_value) {
      *value = arg + n + 1;
      return &flags[i];
    }
  }
  return NULL;
}

static Status check_pass(const char *flag, const char *name, Error *err) {
  if (pass_find(name)) return ST_OK;
  char list[512] = "";
  size_t off = 0;
  for (int i = 0; i < pass_count && off < sizeof list; i++)
    off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "",
                            pass_table[i].name);
  return err_set(err, ST_INVALID, "%s: unknown pass '%s' (passes: %s)", flag, name, list);
}

static Status parse_double(const char *flag, const char *s, double *out, Error *err) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*s == '\0' || *end || errno || !isfinite(v) || v < 0)
    return err_set(err, ST_INVALID, "%s wants a non-negative number, got '%s'", flag, s);
  *out = v;
  return ST_OK;
}

static Status parse_seed(const char *s, uint64_t *out, Error *err) {
  char *end;
  errno = 0;
  if (*s < '0' || *s > '9')
    return err_set(err, ST_INVALID, "--seed wants a non-negative integer, got '%s'", s);
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno)
    return err_set(err, ST_INVALID, "--seed wants a non-negative integer, got '%s'", s);
  *out = v;
  return ST_OK;
}

static Status add_input(CliOptions *o, const char *spec, Error *err) {
  const char *eq = strchr(spec, '=');
  if (!eq || eq == spec || eq[1] == '\0')
    return err_set(err, ST_INVALID, "--input wants NAME=FILE, got '%s'", spec);
  if (o->num_inputs == CLI_MAX_LIST)
    return err_set(err, ST_INVALID, "more than %d --input flags", CLI_MAX_LIST);
  size_t len = (size_t)(eq - spec);
  for (int i = 0; i < o->num_inputs; i++)
    if (o->inputs[i].name_len == len && memcmp(o->inputs[i].name, spec, len) == 0)
      return err_set(err, ST_INVALID, "--input for '%.*s' given twice", (int)len, spec);
  o->inputs[o->num_inputs++] = (InputSpec){spec, len, eq + 1};
  return ST_OK;
}

static Status add_to_list(const char *flag, const char **list, int *n, const char *v,
                          Error *err) {
  if (*n == CLI_MAX_LIST) return err_set(err, ST_INVALID, "more than %d %s flags", CLI_MAX_LIST, flag);
  TRY(check_pass(flag, v, err));
  list[(*n)++] = v;
  return ST_OK;
}

static Status apply_flag(CliOptions *o, const Flag *f, const char *v, Error *err) {
  switch (f->id) {
  case FL_INPUT_SHAPE:
    if (o->num_shapes == CLI_MAX_LIST)
      return err_set(err, ST_INVALID, "more than %d --input-shape flags", CLI_MAX_LIST);
    if (fe_parse_input_shape(v, &o->shapes[o->num_shapes], err) != ST_OK) {
      err->status = ST_INVALID; /* the frontend's message quotes the bad spec */
      return ST_INVALID;
    }
    o->num_shapes++;
    return ST_OK;
  case FL_PRINT_BEFORE:
    return add_to_list(f->name, o->print_before, &o->num_print_before, v, err);
  case FL_PRINT_AFTER:
    return add_to_list(f->name, o->print_after, &o->num_print_after, v, err);
  case FL_PRINT_AFTER_ALL: o->print_after_all = true; return ST_OK;
  case FL_TIME_PASSES: o->time_passes = true; return ST_OK;
  case FL_VERIFY_EACH: o->verify_each = true; return ST_OK;
  case FL_NO_VERIFY_EACH: o->verify_each = false; return ST_OK;
  case FL_STOP_AFTER:
    TRY(check_pass(f->name, v, err));
    o->stop_after = v;
    return ST_OK;
  case FL_FORMAT:
    if (strcmp(v, "text") == 0) o->dot = false;
    else if (strcmp(v, "dot") == 0) o->dot = true;
    else return err_set(err, ST_INVALID, "--format wants text or dot, got '%s'", v);
    return ST_OK;
  case FL_OUTPUT: o->output = v; return ST_OK;
  case FL_INPUT: return add_input(o, v, err);
  case FL_OUTPUT_DIR: o->output_dir = v; return ST_OK;
  case FL_EACH: o->each = true; return ST_OK;
  case FL_SEED: return parse_seed(v, &o->seed, err);
  case FL_RTOL: return parse_double(f->name, v, &o->rtol, err);
  case FL_ATOL: return parse_double(f->name, v, &o->atol, err);
  case FL_HEADER: o->header = v; return ST_OK;
  case FL_NAME: o->name = v; return ST_OK;
  case FL_TARGET: o->target = v; return ST_OK;
  case FL_MCPU: o->mcpu = v; return ST_OK;
  case FL_MATTR: o->mattr = v; return ST_OK;
  case FL_OPT0: o->opt_level = 0; return ST_OK;
  case FL_OPT1: o->opt_level = 1; return ST_OK;
  case FL_OPT2: o->opt_level = 2; return ST_OK;
  case FL_OPT3: o->opt_level = 3; return ST_OK;
  case FL_EMIT:
    if (strcmp(v, "obj") && strcmp(v, "asm") && strcmp(v, "llvm"))
      return err_set(err, ST_INVALID, "--emit wants obj, asm or llvm, got '%s'", v);
    o->emit = v;
    return ST_OK;
  case FL_WEIGHTS:
    if (!v[0])
      return err_set(err, ST_INVALID, "--weights wants embed or the path of a weights file");
    o->weights = v;
    return ST_OK;
  case FL_PRINT_MEMORY_PLAN: o->print_memory_plan = true; return ST_OK;
  case FL_PRINT_KERNELS: o->print_kernels = true; return ST_OK;
  case FL_REFERENCE_KERNELS: o->reference_kernels = true; return ST_OK;
  case FL_MIN_TASK: {
    TRY(parse_double(f->name, v, &o->min_task_us, err));
    if (!(o->min_task_us > 0) || o->min_task_us > 1e9)
      return err_set(err, ST_INVALID, "--min-task-us wants a number of microseconds > 0, got '%s'", v);
    return ST_OK;
  }
  case FL_SANITIZE:
    if (strcmp(v, "address") == 0) o->sanitize_address = true;
    else if (strcmp(v, "thread") == 0) o->sanitize_thread = true;
    else return err_set(err, ST_INVALID, "--sanitize wants address or thread, got '%s'", v);
    return ST_OK;
  }
  return err_set(err, ST_INTERNAL, "unhandled flag %s", f->name);
}

static int command_bit(Command c) {
  return c == CMD_DUMP ? F_DUMP : c == CMD_RUN ? F_RUN : c == CMD_VERIFY ? F_VERIFY : c == CMD_COMPILE ? F_COMPILE : 0;
}

static const char *command_names(int bits) {
  switch (bits) {
  case F_DUMP: return "dump";
  case F_RUN: return "run";
  case F_VERIFY: return "verify";
  case F_COMPILE: return "compile";
  case F_DUMP | F_COMPILE: return "dump and compile";
  case F_RUN | F_VERIFY: return "run and verify";
  default: return "every command";
  }
}

Status cli_parse(int argc, char **argv, CliOptions *o, CliAction *act, Error *err) {
  *o = (CliOptions){.seed = 1, .rtol = 1e-4, .atol = 1e-5, .opt_level = 3, .argc = argc, .argv = argv};
#ifdef ONNXC_DEBUG
  o->verify_each = true;
#endif
  *act = ACT_COMMAND;
  bool used[NUM_FLAGS] = {false};
  bool only_flags = false; /* after "--" */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_flags && strcmp(a, "--") == 0) {
      only_flags = true;
      continue;
    }
    if (only_flags || a[0] != '-' || a[1] == '\0') {
      if (o->command == CMD_NONE) {
        if (strcmp(a, "dump") == 0) o->command = CMD_DUMP;
        else if (strcmp(a, "run") == 0) o->command = CMD_RUN;
        else if (strcmp(a, "verify") == 0) o->command = CMD_VERIFY;
        else if (strcmp(a, "compile") == 0) o->command = CMD_COMPILE;
        else if (strcmp(a, "help") == 0) *act = ACT_HELP;
        else return err_set(err, ST_INVALID, "unknown command '%s' (commands: compile, dump, run, verify)", a);
        if (*act == ACT_HELP) return ST_OK;
      } else if (!o->model) {
        o->model = a;
      } else {
        return err_set(err, ST_INVALID, "unexpected argument '%s' (one model per command)", a);
      }
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      *act = ACT_HELP;
      return ST_OK;
    }
    if (strcmp(a, "--version") == 0) {
      *act = ACT_VERSION;
      return ST_OK;
    }
    if (strcmp(a, "--passes") == 0) {
      *act = ACT_LIST_PASSES;
      return ST_OK;
    }
    const char *v;
    const Flag *f = find_flag(a, &v);
    if (!f) return err_set(err, ST_INVALID, "unknown flag '%s'", a);
    if (f->takes_value && !v) {
      if (i + 1 >= argc) return err_set(err, ST_INVALID, "%s needs a value", f->name);
      v = argv[++i];
    }
    TRY(apply_flag(o, f, v, err));
    used[f - flags] = true;
  }
  if (o->command == CMD_NONE) return err_set(err, ST_INVALID, "no command given (compile, dump, run, verify)");
  if (!o->model) return err_set(err, ST_INVALID, "no model file given");
  for (size_t i = 0; i < NUM_FLAGS; i++)
    if (used[i] && !(flags[i].commands & command_bit(o->command)))
      return err_set(err, ST_INVALID, "%s is a flag of %s only", flags[i].name,
                     command_names(flags[i].commands));
  return ST_OK;
}

void cli_options_free(CliOptions *o) {
  for (int i = 0; i < o->num_shapes; i++) fe_input_shape_free(&o->shapes[i]);
  o->num_shapes = 0;
}
