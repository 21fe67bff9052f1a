/*
 * Command-line parsing for onnxc: argv -> CliOptions, driven by the table
 * in options.def.
 *
 * Grammar: onnxc [--help|--version|--passes] COMMAND MODEL [flags...]
 * Flags may come before or after MODEL; a flag that takes a value accepts
 * both `--flag=value` and `--flag value`.  Every mistake the command line
 * alone shows (unknown flag, flag of another command, empty or malformed
 * value, unknown pass, a print flag for a pass --stop-after never reaches,
 * a target LLVM or onnxc does not know) is ST_INVALID with a message, which
 * main turns into exit status 2 before any model is read.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../targets/target_check.h"
#include "driver.h"

typedef enum FlagId {
#define COMMAND(id, name, arguments, summary)
#define OPTION(id, spelling, alias, value, commands, help) FL_##id,
#include "options.def"
#undef COMMAND
#undef OPTION
  FL_COUNT
} FlagId;

const CliOption cli_options[] = {
#define COMMAND(id, name, arguments, summary)
#define OPTION(id, spelling, alias, value, commands, help) {spelling, alias, value, commands, help},
#include "options.def"
#undef COMMAND
#undef OPTION
};
const int cli_num_options = FL_COUNT;
_Static_assert(sizeof cli_options / sizeof cli_options[0] == FL_COUNT, "option table out of sync");

const CliCommand cli_commands[] = {
#define COMMAND(id, name, arguments, summary) {CMD_##id, name, arguments, summary},
#define OPTION(id, spelling, alias, value, commands, help)
#include "options.def"
#undef COMMAND
#undef OPTION
};
const int cli_num_commands = CMD_COUNT - 1;

static bool spelled(const CliOption *opt, const char *arg, size_t n) {
  return (strlen(opt->spelling) == n && strncmp(arg, opt->spelling, n) == 0) ||
         (opt->alias && strlen(opt->alias) == n && strncmp(arg, opt->alias, n) == 0);
}

/* The row for arg ("--flag" or "--flag=value"), preferring one of command
 * when the same spelling has a row per command group. */
static int find_flag(const char *arg, Command command, const char **value) {
  size_t n = strcspn(arg, "=");
  int found = -1;
  for (int i = 0; i < FL_COUNT; i++) {
    if (!spelled(&cli_options[i], arg, n)) continue;
    if (arg[n] == '=' && !cli_options[i].value) continue;
    if (found < 0 || (cli_options[i].commands & CMDS_OF(command))) found = i;
  }
  *value = found >= 0 && arg[n] == '=' ? arg + n + 1 : NULL;
  return found;
}

/* Every command any row of this spelling belongs to. */
static int commands_of_spelling(const char *spelling) {
  int bits = 0;
  for (int i = 0; i < FL_COUNT; i++)
    if (spelled(&cli_options[i], spelling, strlen(spelling))) bits |= cli_options[i].commands;
  return bits;
}

static void command_list(int bits, char *buf, size_t size) {
  size_t at = 0;
  int k = 0;
  buf[0] = '\0';
  if ((bits & CMDS_ALL) == CMDS_ALL) {
    snprintf(buf, size, "every command");
    return;
  }
  for (int c = 0; c < cli_num_commands && at < size; c++)
    if (bits & CMDS_OF(cli_commands[c].id))
      at += (size_t)snprintf(buf + at, size - at, "%s%s", k++ ? " and " : "", cli_commands[c].name);
}

static int pass_index(const char *name) {
  for (int i = 0; i < pass_count; i++)
    if (strcmp(pass_table[i].name, name) == 0) return i;
  return -1;
}

