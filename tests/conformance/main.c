/*
 * onnxc_conformance [--mode=eval|compiled] [-O0..-O3] [--jobs N]
 *                   [--filter SUBSTRING]... [--verbose] [--known-failures FILE]
 *                   [--timeout SECONDS] [--no-fork] [--no-freeze] DIR...
 *
 * Every folder under each DIR that holds a model.onnx is one test (a DIR that
 * itself holds model.onnx is one test too), reported in sorted order.  Each
 * test runs in a child process (up to --jobs at once), so a crash, a hang or
 * a sanitizer report fails that test only.  Prints `PASS|FAIL|SKIP name ...` per test, notes about the
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
#define MAX_JOBS 64
#define MAX_KNOWN 8
#define WORST_PLANS 5

typedef struct Options {
  const char *filters[MAX_FILTERS];
  int num_filters;
  bool verbose;
  bool no_fork;
  bool no_freeze;
  unsigned timeout;
  int compiled_opt; /* -1: eval mode */
  int jobs;
  const char *known_paths[MAX_KNOWN];
  int num_known;
} Options;

typedef struct Totals {
  int passed, failed, skipped;
  int unexpected;    /* failures not in the known list */
  double eval_seconds;
  char **now_passing; /* listed tests that passed */
  int num_now_passing;
  struct {
    double ratio;     /* workspace / lower bound of a compiled test */
    size_t ws, lower;
    char name[128];
  } worst[WORST_PLANS]; /* the largest ratios, largest first */
} Totals;

