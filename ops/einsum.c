/*
 * Einsum: shape rule and reference kernel.
 *
 * The equation is parsed into labels: letters get ids 0..51 in ASCII order
 * (so implicit outputs sort as numpy sorts them) and the dims under "..."
 * get ids 52.. right-aligned, broadcasting across operands like numpy.
 * The kernel has two paths: a generic loop over every label (diagonals,
 * sums, any number of operands), and for float32 two-operand contractions
 * (`bhnd,bhmd->bhnm`, `bnd,md->bnm`, batch matmul) a rewrite into
 * batch / M / N / K groups that, batch by batch, packs both operands and
 * runs linalg_sgemm.  Kernel scratch (ops.h): the generic path's stride
 * table, or one batch's packed A, B and C.
 */
#include "linalg.h"

#include <string.h>

enum {
  EIN_LETTERS = 52,
  EIN_LABELS = EIN_LETTERS + IR_MAX_RANK,
  EIN_MAX_INPUTS = 32,
  EIN_MAX_EQUATION = 1024
};
/* The generic loop refuses more iterations than this (hostile sizes). */
#define EIN_MAX_STEPS ((int64_t)1 << 36)

typedef struct EinsumSpec {
  int num_in;
  int in_rank[EIN_MAX_INPUTS];
  int in_label[EIN_MAX_INPUTS][IR_MAX_RANK]; /* label id of each input dim */
  int out_rank;
  int out_label[IR_MAX_RANK];
  int64_t size[EIN_LABELS]; /* broadcast size of each label */
  bool used[EIN_LABELS];
} EinsumSpec;

static int letter_id(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -1;
}

/* Splits one term into letter ids; *ell is the position of "..." among the
 * letters or -1.  Returns the letter count, or -1 on a syntax error. */
static int parse_term(const char *s, size_t len, int *ids, int *ell, Error *err) {
  int n = 0;
  *ell = -1;
  for (size_t i = 0; i < len;) {
    if (s[i] == '.') {
      if (*ell >= 0 || i + 3 > len || s[i + 1] != '.' || s[i + 2] != '.') {
        err_set(err, ST_INVALID, "bad ellipsis in Einsum term '%.*s'", (int)len, s);
        return -1;
      }
      *ell = n;
      i += 3;
      continue;
    }
    int id = letter_id(s[i]);
    if (id < 0) {
      err_set(err, ST_INVALID, "unexpected character '%c' in Einsum equation", s[i]);
      return -1;
    }
    if (n >= IR_MAX_RANK) {
      err_set(err, ST_UNSUPPORTED, "Einsum term '%.*s' has more than %d labels", (int)len, s,
              IR_MAX_RANK);
      return -1;
    }
    ids[n++] = id;
    i++;
  }
  return n;
}

static Status set_label_size(EinsumSpec *sp, int label, int64_t dim, Error *err) {
  if (!sp->used[label] || sp->size[label] == 1) sp->size[label] = dim;
  else if (dim != 1 && dim != sp->size[label])
    return err_set(err, ST_SHAPE, "Einsum label '%c' has sizes %lld and %lld",
                   label < 26 ? 'A' + label : label < EIN_LETTERS ? 'a' + label - 26 : '.',
                   (long long)sp->size[label], (long long)dim);
  sp->used[label] = true;
  return ST_OK;
}

