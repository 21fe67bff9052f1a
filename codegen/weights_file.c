/*
 * Moves weight globals out of the module into a weights file and threads
 * the file's base address through the functions that read them; see
 * weights_file.h.  The rewrite works on the finished module so that no
 * lowering has to know which mode it is compiled for.
 */
#include "weights_file.h"

#include "parallel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

typedef struct Moved {
  LLVMValueRef g;
  size_t offset;
} Moved;

typedef struct FnMap {
  LLVMValueRef old_fn, new_fn;
} FnMap;

typedef struct Rewrite {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  Moved *moved;      /* sorted by g for bsearch */
  int num_moved;
  FnMap *fns;        /* functions that need the weights base */
  int num_fns;
  /* Task trampolines get the base from slot 0 of their context block
   * (parallel.h) instead of a parameter: their address goes to the hook. */
  LLVMValueRef *task_fn, *task_base;
  int num_tasks, cap_tasks;
  /* materialized constants of the function being rewritten */
  LLVMValueRef *memo_key, *memo_val;
  int memo_n, memo_cap;
} Rewrite;

static bool has_prefix(LLVMValueRef v, const char *prefix) {
  size_t len;
  const char *name = LLVMGetValueName2(v, &len);
  return name && strncmp(name, prefix, strlen(prefix)) == 0;
}

static bool is_weight_global(LLVMValueRef g) {
  return (has_prefix(g, "onnxc.weight.") || has_prefix(g, "onnxc.wblob.")) &&
         LLVMGetInitializer(g) && LLVMIsGlobalConstant(g);
}

/* True when every use of v is an instruction, directly or through constant
 * expressions: only then can v's address become a run-time value. */
static bool used_by_code_only(LLVMValueRef v, int depth) {
  if (depth > 16) return false;
  for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
    LLVMValueRef user = LLVMGetUser(u);
    if (LLVMIsAInstruction(user)) continue;
    if (LLVMIsAConstantExpr(user) && used_by_code_only(user, depth + 1)) continue;
    return false;
  }
  return true;
}

static int cmp_moved(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)((const Moved *)a)->g, y = (uintptr_t)((const Moved *)b)->g;
  return x < y ? -1 : x > y;
}

static const Moved *find_moved(const Rewrite *r, LLVMValueRef g) {
  if (r->num_moved == 0) return NULL;
  Moved key = {.g = g};
  return bsearch(&key, r->moved, (size_t)r->num_moved, sizeof key, cmp_moved);
}

/* Does v (an operand) refer to a moved global, possibly inside a constant
 * expression? */
static bool depends(const Rewrite *r, LLVMValueRef v, int depth) {
  if (depth > 16 || !LLVMIsAConstant(v)) return false;
  if (LLVMIsAGlobalVariable(v)) return find_moved(r, v) != NULL;
  if (!LLVMIsAConstantExpr(v)) return false;
  int n = LLVMGetNumOperands(v);
  for (int i = 0; i < n; i++)
    if (depends(r, LLVMGetOperand(v, (unsigned)i), depth + 1)) return true;
  return false;
}

/* Bytes of a global's initializer (a ConstantDataArray of i8, or all zero). */
static const char *global_bytes(LLVMValueRef g, size_t *len) {
  LLVMValueRef init = LLVMGetInitializer(g);
  LLVMTypeRef ty = LLVMGlobalGetValueType(g);
  *len = LLVMGetTypeKind(ty) == LLVMArrayTypeKind ? (size_t)LLVMGetArrayLength2(ty) : 0;
  if (LLVMIsAConstantDataSequential(init)) return LLVMGetAsString(init, len);
  return NULL; /* zeroinitializer: *len zero bytes */
}

