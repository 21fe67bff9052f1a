/*
 * onnxc: the command-line driver.  Parses the command line (options.c),
 * dispatches to one command (cmd_compile.c, cmd_dump.c, cmd_run.c, cmd_verify.c, cmd_profile.c) and is the
 * only place that prints errors and chooses the exit status:
 *   0 success, 1 bad input or verification mismatch, 2 usage error
 * (a parse error, or a command's ST_USAGE such as an output that would
 * overwrite the model).  Errors are printed as `onnxc: <message>` on stderr.
 */
#include <stdio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "driver.h"

static void list_passes(FILE *f) {
  for (int i = 0; i < pass_count; i++)
    fprintf(f, "%-16s %s\n", pass_table[i].name, pass_table[i].summary);
}

int main(int argc, char **argv) {
#if defined(__GLIBC__)
  /* Weights are freed one by one as their module copies are made.  glibc
   * raises its mmap threshold to the size of each large block freed, so
   * the next ones came from the heap, whose freed middle is never given
   * back: the weights' graph copies and module copies piled up (ViT-B/16
   * peaked 190 MB higher).  A fixed threshold keeps blocks of 1 MiB and up
   * in their own mappings, returned to the system when freed. */
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  drv_install_llvm_fatal_handler();
  CliOptions o;
  CliAction act;
  Error err = {0};
  if (cli_parse(argc, argv, &o, &act, &err) != ST_OK) {
    fprintf(stderr, "onnxc: %s\n", err.msg);
    if (o.command != CMD_NONE)
      fprintf(stderr, "try 'onnxc %s --help'\n", cli_commands[o.command - 1].name);
    else fprintf(stderr, "try 'onnxc --help'\n");
    cli_options_free(&o);
    return EXIT_USAGE;
  }
  int rc = EXIT_OK;
  Status st = ST_OK;
  switch (act) {
  case ACT_HELP: cli_print_help(stdout, o.command); break;
  case ACT_VERSION: cli_print_version(stdout); break;
  case ACT_LIST_PASSES: list_passes(stdout); break;
  case ACT_COMMAND:
    switch (o.command) {
    case CMD_DUMP: st = cmd_dump(&o, &err); break;
    case CMD_RUN: st = cmd_run(&o, &err); break;
    case CMD_VERIFY: st = cmd_verify(&o, &err); break;
    case CMD_COMPILE: st = cmd_compile(&o, &err); break;
    case CMD_PROFILE: st = cmd_profile(&o, &err); break;
    case CMD_NONE:
    case CMD_COUNT: st = err_set(&err, ST_INTERNAL, "no command"); break;
    }
    break;
  }
  if (st != ST_OK) {
    fflush(stdout);
    fprintf(stderr, "onnxc: %s\n", err.msg);
    rc = st == ST_USAGE ? EXIT_USAGE : EXIT_FAIL;
  }
  cli_options_free(&o);
  return rc;
}