static Status einsum_parse(const Node *n, EinsumSpec *sp, Error *err) {
  const char *eq = ir_attr_string(n, "equation", NULL);
  if (!eq) return err_set(err, ST_INVALID, "Einsum needs an 'equation' attribute");
  char buf[EIN_MAX_EQUATION];
  size_t len = 0;
  for (const char *p = eq; *p; p++) {
    if (*p == ' ' || *p == '\t') continue;
    if (len + 1 >= sizeof buf) return err_set(err, ST_UNSUPPORTED, "Einsum equation too long");
    buf[len++] = *p;
  }
  buf[len] = 0;
  memset(sp, 0, sizeof *sp);
  if (n->num_inputs > EIN_MAX_INPUTS)
    return err_set(err, ST_UNSUPPORTED, "Einsum with more than %d inputs", EIN_MAX_INPUTS);
  sp->num_in = n->num_inputs;
  char *arrow = strstr(buf, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - buf) : len;

  /* Inputs: letters first, then the ellipsis rank, then label ids. */
  int letters[EIN_MAX_INPUTS][IR_MAX_RANK], nlet[EIN_MAX_INPUTS], ell[EIN_MAX_INPUTS];
  int term = 0, ell_rank = 0;
  size_t start = 0;
  for (size_t i = 0; i <= lhs_len; i++) {
    if (i < lhs_len && buf[i] != ',') continue;
    if (term >= sp->num_in)
      return err_set(err, ST_INVALID, "Einsum equation has more terms than the %d inputs",
                     sp->num_in);
    nlet[term] = parse_term(buf + start, i - start, letters[term], &ell[term], err);
    if (nlet[term] < 0) return err->status;
    const Value *v = n->inputs[term];
    if (!v) return err_set(err, ST_INVALID, "Einsum input %d is missing", term);
    int extra = v->rank - nlet[term];
    if (extra < 0 || (extra > 0 && ell[term] < 0))
      return err_set(err, ST_SHAPE, "Einsum term %d has %d labels but input %d has rank %d", term,
                     nlet[term], term, v->rank);
    if (extra > ell_rank) ell_rank = extra;
    term++;
    start = i + 1;
  }
  if (term != sp->num_in)
    return err_set(err, ST_INVALID, "Einsum equation has %d terms for %d inputs", term,
                   sp->num_in);
  for (int t = 0; t < sp->num_in; t++) {
    const Value *v = n->inputs[t];
    int extra = v->rank - nlet[t], d = 0;
    for (int j = 0; j <= nlet[t]; j++) {
      if (j == ell[t])
        for (int e = 0; e < extra; e++) sp->in_label[t][d++] = EIN_LETTERS + (ell_rank - extra) + e;
      if (j < nlet[t]) sp->in_label[t][d++] = letters[t][j];
    }
    sp->in_rank[t] = v->rank;
    for (int j = 0; j < v->rank; j++) {
      int l = sp->in_label[t][j];
      /* Repeated labels in one operand (a diagonal) must match exactly. */
      for (int q = 0; q < j; q++)
        if (sp->in_label[t][q] == l && v->dims[q] != v->dims[j])
          return err_set(err, ST_SHAPE, "Einsum diagonal of input %d has sizes %lld and %lld", t,
                         (long long)v->dims[q], (long long)v->dims[j]);
      TRY(set_label_size(sp, l, v->dims[j], err));
    }
  }

  /* Output. */
  if (arrow) {
    int ids[IR_MAX_RANK], oell;
    int no = parse_term(arrow + 2, len - lhs_len - 2, ids, &oell, err);
    if (no < 0) return err->status;
    int extra = oell >= 0 ? ell_rank : 0;
    if (no + extra > IR_MAX_RANK)
      return err_set(err, ST_UNSUPPORTED, "Einsum output rank above %d", IR_MAX_RANK);
    for (int j = 0; j <= no; j++) {
      if (j == oell)
        for (int e = 0; e < extra; e++) sp->out_label[sp->out_rank++] = EIN_LETTERS + e;
      if (j < no) {
        int l = ids[j];
        if (!sp->used[l])
          return err_set(err, ST_INVALID, "Einsum output label '%c' is not in any input",
                         l < 26 ? 'A' + l : 'a' + l - 26);
        for (int q = 0; q < j; q++)
          if (ids[q] == l) return err_set(err, ST_INVALID, "Einsum output repeats a label");
        sp->out_label[sp->out_rank++] = l;
      }
    }
  } else {
    int count[EIN_LETTERS] = {0};
    for (int t = 0; t < sp->num_in; t++)
      for (int j = 0; j < nlet[t]; j++) count[letters[t][j]]++;
    for (int e = 0; e < ell_rank; e++) sp->out_label[sp->out_rank++] = EIN_LETTERS + e;
    for (int l = 0; l < EIN_LETTERS; l++)
      if (count[l] == 1) {
        if (sp->out_rank >= IR_MAX_RANK)
          return err_set(err, ST_UNSUPPORTED, "Einsum output rank above %d", IR_MAX_RANK);
        sp->out_label[sp->out_rank++] = l;
      }
  }
  return ST_OK;
}

