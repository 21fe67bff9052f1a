/*
 * Build-time tool: writes the man page onnxc.1 (troff, man macros) from
 * the option table in options.def, the same table the parser and --help
 * use, so the page always lists exactly the options onnxc accepts.
 *
 *   onnxc_gen_man_page OUT.1
 */
#include <stdio.h>
#include <string.h>

#include "driver.h"

/* Text for troff: '-' as \-, '\' as \e, and no line may start with '.' or '\''. */
static void put(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '-') fputs("\\-", f);
    else if (*s == '\\') fputs("\\e", f);
    else fputc(*s, f);
  }
}

static void put_option(FILE *f, const CliOption *opt) {
  char left[128];
  cli_option_synopsis(opt, left, sizeof left);
  fputs(".TP\n.B ", f);
  put(f, left);
  fputc('\n', f);
  put(f, opt->help);
  fputs(".\n", f);
}

static void put_options(FILE *f, int bits, bool exact_command) {
  for (int i = 0; i < cli_num_options; i++) {
    const CliOption *opt = &cli_options[i];
    bool every = (opt->commands & CMDS_ALL) == CMDS_ALL;
    if (exact_command ? (opt->commands & bits) && !every : (opt->commands & bits) == bits)
      put_option(f, opt);
  }
}

static void write_page(FILE *f) {
  fprintf(f, ".TH ONNXC 1 \"\" \"onnxc %s\" \"User Commands\"\n", ONNXC_VERSION);
  fputs(".\\\" Generated from driver/options.def by onnxc_gen_man_page. Do not edit.\n", f);
  fputs(".SH NAME\nonnxc \\- ahead-of-time compiler from ONNX vision models to an object "
        "file and a C header\n.SH SYNOPSIS\n", f);
  for (int c = 0; c < cli_num_commands; c++) {
    fprintf(f, ".B onnxc %s\n", cli_commands[c].name);
    put(f, cli_commands[c].arguments);
    fputs("\n.br\n", f);
  }
  fputs(".B onnxc\n\\-\\-help | \\-\\-version | \\-\\-passes\n", f);
  fputs(".SH DESCRIPTION\nonnxc loads an ONNX model, checks it, runs its pass pipeline over a "
        "graph with static shapes, and compiles it with LLVM into one object file with the "
        "weights embedded, plus a C header describing the entry point; the generated code "
        "never allocates.  It also prints, evaluates and verifies models with a reference "
        "evaluator.  Options may come before or after the model; an option that takes a value "
        "accepts both \\fB\\-\\-option=value\\fR and \\fB\\-\\-option value\\fR, and \\fB\\-\\-\\fR "
        "ends the options.\n.SH COMMANDS\n", f);
  for (int c = 0; c < cli_num_commands; c++) {
    fprintf(f, ".TP\n.B %s\n", cli_commands[c].name);
    put(f, cli_commands[c].summary);
    fputs(".\n", f);
  }
  fputs(".SH OPTIONS OF EVERY COMMAND\n", f);
  put_options(f, CMDS_ALL, false);
  for (int c = 0; c < cli_num_commands; c++) {
    fprintf(f, ".SH OPTIONS OF %s\n", cli_commands[c].name);
    put_options(f, CMDS_OF(cli_commands[c].id), true);
  }
  fputs(".SH OPTIONS WITHOUT A COMMAND\n", f);
  put_options(f, CMDS_GLOBAL, false);
  fputs(".SH EXIT STATUS\n.TP\n.B 0\nsuccess\n.TP\n.B 1\nbad input (unreadable or invalid "
        "model, wrong input file, unsupported op, a model over a resource limit) or a verify "
        "mismatch\n.TP\n.B 2\nusage error (unknown command or option, option of another "
        "command, bad option value, unknown target, CPU or feature, an output that would "
        "overwrite an input or another output)\n"
        ".PP\nErrors are printed on standard error as \\fBonnxc: \\fImessage\\fR.\n"
        ".SH FILES\nOutputs are written to a folder \\fI.onnxc\\-XXXXXX\\fR beside their "
        "final place and renamed there only when the command succeeds.\n"
        ".SH SEE ALSO\ndocs/CLI.md and docs/ABI.md in the onnxc sources.\n", f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: onnxc_gen_man_page OUT.1\n");
    return EXIT_USAGE;
  }
  FILE *f = fopen(argv[1], "w");
  if (!f) {
    perror(argv[1]);
    return EXIT_FAIL;
  }
  write_page(f);
  if (fclose(f) != 0) {
    perror(argv[1]);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}