static uint64_t fnv_update(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * FNV_PRIME;
  return h;
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static Status write_file(const Rewrite *r, const char *path, CgWeightsInfo *info, Error *err) {
  size_t end = CG_WEIGHTS_HEADER;
  uint64_t h = FNV_OFFSET;
  static const unsigned char zeros[64];
  /* First pass: the hash (the payload is the globals plus zero padding). */
  for (int i = 0; i < r->num_moved; i++) {
    size_t len;
    const char *bytes = global_bytes(r->moved[i].g, &len);
    for (; end < r->moved[i].offset; end++) h = fnv_update(h, zeros, 1);
    if (bytes) h = fnv_update(h, (const unsigned char *)bytes, len);
    else
      for (size_t k = 0; k < len; k++) h = fnv_update(h, zeros, 1);
    end += len;
  }
  info->file_size = end;
  info->hash = h;
  FILE *f = fopen(path, "wb");
  if (!f) return err_set(err, ST_IO, "%s: cannot write the weights file: %s", path, strerror(errno));
  unsigned char head[CG_WEIGHTS_HEADER] = {0};
  put_u64(head, CG_WEIGHTS_MAGIC);
  put_u64(head + 8, end);
  put_u64(head + 16, h);
  bool ok = fwrite(head, 1, sizeof head, f) == sizeof head;
  size_t at = CG_WEIGHTS_HEADER;
  for (int i = 0; ok && i < r->num_moved; i++) {
    size_t len;
    const char *bytes = global_bytes(r->moved[i].g, &len);
    size_t pad = r->moved[i].offset - at;
    ok = fwrite(zeros, 1, pad, f) == pad;
    if (bytes) ok = ok && fwrite(bytes, 1, len, f) == len;
    else
      for (size_t k = 0; ok && k < len; k += sizeof zeros) {
        size_t n = len - k < sizeof zeros ? len - k : sizeof zeros;
        ok = fwrite(zeros, 1, n, f) == n;
      }
    at = r->moved[i].offset + len;
  }
  if (fclose(f) != 0) ok = false;
  if (!ok) return err_set(err, ST_IO, "%s: writing the weights file failed", path);
  return ST_OK;
}

/* ---- which functions need the base ------------------------------------- */

static int fn_index(const Rewrite *r, LLVMValueRef fn) {
  for (int i = 0; i < r->num_fns; i++)
    if (r->fns[i].old_fn == fn || r->fns[i].new_fn == fn) return i;
  return -1;
}

static Status add_fn(Rewrite *r, LLVMValueRef fn, int *cap, Error *err) {
  if (fn_index(r, fn) >= 0) return ST_OK;
  if (r->num_fns == *cap) {
    int nc = *cap ? *cap * 2 : 64;
    FnMap *p = realloc(r->fns, (size_t)nc * sizeof *p);
    if (!p) return err_set(err, ST_NOMEM, "out of memory");
    r->fns = p;
    *cap = nc;
  }
  r->fns[r->num_fns++] = (FnMap){fn, NULL};
  return ST_OK;
}

static bool is_task(LLVMValueRef fn) { return has_prefix(fn, CG_PAR_TASK_PREFIX); }

static bool calls_marker(LLVMValueRef in) {
  if (!LLVMIsACallInst(in)) return false;
  LLVMValueRef callee = LLVMGetCalledValue(in);
  return callee && LLVMIsAFunction(callee) && has_prefix(callee, CG_PAR_WEIGHTS_MARKER);
}

/* The weights base inside fn: its last parameter, or for a task the load
 * of its context block's slot 0 (made once, at the entry). */
static Status base_of(Rewrite *r, LLVMValueRef fn, LLVMValueRef *base, Error *err) {
  if (!is_task(fn)) {
    *base = LLVMGetParam(fn, LLVMCountParams(fn) - 1);
    return ST_OK;
  }
  for (int i = 0; i < r->num_tasks; i++)
    if (r->task_fn[i] == fn) {
      *base = r->task_base[i];
      return ST_OK;
    }
  if (r->num_tasks == r->cap_tasks) {
    int nc = r->cap_tasks ? r->cap_tasks * 2 : 64;
    LLVMValueRef *a = realloc(r->task_fn, (size_t)nc * sizeof *a);
    if (!a) return err_set(err, ST_NOMEM, "out of memory");
    r->task_fn = a;
    LLVMValueRef *b = realloc(r->task_base, (size_t)nc * sizeof *b);
    if (!b) return err_set(err, ST_NOMEM, "out of memory");
    r->task_base = b;
    r->cap_tasks = nc;
  }
  LLVMBuilderRef b = LLVMCreateBuilderInContext(r->ctx);
  LLVMPositionBuilderBefore(b, LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(fn)));
  LLVMTypeRef ptr = LLVMPointerTypeInContext(r->ctx, 0);
  LLVMValueRef idx = LLVMConstInt(LLVMInt64TypeInContext(r->ctx), CG_PAR_CTX_WEIGHTS, 0);
  LLVMValueRef slot = LLVMBuildInBoundsGEP2(b, LLVMInt64TypeInContext(r->ctx), LLVMGetParam(fn, 0),
                                            &idx, 1, "");
  *base = LLVMBuildLoad2(b, ptr, slot, "weights_base");
  LLVMDisposeBuilder(b);
  r->task_fn[r->num_tasks] = fn;
  r->task_base[r->num_tasks++] = *base;
  return ST_OK;
}