Status shape_einsum(Graph *g, Node *n, Error *err) {
  EinsumSpec sp;
  TRY(einsum_parse(n, &sp, err));
  DType t = n->inputs[0]->dtype;
  for (int i = 1; i < n->num_inputs; i++)
    if (n->inputs[i]->dtype != t)
      return err_set(err, ST_SHAPE, "Einsum inputs mix %s and %s", dtype_name(t),
                     dtype_name(n->inputs[i]->dtype));
  if (!linalg_numeric(t))
    return err_set(err, ST_UNSUPPORTED, "Einsum on %s is not supported", dtype_name(t));
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < sp.out_rank; i++) dims[i] = sp.size[sp.out_label[i]];
  return ops_set_output(n, 0, t, sp.out_rank, dims, err);
}

/* Stride of label l in input t: the sum over its dims carrying l (a
 * diagonal walks them together); a broadcast size-1 dim contributes 0. */
static int64_t label_stride(const EinsumSpec *sp, const Value *v, int t, int l) {
  int64_t st[IR_MAX_RANK], s = 0;
  ops_strides(v->rank, v->dims, st);
  for (int d = 0; d < v->rank; d++)
    if (sp->in_label[t][d] == l && !(v->dims[d] == 1 && sp->size[l] != 1)) s += st[d];
  return s;
}

/* ---- generic path ------------------------------------------------------ */

/* Scratch of the generic path: one stride per (input, label). */
static size_t generic_bytes(const EinsumSpec *sp) {
  return ops_scratch_add(0, (int64_t)sp->num_in * EIN_LABELS, sizeof(int64_t));
}

static Status einsum_generic(const Node *n, const EinsumSpec *sp, const void *const in[],
                             void *out, OpsScratch *scr, Error *err) {
  DType t = n->inputs[0]->dtype;
  bool is_float = linalg_kind(t) == LK_FLOAT;
  int order[EIN_LABELS], no = sp->out_rank, nt = no;
  bool in_out[EIN_LABELS] = {false};
  for (int i = 0; i < no; i++) {
    order[i] = sp->out_label[i];
    in_out[order[i]] = true;
  }
  for (int l = 0; l < EIN_LABELS; l++)
    if (sp->used[l] && !in_out[l]) order[nt++] = l;
  int64_t outer = 1, inner = 1, steps = 1;
  for (int i = 0; i < nt; i++) {
    int64_t s = sp->size[order[i]];
    if (i < no) outer *= s;
    else inner *= s;
    if (s > 0 && steps > EIN_MAX_STEPS / s)
      return err_set(err, ST_UNSUPPORTED, "Einsum too large for the generic loop");
    steps *= s;
  }
  void *stride_mem;
  TRY(ops_scratch_take(scr, (int64_t)sp->num_in * EIN_LABELS, sizeof(int64_t), &stride_mem, err));
  int64_t (*stride)[EIN_LABELS] = stride_mem;
  for (int t2 = 0; t2 < sp->num_in; t2++)
    for (int i = 0; i < nt; i++) stride[t2][i] = label_stride(sp, n->inputs[t2], t2, order[i]);

  int64_t idx[EIN_LABELS] = {0}, base[EIN_MAX_INPUTS] = {0}, off[EIN_MAX_INPUTS];
  for (int64_t o = 0; o < outer; o++) {
    double accf = 0;
    uint64_t acci = 0;
    for (int t2 = 0; t2 < sp->num_in; t2++) off[t2] = base[t2];
    for (int i = no; i < nt; i++) idx[i] = 0;
    for (int64_t s = 0; s < inner; s++) {
      double pf = 1;
      uint64_t pi = 1;
      for (int t2 = 0; t2 < sp->num_in; t2++) {
        if (is_float) pf *= linalg_ld(t, in[t2], (size_t)off[t2]);
        else pi *= linalg_ld_bits(t, in[t2], (size_t)off[t2]);
      }
      accf += pf;
      acci += pi;
      for (int i = nt - 1; i >= no; i--) {
        for (int t2 = 0; t2 < sp->num_in; t2++) off[t2] += stride[t2][i];
        if (++idx[i] < sp->size[order[i]]) break;
        for (int t2 = 0; t2 < sp->num_in; t2++) off[t2] -= stride[t2][i] * idx[i];
        idx[i] = 0;
      }
    }
    if (is_float) linalg_st(t, out, (size_t)o, accf);
    else linalg_st_bits(t, out, (size_t)o, acci);
    for (int i = no - 1; i >= 0; i--) {
      for (int t2 = 0; t2 < sp->num_in; t2++) base[t2] += stride[t2][i];
      if (++idx[i] < sp->size[order[i]]) break;
      for (int t2 = 0; t2 < sp->num_in; t2++) base[t2] -= stride[t2][i] * idx[i];
      idx[i] = 0;
    }
  }
  return ST_OK;
}

