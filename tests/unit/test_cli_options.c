/*
 * docs/CLI.md and the option table (driver/options.def) describe the same
 * options: every flag in a CLI.md flag table exists in the table for that
 * section's command, and every row of the table (spelling and alias) is
 * documented in the section of each command it belongs to.  Sections:
 * "Flags for every command", "`onnxc compile`" (and the other commands),
 * "Other flags" (the ones without a command); the conformance runner's
 * section at the end documents another program and is not read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"

#define MAX_DOCUMENTED 256

typedef struct Documented {
  char flag[64];
  int section; /* CMDS_* bits of the section it is documented in */
  int line;
} Documented;

static Documented docs[MAX_DOCUMENTED];
static int num_docs;

static int section_of(const char *heading) {
  if (strstr(heading, "Flags for every command")) return CMDS_ALL;
  if (strstr(heading, "Other flags")) return CMDS_GLOBAL;
  for (int c = 0; c < cli_num_commands; c++) {
    char want[64];
    snprintf(want, sizeof want, "`onnxc %s`", cli_commands[c].name);
    if (strstr(heading, want)) return CMDS_OF(cli_commands[c].id);
  }
  return 0;
}

/* Flags named in the first cell of a table row: `-o FILE`, `--output=FILE`. */
static void read_row(const char *row, int section, int line) {
  const char *end = strstr(row + 1, " |");
  if (!end) return;
  for (const char *p = row; p < end && (p = strchr(p, '`')) && p < end;) {
    const char *close = strchr(p + 1, '`');
    if (!close || close > end) break;
    if (p[1] == '-') {
      size_t n = strcspn(p + 1, "= `");
      assert_true(num_docs < MAX_DOCUMENTED);
      snprintf(docs[num_docs].flag, sizeof docs[num_docs].flag, "%.*s", (int)n, p + 1);
      docs[num_docs].section = section;
      docs[num_docs].line = line;
      num_docs++;
    }
    p = close + 1;
  }
}

static void read_cli_md(void) {
  FILE *f = fopen(ONNXC_SOURCE_DIR "/docs/CLI.md", "r");
  assert_non_null(f);
  char buf[4096];
  int section = 0, line = 0;
  num_docs = 0;
  while (fgets(buf, sizeof buf, f)) {
    line++;
    if (strncmp(buf, "## The conformance runner", 25) == 0) break;
    if (strncmp(buf, "## ", 3) == 0) section = section_of(buf);
    else if (section && strncmp(buf, "| `-", 4) == 0) read_row(buf, section, line);
  }
  fclose(f);
  assert_true(num_docs >= 30);
}

static bool spells(const CliOption *o, const char *flag) {
  return strcmp(o->spelling, flag) == 0 || (o->alias && strcmp(o->alias, flag) == 0);
}

/* The commands a documented section needs a row to cover. */
static bool row_covers(const CliOption *o, int section) {
  return (o->commands & section) == section;
}

static void every_documented_flag_exists(void **state) {
  (void)state;
  read_cli_md();
  for (int i = 0; i < num_docs; i++) {
    bool found = false;
    for (int k = 0; k < cli_num_options && !found; k++)
      found = spells(&cli_options[k], docs[i].flag) && row_covers(&cli_options[k], docs[i].section);
    if (!found)
      fail_msg("docs/CLI.md:%d documents %s, which the option table has not for that section",
               docs[i].line, docs[i].flag);
  }
}

static bool documented(const char *flag, int section) {
  for (int i = 0; i < num_docs; i++)
    if (strcmp(docs[i].flag, flag) == 0 && docs[i].section == section) return true;
  return false;
}

static void every_option_is_documented(void **state) {
  (void)state;
  read_cli_md();
  for (int k = 0; k < cli_num_options; k++) {
    const CliOption *o = &cli_options[k];
    const char *names[2] = {o->spelling, o->alias};
    for (int n = 0; n < 2 && names[n]; n++) {
      if (o->commands & CMDS_GLOBAL) {
        if (!documented(names[n], CMDS_GLOBAL))
          fail_msg("%s is not in docs/CLI.md's \"Other flags\"", names[n]);
      } else if ((o->commands & CMDS_ALL) == CMDS_ALL) {
        if (!documented(names[n], CMDS_ALL))
          fail_msg("%s is not in docs/CLI.md's \"Flags for every command\"", names[n]);
      } else {
        for (int c = 0; c < cli_num_commands; c++)
          if ((o->commands & CMDS_OF(cli_commands[c].id)) &&
              !documented(names[n], CMDS_OF(cli_commands[c].id)))
            fail_msg("%s is not in docs/CLI.md's `onnxc %s` section", names[n],
                     cli_commands[c].name);
      }
    }
  }
}

/* The help text and the man page come from the table: spot-check that the
 * generated man page (built next to onnxc) lists every spelling. */
static void man_page_lists_every_option(void **state) {
  (void)state;
  FILE *f = fopen(ONNXC_BINARY_DIR "/onnxc.1", "r");
  assert_non_null(f);
  static char page[1 << 16];
  size_t n = fread(page, 1, sizeof page - 1, f);
  page[n] = '\0';
  fclose(f);
  for (int k = 0; k < cli_num_options; k++) {
    /* troff spells '-' as "\-". */
    char want[128] = ".B ";
    size_t at = 3;
    for (const char *p = cli_options[k].alias ? cli_options[k].alias : cli_options[k].spelling;
         *p && at + 3 < sizeof want; p++) {
      if (*p == '-') want[at++] = '\\';
      want[at++] = *p;
    }
    want[at] = '\0';
    if (!strstr(page, want)) fail_msg("onnxc.1 lacks '%s'", want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_documented_flag_exists),
      cmocka_unit_test(every_option_is_documented),
      cmocka_unit_test(man_page_lists_every_option),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