static bool fn_reads_weights(const Rewrite *r, LLVMValueRef fn) {
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      if (calls_marker(in)) return true;
      int n = LLVMGetNumOperands(in);
      for (int k = 0; k < n; k++)
        if (depends(r, LLVMGetOperand(in, (unsigned)k), 0)) return true;
    }
  return false;
}

/* Functions reading a moved global, then (to a fixed point) their callers. */
static Status collect_fns(Rewrite *r, Error *err) {
  int cap = 0;
  for (LLVMValueRef fn = LLVMGetFirstFunction(r->mod); fn; fn = LLVMGetNextFunction(fn))
    if (!LLVMIsDeclaration(fn) && fn_reads_weights(r, fn)) TRY(add_fn(r, fn, &cap, err));
  for (int i = 0; i < r->num_fns; i++) {
    LLVMValueRef fn = r->fns[i].old_fn;
    /* A task reads the base from its context, which the run body (in the
     * list through its marker call) fills. */
    if (is_task(fn)) continue;
    for (LLVMUseRef u = LLVMGetFirstUse(fn); u; u = LLVMGetNextUse(u)) {
      LLVMValueRef user = LLVMGetUser(u);
      if (!LLVMIsACallInst(user) || LLVMGetCalledValue(user) != fn)
        return err_set(err, ST_INTERNAL, "weights file: a kernel's address is taken");
      TRY(add_fn(r, LLVMGetBasicBlockParent(LLVMGetInstructionParent(user)), &cap, err));
    }
  }
  return ST_OK;
}

/* ---- the rewrite -------------------------------------------------------- */

static void copy_attrs(LLVMValueRef from, LLVMValueRef to, unsigned idx) {
  unsigned n = LLVMGetAttributeCountAtIndex(from, idx);
  if (!n) return;
  LLVMAttributeRef a[64];
  if (n > 64) n = 64;
  LLVMGetAttributesAtIndex(from, idx, a);
  for (unsigned i = 0; i < n; i++) LLVMAddAttributeAtIndex(to, idx, a[i]);
}

/* The same function with one more `ptr align 64` parameter, owning the old
 * body. */