static Status check_pass(const char *flag, const char *name, Error *err) {
  if (pass_index(name) >= 0) return ST_OK;
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

/* "4096", "64K", "512M", "2G" (powers of 1024); at least 1 KiB. */
static Status parse_bytes(const char *flag, const char *s, size_t *out, Error *err) {
  char *end;
  errno = 0;
  unsigned long long v = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
  if (*s < '0' || *s > '9' || errno) goto bad;
  int shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10;
  else if (*end == 'M' || *end == 'm') shift = 20;
  else if (*end == 'G' || *end == 'g') shift = 30;
  else if (*end) goto bad;
  if (shift && end[1]) goto bad;
  if (v > (SIZE_MAX >> shift) || (v << shift) < 1024) goto bad;
  *out = (size_t)(v << shift);
  return ST_OK;
bad:
  return err_set(err, ST_INVALID, "%s wants a size in bytes of at least 1K (e.g. 4096, 512M, "
                 "2G), got '%s'", flag, s);
}

static Status check_identifier(const char *s, Error *err) {
  bool ok = s[0] && !(s[0] >= '0' && s[0] <= '9');
  for (const char *p = s; *p && ok; p++)
    ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
         *p == '_';
  if (!ok || strlen(s) > 100)
    return err_set(err, ST_INVALID, "--name '%s' is not a C identifier (letters, digits, _, "
                   "not starting with a digit; at most 100 characters)", s);
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

static Status add_input_shape(CliOptions *o, const char *spec, Error *err) {
  if (o->num_shapes == CLI_MAX_LIST)
    return err_set(err, ST_INVALID, "more than %d --input-shape flags", CLI_MAX_LIST);
  InputShape *s = &o->shapes[o->num_shapes];
  if (fe_parse_input_shape(spec, s, err) != ST_OK) {
    err->status = ST_INVALID; /* the frontend's message quotes the bad spec */
    return ST_INVALID;
  }
  o->num_shapes++;
  for (int i = 0; i < o->num_shapes - 1; i++)
    if (strcmp(o->shapes[i].name, s->name) == 0)
      return err_set(err, ST_INVALID, "--input-shape '%s' and --input-shape '%s' both set the "
                     "shape of input '%s': give it once", o->shape_specs[i], spec, s->name);
  o->shape_specs[o->num_shapes - 1] = spec;
  return ST_OK;
}

static Status add_to_list(const char *flag, const char **list, int *n, const char *v,
                          Error *err) {
  if (*n == CLI_MAX_LIST) return err_set(err, ST_INVALID, "more than %d %s flags", CLI_MAX_LIST, flag);
  TRY(check_pass(flag, v, err));
  list[(*n)++] = v;
  return ST_OK;
}

static Status apply_flag(CliOptions *o, FlagId id, const char *flag, const char *v, Error *err) {
  switch (id) {
  case FL_INPUT_SHAPE: return add_input_shape(o, v, err);
  case FL_MAX_TENSOR_BYTES: return parse_bytes(flag, v, &o->max_tensor_bytes, err);
  case FL_PRINT_BEFORE: return add_to_list(flag, o->print_before, &o->num_print_before, v, err);
  case FL_PRINT_AFTER: return add_to_list(flag, o->print_after, &o->num_print_after, v, err);
  case FL_PRINT_AFTER_ALL: o->print_after_all = true; return ST_OK;
  case FL_TIME_PASSES: o->time_passes = true; return ST_OK;
  case FL_QUIET: o->quiet = true; return ST_OK;
  case FL_VERIFY_EACH: o->verify_each = true; return ST_OK;
  case FL_NO_VERIFY_EACH: o->verify_each = false; return ST_OK;
  case FL_STOP_AFTER:
    TRY(check_pass(flag, v, err));
    o->stop_after = v;
    return ST_OK;
  case FL_FORMAT:
    if (strcmp(v, "text") == 0) o->dot = false;
    else if (strcmp(v, "dot") == 0) o->dot = true;
    else return err_set(err, ST_INVALID, "--format wants text or dot, got '%s'", v);
    return ST_OK;
  case FL_OUTPUT_COMPILE:
  case FL_OUTPUT_DUMP: o->output = v; return ST_OK;
  case FL_INPUT_RUN:
  case FL_INPUT_VERIFY: return add_input(o, v, err);
  case FL_OUTPUT_DIR: o->output_dir = v; return ST_OK;
  case FL_EACH: o->each = true; return ST_OK;
  case FL_SEED: return parse_seed(v, &o->seed, err);
  case FL_RTOL: return parse_double(flag, v, &o->rtol, err);
  case FL_ATOL: return parse_double(flag, v, &o->atol, err);
  case FL_HEADER: o->header = v; return ST_OK;
  case FL_NAME:
    TRY(check_identifier(v, err));
    o->name = v;
    return ST_OK;
  case FL_TARGET: o->target = v; return ST_OK;
  case FL_MCPU: o->mcpu = v; return ST_OK;
  case FL_MATTR: o->mattr = v; return ST_OK;
  case FL_OPT0: o->opt_level = 0; return ST_OK;
  case FL_OPT1: o->opt_level = 1; return ST_OK;
  case FL_OPT2: o->opt_level = 2; return ST_OK;
  case FL_OPT3: o->opt_level = 3; return ST_OK;
  case FL_EMIT:
    if (strcmp(v, "obj") && strcmp(v, "asm") && strcmp(v, "llvm") && strcmp(v, "shared"))
      return err_set(err, ST_INVALID, "--emit wants obj, shared, asm or llvm, got '%s'", v);
    o->emit = v;
    return ST_OK;
  case FL_WEIGHTS: o->weights = v; return ST_OK;
  case FL_PRINT_MEMORY_PLAN: o->print_memory_plan = true; return ST_OK;
  case FL_PRINT_KERNELS: o->print_kernels = true; return ST_OK;
  case FL_REFERENCE_KERNELS: o->reference_kernels = true; return ST_OK;
  case FL_SANITIZE:
    if (strcmp(v, "address") == 0) o->sanitize_address = true;
    else if (strcmp(v, "thread") == 0) o->sanitize_thread = true;
    else return err_set(err, ST_INVALID, "--sanitize wants address or thread, got '%s'", v);
    return ST_OK;
  case FL_RUNS:
  case FL_THREADS: {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    long most = id == FL_RUNS ? 100000 : 1024;
    if (!*v || *end || errno || n < 1 || n > most)
      return err_set(err, ST_INVALID, "%s wants a whole number from 1 to %ld, got '%s'", flag, most, v);
    if (id == FL_RUNS) o->runs = (int)n;
    else o->threads = (int)n;
    return ST_OK;
  }
  case FL_TRACE: o->trace = v; return ST_OK;
  case FL_PROFILE: o->profile = true; return ST_OK;
  case FL_MIN_TASK_US: {
    char *end;
    errno = 0;
    double us = strtod(v, &end);
    if (!*v || *end || errno || !(us > 0) || us > 1e9)
      return err_set(err, ST_INVALID, "--min-task-us wants a number of microseconds > 0, got '%s'", v);
    o->min_task_us = us;
    return ST_OK;
  }
  case FL_HELP:
  case FL_VERSION:
  case FL_PASSES:
  case FL_COUNT: break; /* handled by cli_parse */
  }
  return err_set(err, ST_INTERNAL, "unhandled flag %s", flag);
}

static Command command_named(const char *a) {
  for (int c = 0; c < cli_num_commands; c++)
    if (strcmp(a, cli_commands[c].name) == 0) return cli_commands[c].id;
  return CMD_NONE;
}

/* A print flag for a pass that --stop-after never reaches prints nothing:
 * almost certainly a mistake in the command line. */
static Status check_print_flags_run(const CliOptions *o, Error *err) {
  if (!o->stop_after) return ST_OK;
  int stop = pass_index(o->stop_after);
  for (int i = 0; i < o->num_print_before; i++)
    if (pass_index(o->print_before[i]) > stop)
      return err_set(err, ST_INVALID, "--print-ir-before=%s never prints: --stop-after=%s ends "
                     "the pipeline before %s runs", o->print_before[i], o->stop_after,
                     o->print_before[i]);
  for (int i = 0; i < o->num_print_after; i++)
    if (pass_index(o->print_after[i]) > stop)
      return err_set(err, ST_INVALID, "--print-ir-after=%s never prints: --stop-after=%s ends "
                     "the pipeline before %s runs", o->print_after[i], o->stop_after,
                     o->print_after[i]);
  return ST_OK;
}

/* `onnxc compile --help`, `onnxc --help run`, `onnxc help verify`. */
static void help_command(int argc, char **argv, CliOptions *o) {
  for (int i = 1; i < argc && o->command == CMD_NONE; i++) o->command = command_named(argv[i]);
}

Status cli_parse(int argc, char **argv, CliOptions *o, CliAction *act, Error *err) {
  *o = (CliOptions){.seed = 1, .rtol = 1e-4, .atol = 1e-5, .opt_level = 3, .argc = argc,
                    .argv = argv, .max_tensor_bytes = CLI_DEFAULT_MAX_TENSOR_BYTES};
#ifdef ONNXC_DEBUG
  o->verify_each = true;
#endif
  *act = ACT_COMMAND;
  bool used[FL_COUNT] = {false};
  bool only_args = false; /* after "--" */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_args && strcmp(a, "--") == 0) {
      only_args = true;
      continue;
    }
    if (only_args || a[0] != '-' || a[1] == '\0') {
      if (o->command == CMD_NONE) {
        if (strcmp(a, "help") == 0) {
          *act = ACT_HELP;
          help_command(argc, argv, o);
          return ST_OK;
        }
        o->command = command_named(a);
        if (o->command == CMD_NONE)
          return err_set(err, ST_INVALID, "unknown command '%s' (commands: compile, dump, run, "
                         "verify)", a);
      } else if (!o->model) {
        o->model = a;
      } else {
        return err_set(err, ST_INVALID, "unexpected argument '%s' (one model per command)", a);
      }
      continue;
    }
    const char *v;
    int f = find_flag(a, o->command, &v);
    if (f < 0) return err_set(err, ST_INVALID, "unknown flag '%s'", a);
    if (f == FL_HELP || f == FL_VERSION || f == FL_PASSES) {
      *act = f == FL_HELP ? ACT_HELP : f == FL_VERSION ? ACT_VERSION : ACT_LIST_PASSES;
      if (f == FL_HELP) help_command(argc, argv, o);
      return ST_OK;
    }
    const char *flag = cli_options[f].spelling;
    if (cli_options[f].value && !v) {
      if (i + 1 >= argc) return err_set(err, ST_INVALID, "%s needs a value", flag);
      v = argv[++i];
    }
    if (v && !v[0]) return err_set(err, ST_INVALID, "%s needs a value, got an empty one", flag);
    TRY(apply_flag(o, (FlagId)f, flag, v, err));
    used[f] = true;
  }
  if (o->command == CMD_NONE) return err_set(err, ST_INVALID, "no command given (compile, dump, run, verify, profile)");
  if (!o->model) return err_set(err, ST_INVALID, "no model file given");
  for (int i = 0; i < FL_COUNT; i++) {
    int bits = commands_of_spelling(cli_options[i].spelling);
    if (used[i] && !(bits & CMDS_OF(o->command))) {
      char list[64];
      command_list(bits, list, sizeof list);
      return err_set(err, ST_INVALID, "%s is a flag of %s only", cli_options[i].spelling, list);
    }
  }
  TRY(check_print_flags_run(o, err));
  if (o->command == CMD_COMPILE || o->command == CMD_PROFILE)
    TRY(tgt_check(o->target, o->mcpu, o->mattr, NULL, err));
  return ST_OK;
}

void cli_options_free(CliOptions *o) {
  for (int i = 0; i < o->num_shapes; i++) fe_input_shape_free(&o->shapes[i]);
  o->num_shapes = 0;
}
