/*
 * libFuzzer target: the command-line parser (driver/options.c) on argument
 * vectors made of the input split at NUL bytes, including the target checks
 * it runs through LLVM's tables.  Help text is printed (to /dev/null) when
 * asked for; no command runs.
 */
#include <stdlib.h>
#include <string.h>

#include "../driver/driver.h"
#include "fuzz.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *argv[MAX_ARGS + 2] = {"onnxc"};
  int argc = 1;
  for (size_t at = 0; at <= size && argc <= MAX_ARGS;) {
    argv[argc++] = text + at;
    at += strlen(text + at) + 1;
  }
  argv[argc] = NULL;
  CliOptions o;
  CliAction act;
  Error err;
  if (cli_parse(argc, argv, &o, &act, &err) == ST_OK && act == ACT_HELP)
    cli_print_help(fuzz_sink(), o.command);
  cli_options_free(&o);
  free(text);
  return 0;
}
