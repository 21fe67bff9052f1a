/*
 * tgt_check: --target, -mcpu and -mattr against LLVM's tables and onnxc's
 * supported targets; see target_check.h.  Suggestions are the valid names
 * closest by edit distance, so a typo ("skylake-avx51") or a CPU of the
 * other architecture gets a useful answer in one message.
 */
#include "target_check.h"

#include <ctype.h>
#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <stdlib.h>
#include <string.h>

#include "llvm_subtarget.h"

#define MAX_NAMES 2048  /* CPU or feature names of one backend (x86: ~150 / ~250) */
#define NUM_NEAREST 5

/* Features the embedded kernel bitcode and its calling convention assume:
 * the x86-64 psABI passes floats in SSE registers, AAPCS64 in FP/SIMD ones. */
static const char *required_features(const TgtTripleFacts *t) {
  return t->is_x86_64 ? "+64bit,+sse2" : "+neon,+fp-armv8";
}

static const char *const supported_triples[] = {
    "x86_64-unknown-linux-gnu",
#ifdef ONNXC_HAVE_AARCH64_KERNELS
    "aarch64-unknown-linux-gnu",
#endif
};
#define NUM_SUPPORTED (sizeof supported_triples / sizeof supported_triples[0])

void tgt_print_supported(FILE *f, const char *indent) {
  for (size_t i = 0; i < NUM_SUPPORTED; i++)
    fprintf(f, "%s%s (ELF)\n", indent, supported_triples[i]);
}

static void supported_list(char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < NUM_SUPPORTED && at < size; i++)
    at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", supported_triples[i]);
}

/* Levenshtein distance, case-insensitive, on names of at most 63 bytes. */
static int edit_distance(const char *a, const char *b) {
  int n = (int)strlen(a), m = (int)strlen(b);
  if (n > 63) n = 63;
  if (m > 63) m = 63;
  int row[64];
  for (int j = 0; j <= m; j++) row[j] = j;
  for (int i = 1; i <= n; i++) {
    int diag = row[0];
    row[0] = i;
    for (int j = 1; j <= m; j++) {
      int up = row[j];
      int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      int best = diag + cost;
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[m];
}

/* "a, b, c": the NUM_NEAREST names closest to want (ties: table order). */
static void nearest(const char *want, const char *const *names, int n, char *buf, size_t size) {
  int pick[NUM_NEAREST], dist[NUM_NEAREST], k = 0;
  for (int i = 0; i < n; i++) {
    int d = edit_distance(want, names[i]);
    int at = k;
    while (at > 0 && dist[at - 1] > d) at--;
    if (at >= NUM_NEAREST) continue;
    if (k < NUM_NEAREST) k++;
    for (int j = k - 1; j > at; j--) {
      pick[j] = pick[j - 1];
      dist[j] = dist[j - 1];
    }
    pick[at] = i;
    dist[at] = d;
  }
  size_t off = 0;
  buf[0] = '\0';
  for (int i = 0; i < k && off < size; i++)
    off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[pick[i]]);
}

static bool listed(const char *name, size_t len, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0) return true;
  return false;
}

static const char *format_name(const char *llvm_name) {
  if (strcmp(llvm_name, "macho") == 0) return "Mach-O";
  if (strcmp(llvm_name, "coff") == 0) return "COFF";
  if (strcmp(llvm_name, "xcoff") == 0) return "XCOFF";
  if (strcmp(llvm_name, "wasm") == 0) return "WebAssembly";
  if (strcmp(llvm_name, "goff") == 0) return "GOFF";
  return "ELF";
}

/* Valid LLVM features that break the kernels' assumptions rather than
 * tune code: the execution mode comes from the triple, and soft-float
 * changes the calling convention the bitcode was compiled for. */
static const char *const forbidden_x86_64[] = {"soft-float", "16bit-mode", "32bit-mode",
                                               "64bit-mode"};
static const char *const forbidden_aarch64[] = {"soft-float"};

static bool forbidden(const TgtTripleFacts *t, const char *name, size_t len) {
  const char *const *list = t->is_x86_64 ? forbidden_x86_64 : forbidden_aarch64;
  size_t n = t->is_x86_64 ? sizeof forbidden_x86_64 / sizeof *forbidden_x86_64
                          : sizeof forbidden_aarch64 / sizeof *forbidden_aarch64;
  return listed(name, len, list, (int)n);
}