static LLVMValueRef clone_with_base(Rewrite *r, LLVMValueRef fn) {
  LLVMTypeRef fty = LLVMGlobalGetValueType(fn);
  unsigned np = LLVMCountParamTypes(fty);
  LLVMTypeRef params[257];
  if (np > 256) return NULL;
  LLVMGetParamTypes(fty, params);
  params[np] = LLVMPointerTypeInContext(r->ctx, 0);
  LLVMTypeRef nty = LLVMFunctionType(LLVMGetReturnType(fty), params, np + 1, 0);
  size_t len;
  char name[256];
  snprintf(name, sizeof name, "%s.w", LLVMGetValueName2(fn, &len));
  LLVMValueRef nf = LLVMAddFunction(r->mod, name, nty);
  LLVMSetLinkage(nf, LLVMInternalLinkage);
  copy_attrs(fn, nf, LLVMAttributeFunctionIndex);
  copy_attrs(fn, nf, LLVMAttributeReturnIndex);
  for (unsigned i = 0; i < np; i++) copy_attrs(fn, nf, i + 1);
  unsigned align = LLVMGetEnumAttributeKindForName("align", 5);
  LLVMAddAttributeAtIndex(nf, np + 1, LLVMCreateEnumAttribute(r->ctx, align, 64));
  LLVMBasicBlockRef bb;
  while ((bb = LLVMGetFirstBasicBlock(fn))) {
    LLVMRemoveBasicBlockFromParent(bb);
    LLVMAppendExistingBasicBlock(nf, bb);
  }
  for (unsigned i = 0; i < np; i++) LLVMReplaceAllUsesWith(LLVMGetParam(fn, i), LLVMGetParam(nf, i));
  return nf;
}

static Status memo_put(Rewrite *r, LLVMValueRef k, LLVMValueRef v, Error *err) {
  if (r->memo_n == r->memo_cap) {
    int nc = r->memo_cap ? r->memo_cap * 2 : 64;
    LLVMValueRef *a = realloc(r->memo_key, (size_t)nc * sizeof *a);
    if (!a) return err_set(err, ST_NOMEM, "out of memory");
    r->memo_key = a;
    LLVMValueRef *b = realloc(r->memo_val, (size_t)nc * sizeof *b);
    if (!b) return err_set(err, ST_NOMEM, "out of memory");
    r->memo_val = b;
    r->memo_cap = nc;
  }
  r->memo_key[r->memo_n] = k;
  r->memo_val[r->memo_n++] = v;
  return ST_OK;
}

/* An instruction computing constant c with every moved global replaced by
 * base + offset; b sits at the function's entry, so the result dominates
 * every use. */
static Status materialize(Rewrite *r, LLVMBuilderRef b, LLVMValueRef base, LLVMValueRef c,
                          LLVMValueRef *out, Error *err) {
  for (int i = 0; i < r->memo_n; i++)
    if (r->memo_key[i] == c) {
      *out = r->memo_val[i];
      return ST_OK;
    }
  LLVMTypeRef i8 = LLVMInt8TypeInContext(r->ctx);
  LLVMTypeRef i64 = LLVMInt64TypeInContext(r->ctx);
  if (LLVMIsAGlobalVariable(c)) {
    LLVMValueRef off = LLVMConstInt(i64, find_moved(r, c)->offset, 0);
    *out = LLVMBuildInBoundsGEP2(b, i8, base, &off, 1, "w");
    return memo_put(r, c, *out, err);
  }
  int n = LLVMGetNumOperands(c);
  LLVMValueRef ops[16];
  if (n > 16) return err_set(err, ST_INTERNAL, "weights file: constant expression too wide");
  for (int i = 0; i < n; i++) {
    ops[i] = LLVMGetOperand(c, (unsigned)i);
    if (depends(r, ops[i], 0)) TRY(materialize(r, b, base, ops[i], &ops[i], err));
  }
  switch (LLVMGetConstOpcode(c)) {
  case LLVMGetElementPtr: {
    LLVMTypeRef src = LLVMGetGEPSourceElementType(c);
    *out = LLVMIsInBounds(c) ? LLVMBuildInBoundsGEP2(b, src, ops[0], ops + 1, (unsigned)n - 1, "")
                             : LLVMBuildGEP2(b, src, ops[0], ops + 1, (unsigned)n - 1, "");
    break;
  }
  case LLVMPtrToInt:
    *out = LLVMBuildPtrToInt(b, ops[0], LLVMTypeOf(c), "");
    break;
  case LLVMAdd:
    *out = LLVMBuildAdd(b, ops[0], ops[1], "");
    break;
  case LLVMSub:
    *out = LLVMBuildSub(b, ops[0], ops[1], "");
    break;
  default:
    return err_set(err, ST_INTERNAL, "weights file: constant expression (opcode %d) over a weight",
                   (int)LLVMGetConstOpcode(c));
  }
  return memo_put(r, c, *out, err);
}

