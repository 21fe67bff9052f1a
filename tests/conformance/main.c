/*
 * onnxc_conformance [--filter SUBSTRING]... [--verbose] [--known-failures FILE]
 *                   [--timeout SECONDS] [--no-fork] [--no-freeze] DIR...
 *
 * Every folder under each DIR that holds a model.onnx is one test (a DIR that
 * itself holds model.onnx is one test too), run in sorted order.  Each test
 * runs in a child process, so a crash, a hang or a sanitizer report fails
 * that test only.  Prints `PASS|FAIL|SKIP name ...` per test, notes about the
 * known-failures list, and `N passed, M failed, K skipped` as the last line.
 * Exit status: 0 when every failing test is in the known-failures list,
 * 1 otherwise or when no test matched, 2 on a usage error or an unreadable DIR.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance.h"

#define MAX_FILTERS 64

typedef struct Options {
  const char *filters[MAX_FILTERS];
  int num_filters;
  bool verbose;
  bool no_fork;
  bool no_freeze;
  unsigned timeout;
  const char *known_path;
} Options;

typedef struct Totals {
  int passed, failed, skipped;
  int unexpected;    /* failures not in the known list */
  double eval_seconds;
  char **now_passing; /* listed tests that passed */
  int num_now_passing;
} Totals;

static void usage(FILE *f) {
  fprintf(f,
          "usage: onnxc_conformance [--filter SUBSTRING] [--verbose] [--known-failures FILE]\n"
          "                         [--timeout SECONDS] [--no-fork] [--no-freeze] DIR...\n"
          "Runs every ONNX node test folder (model.onnx + test_data_set_0/) under each DIR\n"
          "through the frontend, the pass pipeline and the reference evaluator.\n"
          "  --filter S          only tests whose name contains S (repeatable: any matches)\n"
          "  --verbose           per-output details and the evaluator's total time on stderr\n"
          "  --known-failures F  tests allowed to fail, one `name<TAB>reason` per line\n"
          "  --timeout N         seconds before a test counts as hung (default 300)\n"
          "  --no-fork           run tests in this process (for a debugger)\n"
          "  --no-freeze         never bind shape-determining test inputs (pads, shape,\n"
          "                      Range limits) as constants when the pipeline needs them\n");
}

static bool is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static const char *base_name(const char *path) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--;
  const char *p = path + n;
  while (p > path && p[-1] != '/') p--;
  return p;
}

static bool selected(const Options *o, const char *name) {
  if (o->num_filters == 0) return true;
  for (int i = 0; i < o->num_filters; i++)
    if (strstr(name, o->filters[i])) return true;
  return false;
}

/* Reads exactly n bytes unless the writer went away first. */
static size_t read_full(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, (char *)buf + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += (size_t)k;
  }
  return got;
}

static void write_full(int fd, const void *buf, size_t n) {
  size_t put = 0;
  while (put < n) {
    ssize_t k = write(fd, (const char *)buf + put, n - put);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    put += (size_t)k;
  }
}

/* Runs one test in a child; the child's fate becomes part of the result. */
static void run_forked(const Options *o, const char *dir, TestResult *r) {
  int fds[2];
  fflush(stdout);
  fflush(stderr);
  if (pipe(fds) != 0) {
    *r = (TestResult){.kind = RESULT_FAIL};
    snprintf(r->reason, sizeof r->reason, "pipe: %s", strerror(errno));
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    *r = (TestResult){.kind = RESULT_FAIL};
    snprintf(r->reason, sizeof r->reason, "fork: %s", strerror(errno));
    return;
  }
  if (pid == 0) {
    close(fds[0]);
    alarm(o->timeout);
    TestResult res;
    conf_run_test(dir, o->verbose, !o->no_freeze, &res);
    write_full(fds[1], &res, sizeof res);
    close(fds[1]);
    /* exit, not _exit: LeakSanitizer runs at exit and turns leaks into a non-zero status. */
    exit(0);
  }
  close(fds[1]);
  size_t got = read_full(fds[0], r, sizeof *r);
  close(fds[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  bool have_result = got == sizeof *r;
  if (WIFSIGNALED(wstatus)) {
    int sig = WTERMSIG(wstatus);
    *r = (TestResult){.kind = RESULT_FAIL};
    if (sig == SIGALRM)
      snprintf(r->reason, sizeof r->reason, "timed out after %u s", o->timeout);
    else
      snprintf(r->reason, sizeof r->reason, "crashed: signal %d (%s)", sig, strsignal(sig));
  } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0) {
    int code = WEXITSTATUS(wstatus);
    *r = (TestResult){.kind = RESULT_FAIL};
    snprintf(r->reason, sizeof r->reason,
             have_result ? "exit status %d after the test finished (sanitizer report on stderr)"
                         : "exited with status %d (sanitizer report on stderr?)",
             code);
  } else if (!have_result) {
    *r = (TestResult){.kind = RESULT_FAIL};
    snprintf(r->reason, sizeof r->reason, "the test process sent no result");
  }
}

static void record(const Options *o, const KnownFailures *known, const char *name,
                   const TestResult *r, Totals *t) {
  bool listed = conf_known_contains(known, name);
  t->eval_seconds += r->eval_seconds;
  switch (r->kind) {
  case RESULT_PASS:
    printf("PASS %s  maxerr=%.3g%s%s\n", name, r->maxerr, r->reason[0] ? "  " : "", r->reason);
    t->passed++;
    if (listed) {
      char **nn = realloc(t->now_passing, ((size_t)t->num_now_passing + 1) * sizeof *nn);
      char *copy = strdup(name);
      if (nn) t->now_passing = nn;
      if (nn && copy) t->now_passing[t->num_now_passing++] = copy;
      else free(copy);
    }
    break;
  case RESULT_FAIL:
    printf("FAIL %s  %s\n", name, r->reason);
    t->failed++;
    if (!listed) {
      t->unexpected++;
      printf("  unexpected failure: %s is not in the known-failures list\n", name);
    }
    break;
  case RESULT_SKIP:
    printf("SKIP %s  %s\n", name, r->reason);
    t->skipped++;
    break;
  }
  if (o->verbose) fprintf(stderr, "  %s: eval %.6f s\n", name, r->eval_seconds);
  fflush(stdout);
}

static void run_one(const Options *o, const KnownFailures *known, const char *dir,
                    const char *name, Totals *t) {
  if (!selected(o, name)) return;
  TestResult *r = malloc(sizeof *r);
  if (!r) {
    fprintf(stderr, "onnxc_conformance: out of memory\n");
    t->failed++;
    t->unexpected++;
    return;
  }
  if (o->no_fork) conf_run_test(dir, o->verbose, !o->no_freeze, r);
  else run_forked(o, dir, r);
  record(o, known, name, r, t);
  free(r);
}

/* Runs DIR itself if it is a test, else every test folder directly inside it. */
static bool run_dir(const Options *o, const KnownFailures *known, const char *dir, Totals *t) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  if (is_file(path)) {
    run_one(o, known, dir, base_name(dir), t);
    return true;
  }
  struct dirent **list = NULL;
  int n = scandir(dir, &list, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "onnxc_conformance: %s: %s\n", dir, strerror(errno));
    return false;
  }
  for (int i = 0; i < n; i++) {
    const char *e = list[i]->d_name;
    if (e[0] != '.') {
      char sub[4096];
      snprintf(sub, sizeof sub, "%s/%s", dir, e);
      snprintf(path, sizeof path, "%s/model.onnx", sub);
      if (is_file(path)) run_one(o, known, sub, e, t);
    }
    free(list[i]);
  }
  free(list);
  return true;
}