static const char *arch_of(const TgtTripleFacts *t) { return t->is_x86_64 ? "x86_64" : "aarch64"; }

static Status check_triple(const char *triple, const char *host, TgtTripleFacts *t, Error *err) {
  char list[256];
  supported_list(list, sizeof list);
  if (triple && !triple[0]) return err_set(err, ST_INVALID, "--target needs a triple (%s)", list);
  tgt_llvm_triple_facts(triple ? triple : host, t);
  const char *shown = triple ? triple : host;
  if (!t->has_backend)
    return err_set(err, ST_INVALID, "--target '%s': LLVM knows no such target triple; onnxc "
                   "compiles for %s", shown, list);
  if (!t->is_x86_64 && !t->is_aarch64)
    return err_set(err, ST_INVALID, "--target '%s': onnxc has no kernels for the %s "
                   "architecture; it compiles for %s", shown, t->arch, list);
#ifndef ONNXC_HAVE_AARCH64_KERNELS
  if (t->is_aarch64)
    return err_set(err, ST_INVALID, "--target '%s': this onnxc was built without the aarch64 "
                   "kernels (the aarch64 libc headers were missing; Debian: "
                   "libc6-dev-arm64-cross); it compiles for %s", shown, list);
#endif
  if (!t->is_linux || !t->is_elf)
    return err_set(err, ST_INVALID, "--target '%s': onnxc writes ELF objects for Linux only, "
                   "and this triple is not Linux (%s objects); it compiles for %s", shown,
                   format_name(t->object_format), list);
  if (t->ilp32)
    return err_set(err, ST_INVALID, "--target '%s': 32-bit pointers (ILP32) are not supported; "
                   "onnxc compiles for %s", shown, list);
  return ST_OK;
}

/* A CPU valid for another supported architecture is named as such. */
static void other_arch_hint(const TgtTripleFacts *t, const char *cpu, char *buf, size_t size) {
  buf[0] = '\0';
  const char *names[MAX_NAMES]; /* 16 KiB: stack, so concurrent compiles stay safe */
  for (size_t i = 0; i < NUM_SUPPORTED; i++) {
    TgtTripleFacts o;
    tgt_llvm_triple_facts(supported_triples[i], &o);
    if (o.is_x86_64 == t->is_x86_64) continue;
    int n = tgt_llvm_cpu_names(supported_triples[i], names, MAX_NAMES);
    if (n > MAX_NAMES) n = MAX_NAMES;
    if (listed(cpu, strlen(cpu), names, n))
      snprintf(buf, size, "'%s' is a CPU of %s, not of %s; ", cpu, arch_of(&o), arch_of(t));
  }
}

static Status check_cpu(const TgtTripleFacts *t, const char *cpu, Error *err) {
  const char *names[MAX_NAMES];
  if (!cpu[0])
    return err_set(err, ST_INVALID, "-mcpu needs a CPU name (or native; generic runs on every "
                   "%s CPU)", arch_of(t));
  int n = tgt_llvm_cpu_names(t->normalized, names, MAX_NAMES);
  if (n > MAX_NAMES) n = MAX_NAMES;
  if (listed(cpu, strlen(cpu), names, n)) return ST_OK;
  char near[512], hint[160];
  nearest(cpu, names, n, near, sizeof near);
  other_arch_hint(t, cpu, hint, sizeof hint);
  return err_set(err, ST_INVALID, "-mcpu=%s: %sLLVM knows no %s CPU of that name; nearest: %s",
                 cpu, hint, arch_of(t), near);
}

