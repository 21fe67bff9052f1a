/*
 * `onnxc --help`, `onnxc COMMAND --help` and `onnxc --version`.  The help
 * is printed from the table in options.def, one line per option, so it
 * lists exactly what the parser accepts (the man page is made from the same
 * table by gen_man_page.c).
 */
#include <llvm-c/Core.h>
#include <string.h>

#include "../targets/target_check.h"
#include "driver.h"

void cli_option_synopsis(const CliOption *opt, char *buf, size_t size) {
  const char *v = opt->value;
  const char *sep = !v ? "" : v[0] == '=' ? "" : " ";
  if (opt->alias)
    snprintf(buf, size, "%s%s%s, %s%s%s", opt->alias, sep, v ? v : "", opt->spelling, sep,
             v ? v : "");
  else snprintf(buf, size, "%s%s%s", opt->spelling, sep, v ? v : "");
}

static void print_options(FILE *f, int bits) {
  for (int i = 0; i < cli_num_options; i++) {
    const CliOption *opt = &cli_options[i];
    if ((opt->commands & bits) != bits) continue;
    char left[96];
    cli_option_synopsis(opt, left, sizeof left);
    fprintf(f, "  %-30s %s\n", left, opt->help);
  }
}

/* Options of exactly this command (not the ones every command has). */
static void print_command_options(FILE *f, Command c) {
  for (int i = 0; i < cli_num_options; i++) {
    const CliOption *opt = &cli_options[i];
    if (!(opt->commands & CMDS_OF(c)) || (opt->commands & CMDS_ALL) == CMDS_ALL) continue;
    char left[96];
    cli_option_synopsis(opt, left, sizeof left);
    fprintf(f, "  %-30s %s\n", left, opt->help);
  }
}

static const char exit_status[] =
    "exit status: 0 success, 1 bad input or verification mismatch, 2 usage error\n";

static void print_one_command(FILE *f, const CliCommand *c) {
  fprintf(f, "usage: onnxc %s %s\n\n%s.\n\noptions of %s:\n", c->name, c->arguments, c->summary,
          c->name);
  print_command_options(f, c->id);
  fputs("\noptions of every command:\n", f);
  print_options(f, CMDS_ALL);
  fprintf(f, "\n%s", exit_status);
}

void cli_print_help(FILE *f, Command command) {
  for (int c = 0; c < cli_num_commands; c++)
    if (cli_commands[c].id == command) {
      print_one_command(f, &cli_commands[c]);
      return;
    }
  fputs("usage: onnxc COMMAND MODEL.onnx [options]\n"
        "       onnxc COMMAND --help\n"
        "       onnxc --help | --version | --passes\n"
        "\n"
        "onnxc compiles ONNX vision models ahead of time into one object file plus a C\n"
        "header; it also loads, checks, optimizes and evaluates them with a reference\n"
        "evaluator.\n"
        "\ncommands:\n",
        f);
  for (int c = 0; c < cli_num_commands; c++)
    fprintf(f, "  %-8s %s\n", cli_commands[c].name, cli_commands[c].summary);
  fputs("\noptions of every command:\n", f);
  print_options(f, CMDS_ALL);
  for (int c = 0; c < cli_num_commands; c++) {
    fprintf(f, "\n%s:\n", cli_commands[c].name);
    print_command_options(f, cli_commands[c].id);
  }
  fputs("\nwithout a command:\n", f);
  print_options(f, CMDS_GLOBAL);
  fprintf(f, "\n%s", exit_status);
}

void cli_print_version(FILE *f) {
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  fprintf(f, "onnxc %s\nLLVM %u.%u.%u\ntargets:\n", ONNXC_VERSION, major, minor, patch);
  tgt_print_supported(f, "  ");
}