static void usage(FILE *f) {
  fprintf(f,
          "usage: onnxc_conformance [--mode=eval|compiled] [-O0..-O3] [--weights-file] [--jobs N]\n"
          "                         [--filter SUBSTRING] [--verbose] [--known-failures FILE]\n"
          "                         [--timeout SECONDS] [--no-fork] [--no-freeze] DIR...\n"
          "Runs every ONNX node test folder (model.onnx + test_data_set_0/) under each DIR\n"
          "through the frontend, the pass pipeline and the reference evaluator.\n"
          "  --mode=compiled     compile each graph to a .o instead, link it with a generated\n"
          "                      C harness (cc), run that and compare its outputs\n"
          "  -O0..-O3            optimization level of compiled mode (default -O2)\n"
          "  --weights-file      compiled mode: weights in a separate file (--weights=FILE),\n"
          "                      which the harness loads and passes to model_run_with_weights\n"
          "  --jobs N            tests run at once (default 2)\n"
          "  --filter S          only tests whose name contains S (repeatable: any matches)\n"
          "  --verbose           per-output details and the evaluator's total time on stderr\n"
          "  --known-failures F  tests allowed to fail, one `name<TAB>reason` per line\n"
          "                      (repeatable: the lists add up)\n"
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

/* One test started in a child process, its result still to be collected. */
typedef struct Running {
  pid_t pid;     /* 0: fork failed, r already holds the failure */
  int fd;        /* read end of the result pipe */
  char *name;    /* malloc'ed */
  TestResult *r; /* malloc'ed */
} Running;

/* Forks the child that runs dir; the child sends its TestResult through a pipe. */
static void start_forked(const Options *o, const char *dir, Running *run) {
  int fds[2];
  TestResult *r = run->r;
  run->pid = 0;
  run->fd = -1;
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
    conf_run_test(dir, o->verbose, !o->no_freeze, o->compiled_opt, &res);
    write_full(fds[1], &res, sizeof res);
    close(fds[1]);
    /* exit, not _exit: LeakSanitizer runs at exit and turns leaks into a non-zero status. */
    exit(0);
  }
  close(fds[1]);
  run->pid = pid;
  run->fd = fds[0];
}

/* Waits for the child; its fate becomes part of the result.  The result
 * (about 3 KB) fits in the pipe's buffer, so the child never blocks on it. */
static void finish_forked(const Options *o, Running *run) {
  TestResult *r = run->r;
  if (run->pid == 0) return;
  size_t got = read_full(run->fd, r, sizeof *r);
  close(run->fd);
  int wstatus = 0;
  while (waitpid(run->pid, &wstatus, 0) < 0 && errno == EINTR) {
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

/* Keeps the WORST_PLANS largest workspace / lower-bound ratios. */
static void note_plan(Totals *t, const char *name, const TestResult *r) {
  if (r->ws_size == 0) return;
  double ratio = r->ws_lower ? (double)r->ws_size / (double)r->ws_lower : 1.0;
  int at = WORST_PLANS;
  while (at > 0 && (t->worst[at - 1].name[0] == '\0' || t->worst[at - 1].ratio < ratio)) at--;
  if (at == WORST_PLANS) return;
  memmove(&t->worst[at + 1], &t->worst[at], (WORST_PLANS - 1 - (size_t)at) * sizeof t->worst[0]);
  t->worst[at].ratio = ratio;
  t->worst[at].ws = r->ws_size;
  t->worst[at].lower = r->ws_lower;
  snprintf(t->worst[at].name, sizeof t->worst[at].name, "%s", name);
}

static void record(const Options *o, const KnownFailures *known, const char *name,
                   const TestResult *r, Totals *t) {
  bool listed = conf_known_contains(known, name);
  note_plan(t, name, r);
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

/* Up to o->jobs tests run at once; results are collected oldest first, so
 * the report keeps the sorted order whatever finishes first. */
typedef struct Scheduler {
  const Options *o;
  const KnownFailures *known;
  Totals *t;
  Running window[MAX_JOBS];
  int head, count; /* ring buffer of started tests */
} Scheduler;

static void collect_oldest(Scheduler *s) {
  Running *run = &s->window[s->head];
  finish_forked(s->o, run);
  record(s->o, s->known, run->name, run->r, s->t);
  free(run->name);
  free(run->r);
  s->head = (s->head + 1) % MAX_JOBS;
  s->count--;
}

static void run_one(Scheduler *s, const char *dir, const char *name) {
  const Options *o = s->o;
  if (!selected(o, name)) return;
  TestResult *r = malloc(sizeof *r);
  char *copy = strdup(name);
  if (!r || !copy) {
    fprintf(stderr, "onnxc_conformance: out of memory\n");
    free(r);
    free(copy);
    s->t->failed++;
    s->t->unexpected++;
    return;
  }
  if (o->no_fork) {
    conf_run_test(dir, o->verbose, !o->no_freeze, o->compiled_opt, r);
    record(o, s->known, name, r, s->t);
    free(r);
    free(copy);
    return;
  }
  if (s->count == o->jobs) collect_oldest(s);
  Running *run = &s->window[(s->head + s->count) % MAX_JOBS];
  *run = (Running){.name = copy, .r = r};
  start_forked(o, dir, run);
  s->count++;
}

/* Runs DIR itself if it is a test, else every test folder directly inside it. */
static bool run_dir(Scheduler *s, const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  if (is_file(path)) {
    run_one(s, dir, base_name(dir));
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
      if (is_file(path)) run_one(s, sub, e);
    }
    free(list[i]);
  }
  free(list);
  return true;
}

static int parse_args(int argc, char **argv, Options *o, int *first_dir) {
  *o = (Options){.timeout = 300, .compiled_opt = -1, .jobs = 2};
  int opt_level = 2;
  bool compiled = false;
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-') break;
    if (strcmp(a, "--mode=eval") == 0) {
      compiled = false;
    } else if (strcmp(a, "--mode=compiled") == 0) {
      compiled = true;
    } else if (a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && a[3] == '\0') {
      opt_level = a[2] - '0';
    } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
      o->verbose = true;
    } else if (strcmp(a, "--no-fork") == 0) {
      o->no_fork = true;
    } else if (strcmp(a, "--no-freeze") == 0) {
      o->no_freeze = true;
    } else if (strcmp(a, "--weights-file") == 0) {
      conf_compiled_use_weights_file(true);
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strncmp(a, "--filter", 8) == 0 || strncmp(a, "--known-failures", 16) == 0 ||
               strncmp(a, "--timeout", 9) == 0 || strncmp(a, "--jobs", 6) == 0) {
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
        if (o->num_known == MAX_KNOWN) {
          fprintf(stderr, "onnxc_conformance: more than %d --known-failures options\n", MAX_KNOWN);
          return 2;
        }
        o->known_paths[o->num_known++] = val;
      } else if (keylen == 6 && strncmp(a, "--jobs", 6) == 0) {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (*val == '\0' || *end || errno || v < 1 || v > MAX_JOBS) {
          fprintf(stderr, "onnxc_conformance: --jobs wants 1..%d, got '%s'\n", MAX_JOBS, val);
          return 2;
        }
        o->jobs = (int)v;
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
  if (compiled) o->compiled_opt = opt_level;
  *first_dir = i;
  return 0;
}

int main(int argc, char **argv) {
  Options o;
  int first_dir = 0;
  int rc = parse_args(argc, argv, &o, &first_dir);
  if (rc) return rc;

  KnownFailures known = {0};
  for (int i = 0; i < o.num_known; i++) {
    Error err = {0};
    if (conf_known_append(o.known_paths[i], &known, &err) != ST_OK) {
      fprintf(stderr, "onnxc_conformance: %s\n", err.msg);
      conf_known_free(&known);
      return 2;
    }
  }
  Totals t = {0};
  if (o.compiled_opt >= 0)
    printf("mode: compiled (cg_compile -O%d, host CPU, generated C harness linked with cc), "
           "%d job(s)\n", o.compiled_opt, o.jobs);
  Scheduler sched = {.o = &o, .known = &known, .t = &t};
  bool dirs_ok = true;
  for (int i = first_dir; i < argc; i++) dirs_ok &= run_dir(&sched, argv[i]);
  while (sched.count) collect_oldest(&sched);

  for (int i = 0; i < t.num_now_passing; i++) {
    printf("  now passing, remove from known failures: %s\n", t.now_passing[i]);
    free(t.now_passing[i]);
  }
  free(t.now_passing);
  for (int i = 0; i < WORST_PLANS && t.worst[i].name[0]; i++)
    printf("  memory plan, worst ratio #%d: %s  workspace %zu / lower bound %zu = %.3f\n", i + 1,
           t.worst[i].name, t.worst[i].ws, t.worst[i].lower, t.worst[i].ratio);
  if (t.unexpected)
    printf("  %d unexpected failure(s) (not in the known-failures list)\n", t.unexpected);
  if (o.verbose)
    fprintf(stderr, "time: %.3f s (%s)\n", t.eval_seconds,
            o.compiled_opt >= 0 ? "cg_compile" : "evaluator");
  printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
  conf_known_free(&known);
  if (!dirs_ok) return 2;
  if (t.passed + t.failed + t.skipped == 0) {
    fprintf(stderr, "onnxc_conformance: no test matched\n");
    return 1;
  }
  return t.unexpected ? 1 : 0;
}