static int parse_args(int argc, char **argv, Options *o, int *first_dir) {
  *o = (Options){.timeout = 300};
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-') break;
    if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
      o->verbose = true;
    } else if (strcmp(a, "--no-fork") == 0) {
      o->no_fork = true;
    } else if (strcmp(a, "--no-freeze") == 0) {
      o->no_freeze = true;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strncmp(a, "--filter", 8) == 0 || strncmp(a, "--known-failures", 16) == 0 ||
               strncmp(a, "--timeout", 9) == 0) {
      const char *eq = strchr(a, '=');
      size_t keylen = eq ? (size_t)(eq - a) : strlen(a);
      if (eq) val = eq + 1;
      else if (i + 1 < argc) val = argv[++i];
      else {
        fprintf(stderr, "onnxc_conformance: %s needs a value\n", a);
        return 2;
      }
      if (keylen == 8 && strncmp(a, "--filter", 8) == 0) {
        if (o->num_filters == MAX_FILTERS) {
          fprintf(stderr, "onnxc_conformance: more than %d --filter options\n", MAX_FILTERS);
          return 2;
        }
        o->filters[o->num_filters++] = val;
      } else if (keylen == 16 && strncmp(a, "--known-failures", 16) == 0) {
        o->known_path = val;
      } else if (keylen == 9 && strncmp(a, "--timeout", 9) == 0) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(val, &end, 10);
        if (*val == '\0' || *end || errno || v == 0 || v > 86400) {
          fprintf(stderr, "onnxc_conformance: --timeout wants 1..86400 seconds, got '%s'\n", val);
          return 2;
        }
        o->timeout = (unsigned)v;
      } else {
        fprintf(stderr, "onnxc_conformance: unknown option '%s'\n", a);
        return 2;
      }
    } else {
      fprintf(stderr, "onnxc_conformance: unknown option '%s'\n", a);
      return 2;
    }
  }
  if (i >= argc) {
    fprintf(stderr, "onnxc_conformance: no test folder given\n");
    usage(stderr);
    return 2;
  }
  *first_dir = i;
  return 0;
}

int main(int argc, char **argv) {
  Options o;
  int first_dir = 0;
  int rc = parse_args(argc, argv, &o, &first_dir);
  if (rc) return rc;

  KnownFailures known = {0};
  if (o.known_path) {
    Error err = {0};
    if (conf_known_load(o.known_path, &known, &err) != ST_OK) {
      fprintf(stderr, "onnxc_conformance: %s\n", err.msg);
      return 2;
    }
  }
  Totals t = {0};
  bool dirs_ok = true;
  for (int i = first_dir; i < argc; i++) dirs_ok &= run_dir(&o, &known, argv[i], &t);

  for (int i = 0; i < t.num_now_passing; i++) {
    printf("  now passing, remove from known failures: %s\n", t.now_passing[i]);
    free(t.now_passing[i]);
  }
  free(t.now_passing);
  if (t.unexpected)
    printf("  %d unexpected failure(s) (not in the known-failures list)\n", t.unexpected);
  if (o.verbose) fprintf(stderr, "time: %.3f s\n", t.eval_seconds);
  printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
  conf_known_free(&known);
  if (!dirs_ok) return 2;
  if (t.passed + t.failed + t.skipped == 0) {
    fprintf(stderr, "onnxc_conformance: no test matched\n");
    return 1;
  }
  return t.unexpected ? 1 : 0;
}