/* ---- float32 two-operand contraction ----------------------------------- */

/* dst (contiguous, row-major over sizes[0..nd)) = src at sum(idx*strides). */
static void gather_f32(int nd, const int64_t *sizes, const int64_t *strides, const float *src,
                       float *dst) {
  int64_t total = 1, idx[EIN_LABELS] = {0}, off = 0;
  for (int i = 0; i < nd; i++) total *= sizes[i];
  for (int64_t e = 0; e < total; e++) {
    dst[e] = src[off];
    for (int i = nd - 1; i >= 0; i--) {
      off += strides[i];
      if (++idx[i] < sizes[i]) break;
      off -= strides[i] * idx[i];
      idx[i] = 0;
    }
  }
}

/* dst at sum(idx*strides) = src (contiguous, row-major over sizes[0..nd)). */
static void scatter_f32(int nd, const int64_t *sizes, const int64_t *strides, const float *src,
                        float *dst) {
  int64_t total = 1, idx[EIN_LABELS] = {0}, off = 0;
  for (int i = 0; i < nd; i++) total *= sizes[i];
  for (int64_t e = 0; e < total; e++) {
    dst[off] = src[e];
    for (int i = nd - 1; i >= 0; i--) {
      off += strides[i];
      if (++idx[i] < sizes[i]) break;
      off -= strides[i] * idx[i];
      idx[i] = 0;
    }
  }
}

/* The labels of a float32 two-operand contraction in four groups: batch
 * (in A, B and the output), M (A and output), N (B and output), K (A and
 * B, summed). */
typedef struct Contraction {
  int grp[4][EIN_LABELS], ng[4];
  int64_t gsize[4];
} Contraction;

/* False when the equation does not fit the batch/M/N/K pattern (diagonals,
 * broadcasting, a label summed within one operand): the generic path
 * then runs. */
static bool contraction_plan(const Node *n, const EinsumSpec *sp, Contraction *c) {
  if (n->inputs[0]->dtype != DT_FLOAT32 || sp->num_in != 2) return false;
  const Value *va = n->inputs[0], *vb = n->inputs[1];
  bool in_a[EIN_LABELS] = {false}, in_b[EIN_LABELS] = {false}, in_o[EIN_LABELS] = {false};
  for (int d = 0; d < va->rank; d++) {
    int l = sp->in_label[0][d];
    if (in_a[l] || va->dims[d] != sp->size[l]) return false; /* diagonal or broadcast */
    in_a[l] = true;
  }
  for (int d = 0; d < vb->rank; d++) {
    int l = sp->in_label[1][d];
    if (in_b[l] || vb->dims[d] != sp->size[l]) return false;
    in_b[l] = true;
  }
  for (int i = 0; i < sp->out_rank; i++) in_o[sp->out_label[i]] = true;
  memset(c, 0, sizeof *c);
  for (int g = 0; g < 4; g++) c->gsize[g] = 1;
  for (int l = 0; l < EIN_LABELS; l++) {
    if (!sp->used[l]) continue;
    int gi;
    if (in_a[l] && in_b[l]) gi = in_o[l] ? 0 : 3;
    else if (!in_o[l]) return false;
    else gi = in_a[l] ? 1 : 2;
    c->grp[gi][c->ng[gi]++] = l;
    c->gsize[gi] *= sp->size[l];
  }
  return true;
}

/* One batch's packed A [M, K], B [K, N] and C [M, N]. */
static size_t contraction_bytes(const Contraction *c) {
  int64_t m = c->gsize[1], nn = c->gsize[2], k = c->gsize[3];
  size_t total = ops_scratch_add(0, m * k, sizeof(float));
  total = ops_scratch_add(total, k * nn, sizeof(float));
  return ops_scratch_add(total, m * nn, sizeof(float));
}