static Status rewrite_operands(Rewrite *r, LLVMValueRef fn, Error *err) {
  LLVMValueRef base;
  TRY(base_of(r, fn, &base, err));
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (is_task(fn)) first = LLVMGetNextInstruction(base); /* past the slot's GEP and load */
  LLVMBuilderRef b = LLVMCreateBuilderInContext(r->ctx);
  LLVMPositionBuilderBefore(b, first);
  r->memo_n = 0;
  Status st = ST_OK;
  for (LLVMBasicBlockRef bb = entry; bb && st == ST_OK; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = bb == entry ? first : LLVMGetFirstInstruction(bb); in && st == ST_OK;
         in = LLVMGetNextInstruction(in)) {
      int n = LLVMGetNumOperands(in);
      for (int k = 0; k < n && st == ST_OK; k++) {
        LLVMValueRef op = LLVMGetOperand(in, (unsigned)k), v;
        if (!depends(r, op, 0)) continue;
        st = materialize(r, b, base, op, &v, err);
        if (st == ST_OK) LLVMSetOperand(in, (unsigned)k, v);
      }
    }
  LLVMDisposeBuilder(b);
  return st;
}

/* Calls of a rewritten function get the caller's base as the extra argument. */
static Status rewrite_calls(Rewrite *r, const FnMap *m, Error *err) {
  LLVMBuilderRef b = LLVMCreateBuilderInContext(r->ctx);
  LLVMTypeRef nty = LLVMGlobalGetValueType(m->new_fn);
  LLVMUseRef u;
  while ((u = LLVMGetFirstUse(m->old_fn))) {
    LLVMValueRef call = LLVMGetUser(u);
    LLVMValueRef caller = LLVMGetBasicBlockParent(LLVMGetInstructionParent(call));
    unsigned na = LLVMGetNumArgOperands(call);
    LLVMValueRef args[257];
    if (na > 256) {
      LLVMDisposeBuilder(b);
      return err_set(err, ST_INTERNAL, "weights file: call with too many arguments");
    }
    for (unsigned i = 0; i < na; i++) args[i] = LLVMGetOperand(call, i);
    Status st = base_of(r, caller, &args[na], err);
    if (st != ST_OK) {
      LLVMDisposeBuilder(b);
      return st;
    }
    LLVMPositionBuilderBefore(b, call);
    LLVMValueRef nc = LLVMBuildCall2(b, nty, m->new_fn, args, na + 1, "");
    LLVMReplaceAllUsesWith(call, nc);
    LLVMInstructionEraseFromParent(call);
  }
  LLVMDisposeBuilder(b);
  return ST_OK;
}

/* The run body's calls of the weights-base placeholder become its base
 * parameter (NULL in a function that got none: nothing was moved). */
static Status replace_marker(Rewrite *r, Error *err) {
  LLVMValueRef marker = LLVMGetNamedFunction(r->mod, CG_PAR_WEIGHTS_MARKER);
  if (!marker) return ST_OK;
  LLVMUseRef u;
  while ((u = LLVMGetFirstUse(marker))) {
    LLVMValueRef call = LLVMGetUser(u);
    LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInstructionParent(call));
    LLVMValueRef v = LLVMConstNull(LLVMPointerTypeInContext(r->ctx, 0));
    if (fn_index(r, fn) >= 0) TRY(base_of(r, fn, &v, err));
    LLVMReplaceAllUsesWith(call, v);
    LLVMInstructionEraseFromParent(call);
  }
  LLVMDeleteFunction(marker);
  return ST_OK;
}