static Status check_features(const TgtTripleFacts *t, const char *features, Error *err) {
  const char *names[MAX_NAMES];
  if (!features[0])
    return err_set(err, ST_INVALID, "-mattr needs features, as in -mattr=+avx2,+fma");
  int n = tgt_llvm_feature_names(t->normalized, names, MAX_NAMES);
  if (n > MAX_NAMES) n = MAX_NAMES;
  for (const char *p = features;;) {
    size_t len = strcspn(p, ",");
    if (len == 0 || (p[0] != '+' && p[0] != '-'))
      return err_set(err, ST_INVALID, "-mattr=%s: each feature is +NAME or -NAME, separated by "
                     "commas, got '%.*s'", features, (int)len, p);
    if (!listed(p + 1, len - 1, names, n)) {
      char want[64], near[512];
      snprintf(want, sizeof want, "%.*s", (int)(len - 1), p + 1);
      nearest(want, names, n, near, sizeof near);
      return err_set(err, ST_INVALID, "-mattr: LLVM knows no %s feature '%s'; nearest: %s",
                     arch_of(t), want, near);
    }
    if (forbidden(t, p + 1, len - 1))
      return err_set(err, ST_INVALID, "-mattr: %.*s is not a feature onnxc can compile with (it "
                     "changes the execution mode or calling convention the kernels assume)",
                     (int)len, p);
    if (!p[len]) break;
    p += len + 1;
  }
  return ST_OK;
}

/* The CPU with its features must keep what the kernels need: -mcpu=i386
 * or -mattr=-sse2 would otherwise make LLVM abort or emit broken code. */
static Status check_required(const TgtTripleFacts *t, const char *cpu, const char *features,
                             const char *shown_cpu, const char *shown_features, Error *err) {
  const char *req = required_features(t);
  /* AVX-512 limited to 256-bit vectors (-evex512) makes LLVM 19 fail
   * instruction selection on ordinary vector code. */
  if (t->is_x86_64 && tgt_llvm_has_features(t->normalized, cpu, features, "+avx512f") &&
      !tgt_llvm_has_features(t->normalized, cpu, features, "+evex512"))
    return err_set(err, ST_INVALID, "-mcpu=%s%s%s: AVX-512 without evex512 is not supported; "
                   "keep +evex512 or remove avx512f", shown_cpu, shown_features ? " -mattr=" : "",
                   shown_features ? shown_features : "");
  if (tgt_llvm_has_features(t->normalized, cpu, features, req)) return ST_OK;
  char missing[64] = "";
  for (const char *p = req; *p;) {
    size_t len = strcspn(p, ",");
    char one[32];
    snprintf(one, sizeof one, "%.*s", (int)len, p);
    if (!tgt_llvm_has_features(t->normalized, cpu, features, one)) {
      snprintf(missing, sizeof missing, "%s", one + 1);
      break;
    }
    p += len + (p[len] == ',');
  }
  return err_set(err, ST_INVALID, "-mcpu=%s%s%s: without %s it cannot run onnxc's %s kernels "
                 "(they need %s)", shown_cpu, shown_features ? " -mattr=" : "",
                 shown_features ? shown_features : "", missing, arch_of(t), req);
}

Status tgt_check(const char *triple, const char *cpu, const char *features, TargetChoice *out,
                 Error *err) {
  tgt_llvm_init();
  char *host = LLVMGetDefaultTargetTriple();
  TgtTripleFacts t, h;
  Status st = check_triple(triple, host, &t, err);
  tgt_llvm_triple_facts(host, &h);
  LLVMDisposeMessage(host);
  if (st != ST_OK) return st;
  bool native = !cpu || strcmp(cpu, "native") == 0;
  if (native && (t.is_x86_64 != h.is_x86_64 || t.is_aarch64 != h.is_aarch64))
    return err_set(err, ST_INVALID, "--target %s needs -mcpu=CPU: the default, native, is the "
                   "CPU of this %s machine (-mcpu=generic runs on every %s CPU)",
                   triple ? triple : t.normalized, h.arch, arch_of(&t));
  if (!native) TRY(check_cpu(&t, cpu, err));
  if (features) TRY(check_features(&t, features, err));
  char *host_cpu = native ? LLVMGetHostCPUName() : NULL;
  char *host_features = native && !features ? LLVMGetHostCPUFeatures() : NULL;
  st = check_required(&t, native ? host_cpu : cpu,
                      features ? features : host_features ? host_features : "",
                      native ? "native" : cpu, features, err);
  if (host_cpu) LLVMDisposeMessage(host_cpu);
  if (host_features) LLVMDisposeMessage(host_features);
  if (st != ST_OK) return st;
  if (out) {
    *out = (TargetChoice){.native_cpu = native};
    snprintf(out->triple, sizeof out->triple, "%s", t.normalized);
    snprintf(out->arch, sizeof out->arch, "%s", arch_of(&t));
  }
  return ST_OK;
}