static Status einsum_contract_f32(const Node *n, const EinsumSpec *sp, const Contraction *c,
                                  const void *const in[], void *out, OpsScratch *scr,
                                  Error *err) {
  const Value *va = n->inputs[0], *vb = n->inputs[1];
  int64_t nb = c->gsize[0], m = c->gsize[1], nn = c->gsize[2], k = c->gsize[3];
  void *ma, *mb, *mc;
  TRY(ops_scratch_take(scr, m * k, sizeof(float), &ma, err));
  TRY(ops_scratch_take(scr, k * nn, sizeof(float), &mb, err));
  TRY(ops_scratch_take(scr, m * nn, sizeof(float), &mc, err));
  float *pa = ma, *pb = mb, *pc = mc;
  /* Row-major strides of the output's labels. */
  int64_t ostride[EIN_LABELS] = {0}, s = 1;
  for (int i = sp->out_rank - 1; i >= 0; i--) {
    ostride[sp->out_label[i]] = s;
    s *= sp->size[sp->out_label[i]];
  }
  /* Within a batch, A is read as [M..., K...], B as [K..., N...] and C
   * written as [M..., N...]. */
  int64_t asz[EIN_LABELS], ast[EIN_LABELS], bsz[EIN_LABELS], bst[EIN_LABELS];
  int64_t csz[EIN_LABELS], cst[EIN_LABELS];
  int na = 0, nbd = 0, nc = 0;
  const int a_groups[2] = {1, 3}, b_groups[2] = {3, 2}, c_groups[2] = {1, 2};
  for (int gi = 0; gi < 2; gi++) {
    for (int j = 0; j < c->ng[a_groups[gi]]; j++) {
      int l = c->grp[a_groups[gi]][j];
      asz[na] = sp->size[l];
      ast[na++] = label_stride(sp, va, 0, l);
    }
    for (int j = 0; j < c->ng[b_groups[gi]]; j++) {
      int l = c->grp[b_groups[gi]][j];
      bsz[nbd] = sp->size[l];
      bst[nbd++] = label_stride(sp, vb, 1, l);
    }
    for (int j = 0; j < c->ng[c_groups[gi]]; j++) {
      int l = c->grp[c_groups[gi]][j];
      csz[nc] = sp->size[l];
      cst[nc++] = ostride[l];
    }
  }
  int nbl = c->ng[0];
  int64_t bidx[EIN_LABELS] = {0}, aoff = 0, boff = 0, ooff = 0;
  for (int64_t b = 0; b < nb; b++) {
    gather_f32(na, asz, ast, (const float *)in[0] + aoff, pa);
    gather_f32(nbd, bsz, bst, (const float *)in[1] + boff, pb);
    linalg_sgemm(m, nn, k, pa, k, pb, nn, pc, nn);
    scatter_f32(nc, csz, cst, pc, (float *)out + ooff);
    for (int i = nbl - 1; i >= 0; i--) {
      int l = c->grp[0][i];
      int64_t sa = label_stride(sp, va, 0, l), sb = label_stride(sp, vb, 1, l);
      aoff += sa;
      boff += sb;
      ooff += ostride[l];
      if (++bidx[i] < sp->size[l]) break;
      aoff -= sa * bidx[i];
      boff -= sb * bidx[i];
      ooff -= ostride[l] * bidx[i];
      bidx[i] = 0;
    }
  }
  return ST_OK;
}

size_t scratch_einsum(const Node *n) {
  EinsumSpec sp;
  Error e;
  if (einsum_parse(n, &sp, &e) != ST_OK) return 0;
  Contraction c;
  return contraction_plan(n, &sp, &c) ? contraction_bytes(&c) : generic_bytes(&sp);
}

Status eval_einsum(const Node *n, const void *const in[], void *const out[], Error *err) {
  EinsumSpec sp;
  TRY(einsum_parse(n, &sp, err));
  OpsScratch s = ops_scratch_begin(out, n->num_outputs, scratch_einsum(n));
  Contraction c;
  if (contraction_plan(n, &sp, &c)) return einsum_contract_f32(n, &sp, &c, in, out[0], &s, err);
  return einsum_generic(n, &sp, in, out[0], &s, err);
}