Status cg_externalize_weights(LLVMModuleRef mod, const char *path, LLVMValueRef *body,
                              bool *body_takes_weights, CgWeightsInfo *info, Error *err) {
  Rewrite r = {.ctx = LLVMGetModuleContext(mod), .mod = mod};
  *info = (CgWeightsInfo){0};
  *body_takes_weights = false;
  int cap = 0;
  Status st = ST_OK;
  size_t end = CG_WEIGHTS_HEADER;
  for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g && st == ST_OK; g = LLVMGetNextGlobal(g)) {
    /* Globals nothing reads (weights a lowering re-packed) would be dropped
     * by global DCE; they must not bloat the file either. */
    if (!is_weight_global(g) || !LLVMGetFirstUse(g)) continue;
    size_t len;
    global_bytes(g, &len);
    if (!used_by_code_only(g, 0)) {
      info->kept++;
      info->kept_bytes += len;
      continue;
    }
    if (r.num_moved == cap) {
      cap = cap ? cap * 2 : 256;
      Moved *p = realloc(r.moved, (size_t)cap * sizeof *p);
      if (!p) {
        st = err_set(err, ST_NOMEM, "out of memory");
        break;
      }
      r.moved = p;
    }
    end = (end + 63) / 64 * 64;
    r.moved[r.num_moved++] = (Moved){g, end};
    end += len;
  }
  /* The file is in module order (deterministic); lookups want pointer order. */
  if (st == ST_OK) st = write_file(&r, path, info, err);
  if (st == ST_OK && r.num_moved > 0) qsort(r.moved, (size_t)r.num_moved, sizeof *r.moved, cmp_moved);
  info->moved = r.num_moved;
  if (st == ST_OK) st = collect_fns(&r, err);
  /* Tasks keep their signature: they are rewritten in place. */
  for (int i = 0; st == ST_OK && i < r.num_fns; i++)
    if (is_task(r.fns[i].old_fn))
      r.fns[i].new_fn = r.fns[i].old_fn;
    else if (!(r.fns[i].new_fn = clone_with_base(&r, r.fns[i].old_fn)))
      st = err_set(err, ST_INTERNAL, "weights file: a kernel has more than 256 parameters");
  for (int i = 0; st == ST_OK && i < r.num_fns; i++) st = rewrite_operands(&r, r.fns[i].new_fn, err);
  for (int i = 0; st == ST_OK && i < r.num_fns; i++)
    if (!is_task(r.fns[i].old_fn)) st = rewrite_calls(&r, &r.fns[i], err);
  if (st == ST_OK) st = replace_marker(&r, err);
  if (st == ST_OK) {
    for (int i = 0; i < r.num_fns; i++) {
      if (r.fns[i].old_fn == *body) {
        *body = r.fns[i].new_fn;
        *body_takes_weights = true;
      }
      if (r.fns[i].old_fn != r.fns[i].new_fn) LLVMDeleteFunction(r.fns[i].old_fn);
    }
    for (int i = 0; i < r.num_moved; i++) {
      if (LLVMGetFirstUse(r.moved[i].g)) {
        st = err_set(err, ST_INTERNAL, "weights file: a weight is still referenced");
        break;
      }
      LLVMDeleteGlobal(r.moved[i].g);
    }
  }
  free(r.moved);
  free(r.fns);
  free(r.task_fn);
  free(r.task_base);
  free(r.memo_key);
  free(r.memo_val);
  return st;
}

/* ---- public entry points ------------------------------------------------ */

typedef struct Ent {
  LLVMContextRef ctx;
  LLVMBuilderRef b;
  LLVMTypeRef i64, ptr;
} Ent;

static LLVMValueRef load_u64(Ent *e, LLVMValueRef base, unsigned off) {
  LLVMValueRef idx = LLVMConstInt(e->i64, off, 0);
  LLVMValueRef p = LLVMBuildInBoundsGEP2(e->b, LLVMInt8TypeInContext(e->ctx), base, &idx, 1, "");
  LLVMValueRef v = LLVMBuildLoad2(e->b, e->i64, p, "");
  LLVMSetAlignment(v, 8);
  return v;
}

static LLVMValueRef ne_u64(Ent *e, LLVMValueRef v, uint64_t want) {
  return LLVMBuildICmp(e->b, LLVMIntNE, v, LLVMConstInt(e->i64, want, 0), "");
}

