/*
 * Safe output files: clash checks by file identity, a private folder beside
 * each output, rename on success.  See outputs.h for the rules.
 */
#define _XOPEN_SOURCE 700 /* realpath, mkdtemp */
#include "outputs.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct OutputEntry {
  OutputEntry *next;
  const char *what;
  char *given;       /* the path as the user wrote it, for messages */
  bool exists;       /* identity: dev/ino when it exists, else canon */
  mode_t mode;
  dev_t dev;
  ino_t ino;
  char *canon;       /* resolved absolute path, NULL when unresolvable */
  /* outputs only */
  char *final_path;  /* where outputs_commit puts it */
  char *tmp_dir;     /* NULL: written in place (not a regular file) */
  char *tmp_path;    /* what the command writes */
  char *scratch_path; /* outputs_scratch: NULL or a file the command makes it from */
  char *scratch_dir;  /* the scratch file's own folder, when there is no tmp_dir */
  volatile sig_atomic_t done; /* renamed into place or removed */
};

/* The one live Outputs, for outputs_remove_unfinished. */
static Outputs *volatile live;

static char *join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *s = malloc(a + b + 2);
  if (!s) return NULL;
  memcpy(s, dir, a);
  s[a] = '/';
  memcpy(s + a + 1, name, b + 1);
  return s;
}

/* path -> malloc'ed folder ("." without a slash) and a pointer to the name. */
static char *folder_of(const char *path, const char **name) {
  const char *slash = strrchr(path, '/');
  *name = slash ? slash + 1 : path;
  if (!slash) return strdup(".");
  if (slash == path) return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

static void entry_free(OutputEntry *e) {
  free(e->given);
  free(e->canon);
  free(e->final_path);
  free(e->tmp_dir);
  free(e->tmp_path);
  free(e->scratch_path);
  free(e->scratch_dir);
  free(e);
}

/* Fills e's identity.  A missing file is identified by its resolved folder
 * and its name; a missing folder leaves canon NULL. */
static Status identify(OutputEntry *e, const char *path, Error *err) {
  struct stat sb;
  if (stat(path, &sb) == 0) {
    e->exists = true;
    e->mode = sb.st_mode;
    e->dev = sb.st_dev;
    e->ino = sb.st_ino;
    e->canon = realpath(path, NULL);
    return ST_OK;
  }
  const char *name;
  char *dir = folder_of(path, &name);
  if (!dir) return err_set(err, ST_NOMEM, "out of memory");
  char *real_dir = realpath(dir, NULL);
  free(dir);
  if (real_dir) {
    e->canon = join(real_dir, name);
    free(real_dir);
    if (!e->canon) return err_set(err, ST_NOMEM, "out of memory");
  }
  return ST_OK;
}

/* Devices and FIFOs never clash: `-o /dev/null --header /dev/null` destroys
 * nothing. */
static bool same_file(const OutputEntry *a, const OutputEntry *b) {
  if (a->exists && b->exists)
    return S_ISREG(a->mode) && a->dev == b->dev && a->ino == b->ino;
  if (a->exists != b->exists) return false;
  return a->canon && b->canon && strcmp(a->canon, b->canon) == 0;
}

static Status clash(const OutputEntry *out, const OutputEntry *other, bool other_is_output,
                    Error *err) {
  return err_set(err, ST_USAGE, "refusing to write %s to '%s': that is %s%s '%s'", out->what,
                 out->given, other_is_output ? "also " : "", other->what, other->given);
}

static OutputEntry *new_entry(const char *path, const char *what, Error *err) {
  OutputEntry *e = calloc(1, sizeof *e);
  if (e) e->given = strdup(path);
  if (!e || !e->given) {
    free(e);
    err_set(err, ST_NOMEM, "out of memory");
    return NULL;
  }
  e->what = what;
  return e;
}

static void append(OutputEntry **list, OutputEntry *e) {
  while (*list) list = &(*list)->next;
  *list = e;
}

/* Async-signal-safe (unlink, rmdir). */
static void remove_scratch(OutputEntry *e) {
  if (e->scratch_path) unlink(e->scratch_path);
  if (e->scratch_dir) rmdir(e->scratch_dir);
}

static void remove_unfinished_list(OutputEntry *e) {
  for (; e; e = e->next) {
    remove_scratch(e);
    if (e->done || !e->tmp_dir) continue;
    e->done = 1;
    unlink(e->tmp_path);
    rmdir(e->tmp_dir);
  }
}

void outputs_remove_unfinished(void) {
  Outputs *s = live;
  if (s) remove_unfinished_list(s->files);
}

static void on_signal(int sig) {
  outputs_remove_unfinished();
  signal(sig, SIG_DFL);
  raise(sig);
}

void outputs_init(Outputs *s) {
  *s = (Outputs){0};
  live = s;
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    /* Leave an ignored signal ignored (nohup). */
    if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
      sigaction(sigs[i], &sa, NULL);
  }
}

Status outputs_guard(Outputs *s, const char *path, const char *what, Error *err) {
  OutputEntry *e = new_entry(path, what, err);
  if (!e) return ST_NOMEM;
  Status st = identify(e, path, err);
  if (st != ST_OK || !e->exists) {
    entry_free(e);
    return st;
  }
  for (OutputEntry *o = s->files; o; o = o->next)
    if (same_file(o, e)) {
      st = clash(o, e, false, err);
      entry_free(e);
      return st;
    }
  append(&s->guarded, e);
  return ST_OK;
}

