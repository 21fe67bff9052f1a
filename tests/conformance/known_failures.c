/*
 * The known-failures list: tests that are allowed to fail for a stated
 * reason.  One `test_name<TAB>reason` per line; the runner's exit status is 0
 * exactly when every failing test is listed here.
 */
#include "conformance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_MAX_LINE 4096
#define KNOWN_MAX_ENTRIES 100000

Status conf_known_load(const char *path, KnownFailures *k, Error *err) {
  *k = (KnownFailures){0};
  FILE *f = fopen(path, "r");
  if (!f) return err_set(err, ST_IO, "%s: cannot open known-failures file", path);
  char line[KNOWN_MAX_LINE];
  int cap = 0, lineno = 0;
  Status st = ST_OK;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f)) {
      st = err_set(err, ST_PARSE, "%s:%d: line longer than %d bytes", path, lineno,
                   KNOWN_MAX_LINE - 2);
      break;
    }
    size_t len = strcspn(line, "\t\r\n");
    while (len > 0 && line[len - 1] == ' ') len--;
    if (len == 0 || line[0] == '#') continue;
    if (k->count == cap) {
      if (cap >= KNOWN_MAX_ENTRIES) {
        st = err_set(err, ST_NOMEM, "%s: more than %d entries", path, KNOWN_MAX_ENTRIES);
        break;
      }
      int ncap = cap ? cap * 2 : 64;
      char **nn = realloc(k->names, (size_t)ncap * sizeof *nn);
      if (!nn) {
        st = err_set(err, ST_NOMEM, "out of memory");
        break;
      }
      k->names = nn;
      cap = ncap;
    }
    char *name = malloc(len + 1);
    if (!name) {
      st = err_set(err, ST_NOMEM, "out of memory");
      break;
    }
    memcpy(name, line, len);
    name[len] = '\0';
    k->names[k->count++] = name;
  }
  fclose(f);
  if (st != ST_OK) conf_known_free(k);
  return st;
}

bool conf_known_contains(const KnownFailures *k, const char *name) {
  for (int i = 0; i < k->count; i++)
    if (strcmp(k->names[i], name) == 0) return true;
  return false;
}

void conf_known_free(KnownFailures *k) {
  for (int i = 0; i < k->count; i++) free(k->names[i]);
  free(k->names);
  *k = (KnownFailures){0};
}

Status conf_known_append(const char *path, KnownFailures *k, Error *err) {
  KnownFailures more;
  TRY(conf_known_load(path, &more, err));
  if (more.count == 0) return ST_OK;
  char **nn = realloc(k->names, ((size_t)k->count + (size_t)more.count) * sizeof *nn);
  if (!nn) {
    conf_known_free(&more);
    return err_set(err, ST_NOMEM, "out of memory");
  }
  k->names = nn;
  memcpy(k->names + k->count, more.names, (size_t)more.count * sizeof *nn);
  k->count += more.count;
  free(more.names); /* the strings now belong to k */
  return ST_OK;
}