/* In fn: `if (!w || w % 64 || header(w) != compiled-in) return 3;`, leaving
 * the builder in the good path. */
static void emit_header_check(Ent *e, LLVMValueRef fn, LLVMValueRef w, const CgWeightsInfo *info) {
  LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(e->ctx, fn, "bad_weights");
  LLVMBasicBlockRef load = LLVMAppendBasicBlockInContext(e->ctx, fn, "header");
  LLVMBasicBlockRef good = LLVMAppendBasicBlockInContext(e->ctx, fn, "good");
  LLVMValueRef wi = LLVMBuildPtrToInt(e->b, w, e->i64, "");
  LLVMValueRef null = LLVMBuildICmp(e->b, LLVMIntEQ, wi, LLVMConstInt(e->i64, 0, 0), "");
  LLVMValueRef mis = ne_u64(e, LLVMBuildAnd(e->b, wi, LLVMConstInt(e->i64, 63, 0), ""), 0);
  LLVMBuildCondBr(e->b, LLVMBuildOr(e->b, null, mis, ""), bad, load);
  LLVMPositionBuilderAtEnd(e->b, load);
  LLVMValueRef wrong = ne_u64(e, load_u64(e, w, 0), CG_WEIGHTS_MAGIC);
  wrong = LLVMBuildOr(e->b, wrong, ne_u64(e, load_u64(e, w, 8), info->file_size), "");
  wrong = LLVMBuildOr(e->b, wrong, ne_u64(e, load_u64(e, w, 16), info->hash), "");
  LLVMBuildCondBr(e->b, wrong, bad, good);
  LLVMPositionBuilderAtEnd(e->b, bad);
  LLVMBuildRet(e->b, LLVMConstInt(LLVMInt32TypeInContext(e->ctx), 3, 0));
  LLVMPositionBuilderAtEnd(e->b, good);
}

/* <prefix>_run_with_weights(w, inputs, outputs, ws) and, parallel,
 * <prefix>_run_parallel_with_weights(w, inputs, outputs, ws, par). */
/* kind 0: <prefix>_run_with_weights(w, inputs, outputs, ws); 1:
 * <prefix>_run_parallel_with_weights(..., par); 2:
 * <prefix>_run_profiled_with_weights(..., par, times). */
static void emit_run_with_weights(Ent *e, LLVMModuleRef mod, const char *prefix, LLVMValueRef body,
                                  bool body_takes_weights, bool profile,
                                  const CgWeightsInfo *info, int kind) {
  static const char *const what[3] = {"run", "run_parallel", "run_profiled"};
  char name[160];
  snprintf(name, sizeof name, "%s_%s_with_weights", prefix, what[kind]);
  LLVMTypeRef params[] = {e->ptr, e->ptr, e->ptr, e->ptr, e->ptr, e->ptr};
  LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx);
  LLVMValueRef fn = LLVMAddFunction(mod, name, LLVMFunctionType(i32, params, 4 + (unsigned)kind, 0));
  LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->ctx, fn, "entry"));
  LLVMValueRef w = LLVMGetParam(fn, 0);
  emit_header_check(e, fn, w, info);
  LLVMValueRef par = kind ? LLVMGetParam(fn, 4) : LLVMConstNull(e->ptr);
  if (kind) cg_par_emit_check(e->ctx, e->b, fn, par);
  LLVMValueRef args[6] = {LLVMGetParam(fn, 1), LLVMGetParam(fn, 2), LLVMGetParam(fn, 3), par};
  unsigned n = 4;
  if (profile) args[n++] = kind == 2 ? LLVMGetParam(fn, 5) : LLVMConstNull(e->ptr);
  if (body_takes_weights) args[n++] = w;
  LLVMValueRef rc = LLVMBuildCall2(e->b, LLVMGlobalGetValueType(body), body, args, n, "");
  LLVMBuildRet(e->b, rc);
}

/* <prefix>_weights_check(w, size): 0 when size and header match and the
 * payload hashes to the compiled-in value, else 3. */