/* Where the output finally goes and the private folder beside it. */
static Status place(OutputEntry *e, const char *path, Error *err) {
  struct stat lsb;
  bool is_link = lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode);
  char *real = is_link ? realpath(path, NULL) : NULL; /* a dangling link is replaced */
  e->final_path = strdup(real ? real : path);
  free(real);
  if (!e->final_path) return err_set(err, ST_NOMEM, "out of memory");
  const char *name;
  char *dir = folder_of(e->final_path, &name);
  if (!dir) return err_set(err, ST_NOMEM, "out of memory");
  e->tmp_dir = join(dir, ".onnxc-XXXXXX");
  Status st = ST_OK;
  if (!e->tmp_dir) st = err_set(err, ST_NOMEM, "out of memory");
  else if (!mkdtemp(e->tmp_dir)) {
    st = err_set(err, ST_IO, "%s: cannot write %s there: %s", e->given, e->what, strerror(errno));
    free(e->tmp_dir);
    e->tmp_dir = NULL;
  } else if (!(e->tmp_path = join(e->tmp_dir, name))) {
    rmdir(e->tmp_dir);
    st = err_set(err, ST_NOMEM, "out of memory");
  }
  free(dir);
  return st;
}

Status outputs_add(Outputs *s, const char *path, const char *what, const char **write_path,
                   Error *err) {
  *write_path = NULL;
  if (!path[0]) return err_set(err, ST_USAGE, "%s: the path is empty", what);
  const char *name;
  char *dir = folder_of(path, &name);
  if (!dir) return err_set(err, ST_NOMEM, "out of memory");
  bool no_name = !name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
  struct stat dsb;
  bool dir_ok = stat(dir, &dsb) == 0 && S_ISDIR(dsb.st_mode);
  free(dir);
  if (no_name) return err_set(err, ST_USAGE, "%s: '%s' names a folder, not a file", what, path);
  if (!dir_ok)
    return err_set(err, ST_USAGE, "%s: the folder of '%s' does not exist", what, path);
  OutputEntry *e = new_entry(path, what, err);
  if (!e) return ST_NOMEM;
  Status st = identify(e, path, err);
  if (st == ST_OK && e->exists && S_ISDIR(e->mode))
    st = err_set(err, ST_USAGE, "%s: '%s' is a folder", what, path);
  for (OutputEntry *g = s->guarded; st == ST_OK && g; g = g->next)
    if (same_file(e, g)) st = clash(e, g, false, err);
  for (OutputEntry *o = s->files; st == ST_OK && o; o = o->next)
    if (same_file(e, o)) st = clash(e, o, true, err);
  if (st == ST_OK && e->exists && !S_ISREG(e->mode)) {
    e->tmp_path = strdup(path);
    if (!e->tmp_path) st = err_set(err, ST_NOMEM, "out of memory");
  } else if (st == ST_OK) {
    st = place(e, path, err);
  }
  if (st != ST_OK) {
    entry_free(e);
    return st;
  }
  append(&s->files, e);
  *write_path = e->tmp_path;
  return ST_OK;
}

Status outputs_scratch(Outputs *s, const char *write_path, const char *name,
                       const char **scratch_path, Error *err) {
  *scratch_path = NULL;
  OutputEntry *e = s->files;
  while (e && e->tmp_path != write_path) e = e->next;
  if (!e || e->scratch_path)
    return err_set(err, ST_INTERNAL, "outputs_scratch: not an output without scratch");
  const char *dir = e->tmp_dir;
  if (!dir) {
    const char *tmp = getenv("TMPDIR");
    e->scratch_dir = join(tmp && tmp[0] ? tmp : "/tmp", "onnxc-XXXXXX");
    if (!e->scratch_dir) return err_set(err, ST_NOMEM, "out of memory");
    if (!mkdtemp(e->scratch_dir)) {
      Status st = err_set(err, ST_IO, "%s: cannot make a scratch folder: %s", e->scratch_dir,
                          strerror(errno));
      free(e->scratch_dir);
      e->scratch_dir = NULL;
      return st;
    }
    dir = e->scratch_dir;
  }
  if (!(e->scratch_path = join(dir, name))) return err_set(err, ST_NOMEM, "out of memory");
  *scratch_path = e->scratch_path;
  return ST_OK;
}

Status outputs_commit(Outputs *s, Error *err) {
  for (OutputEntry *e = s->files; e; e = e->next) {
    remove_scratch(e);
    if (e->done || !e->tmp_dir) continue;
    if (rename(e->tmp_path, e->final_path) != 0) {
      Status st = err_set(err, ST_IO, "%s: cannot put %s in place: %s", e->given, e->what,
                          strerror(errno));
      return st;
    }
    rmdir(e->tmp_dir);
    e->done = 1;
  }
  return ST_OK;
}

void outputs_free(Outputs *s) {
  if (live == s) live = NULL;
  remove_unfinished_list(s->files);
  OutputEntry *lists[] = {s->guarded, s->files};
  for (int i = 0; i < 2; i++)
    for (OutputEntry *e = lists[i], *next; e; e = next) {
      next = e->next;
      entry_free(e);
    }
  *s = (Outputs){0};
}