static void emit_weights_check(Ent *e, LLVMModuleRef mod, const char *prefix,
                               const CgWeightsInfo *info) {
  char name[160];
  snprintf(name, sizeof name, "%s_weights_check", prefix);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(e->ctx), i8 = LLVMInt8TypeInContext(e->ctx);
  LLVMTypeRef params[] = {e->ptr, e->i64};
  LLVMValueRef fn = LLVMAddFunction(mod, name, LLVMFunctionType(i32, params, 2, 0));
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->ctx, fn, "entry");
  LLVMPositionBuilderAtEnd(e->b, entry);
  LLVMValueRef w = LLVMGetParam(fn, 0);
  /* The size check comes first so that the header loads stay in bounds. */
  LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(e->ctx, fn, "bad_size");
  LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(e->ctx, fn, "size_ok");
  LLVMBuildCondBr(e->b, ne_u64(e, LLVMGetParam(fn, 1), info->file_size), bad, ok);
  LLVMPositionBuilderAtEnd(e->b, bad);
  LLVMBuildRet(e->b, LLVMConstInt(i32, 3, 0));
  LLVMPositionBuilderAtEnd(e->b, ok);
  emit_header_check(e, fn, w, info);
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
  LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(e->ctx, fn, "hash");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, fn, "done");
  LLVMValueRef start = LLVMConstInt(e->i64, CG_WEIGHTS_HEADER, 0);
  LLVMValueRef end = LLVMConstInt(e->i64, info->file_size, 0);
  LLVMValueRef h0 = LLVMConstInt(e->i64, FNV_OFFSET, 0);
  LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntULT, start, end, ""), loop, done);
  LLVMPositionBuilderAtEnd(e->b, loop);
  LLVMValueRef i = LLVMBuildPhi(e->b, e->i64, "i"), h = LLVMBuildPhi(e->b, e->i64, "h");
  LLVMValueRef byte = LLVMBuildLoad2(e->b, i8, LLVMBuildInBoundsGEP2(e->b, i8, w, &i, 1, ""), "");
  LLVMValueRef hx = LLVMBuildXor(e->b, h, LLVMBuildZExt(e->b, byte, e->i64, ""), "");
  LLVMValueRef hn = LLVMBuildMul(e->b, hx, LLVMConstInt(e->i64, FNV_PRIME, 0), "");
  LLVMValueRef in = LLVMBuildAdd(e->b, i, LLVMConstInt(e->i64, 1, 0), "");
  LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntULT, in, end, ""), loop, done);
  LLVMValueRef iv[] = {start, in}, hv[] = {h0, hn};
  LLVMBasicBlockRef from[] = {pre, loop};
  LLVMAddIncoming(i, iv, from, 2);
  LLVMAddIncoming(h, hv, from, 2);
  LLVMPositionBuilderAtEnd(e->b, done);
  LLVMValueRef hf = LLVMBuildPhi(e->b, e->i64, "hash");
  LLVMValueRef fv[] = {h0, hn};
  LLVMAddIncoming(hf, fv, from, 2);
  LLVMValueRef wrong = ne_u64(e, hf, info->hash);
  LLVMBuildRet(e->b, LLVMBuildSelect(e->b, wrong, LLVMConstInt(i32, 3, 0), LLVMConstInt(i32, 0, 0), ""));
}

void cg_emit_weights_entries(LLVMModuleRef mod, const char *prefix, LLVMValueRef body,
                             bool body_takes_weights, bool profile, const CgWeightsInfo *info) {
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  Ent e = {.ctx = ctx, .b = LLVMCreateBuilderInContext(ctx), .i64 = LLVMInt64TypeInContext(ctx),
           .ptr = LLVMPointerTypeInContext(ctx, 0)};
  for (int kind = 0; kind < (profile ? 3 : 2); kind++)
    emit_run_with_weights(&e, mod, prefix, body, body_takes_weights, profile, info, kind);
  emit_weights_check(&e, mod, prefix, info);
  LLVMDisposeBuilder(e.b);
}
