/*
 * Einsum: shape rule and reference kernel.
 *
 * The equation is parsed into labels: letters get ids 0..51 in ASCII order
 * (so implicit outputs sort as numpy sorts them) and the dims under "..."
 * get ids 52.. right-aligned, broadcasting across operands like numpy.
 * The kernel has two paths: a generic loop over every label (diagonals,
 * sums, any number of operands), and for float32 two-operand contractions
 * (`bhnd,bhmd->bhnm`, `bnd,md->bnm`, batch matmul) a rewrite into
 * batch / M / N / K groups that packs both operands and runs linalg_sgemm.
 */
#include "linalg.h"

#include <stdlib.h>
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

static Status einsum_generic(const Node *n, const EinsumSpec *sp, const void *const in[],
                             void *out, Error *err) {
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
  int64_t (*stride)[EIN_LABELS] = calloc((size_t)sp->num_in, sizeof *stride);
  if (!stride) return err_set(err, ST_NOMEM, "out of memory");
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
  free(stride);
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

/* Returns false (and does nothing) when the equation does not fit the
 * batch/M/N/K pattern; the caller then takes the generic path. */
static bool einsum_contract_f32(const Node *n, const EinsumSpec *sp, const void *const in[],
                                void *out, Status *st, Error *err) {
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
  /* Groups in a fixed order: batch, M, N, K. */
  int grp[4][EIN_LABELS], ng[4] = {0};
  int64_t gsize[4] = {1, 1, 1, 1};
  for (int l = 0; l < EIN_LABELS; l++) {
    if (!sp->used[l]) continue;
    int gi;
    if (in_a[l] && in_b[l]) gi = in_o[l] ? 0 : 3;
    else if (!in_o[l]) return false; /* summed within one operand */
    else gi = in_a[l] ? 1 : 2;
    grp[gi][ng[gi]++] = l;
    gsize[gi] *= sp->size[l];
  }
  int64_t nb = gsize[0], m = gsize[1], nn = gsize[2], k = gsize[3];
  float *pa = malloc((size_t)(nb * m * k) * sizeof(float) + 1);
  float *pb = malloc((size_t)(nb * k * nn) * sizeof(float) + 1);
  float *pc = malloc((size_t)(nb * m * nn) * sizeof(float) + 1);
  if (!pa || !pb || !pc) {
    free(pa);
    free(pb);
    free(pc);
    *st = err_set(err, ST_NOMEM, "out of memory for Einsum operands");
    return true;
  }
  /* Pack A as [batch, M, K] and B as [batch, K, N]. */
  int64_t sizes[EIN_LABELS], strides[EIN_LABELS];
  const int pack_a[3] = {0, 1, 3}, pack_b[3] = {0, 3, 2};
  for (int which = 0; which < 2; which++) {
    const int *groups = which == 0 ? pack_a : pack_b;
    int nd = 0;
    for (int gi = 0; gi < 3; gi++)
      for (int j = 0; j < ng[groups[gi]]; j++) {
        int l = grp[groups[gi]][j];
        sizes[nd] = sp->size[l];
        strides[nd++] = label_stride(sp, which == 0 ? va : vb, which, l);
      }
    gather_f32(nd, sizes, strides, in[which], which == 0 ? pa : pb);
  }
  for (int64_t b = 0; b < nb; b++)
    linalg_sgemm(m, nn, k, pa + b * m * k, k, pb + b * k * nn, nn, pc + b * m * nn, nn);
  /* pc is [batch, M, N]; read it in the output's label order. */
  int64_t cstride[EIN_LABELS] = {0}, s = 1;
  const int pack_c[3] = {2, 1, 0};
  for (int gi = 0; gi < 3; gi++)
    for (int j = ng[pack_c[gi]] - 1; j >= 0; j--) {
      int l = grp[pack_c[gi]][j];
      cstride[l] = s;
      s *= sp->size[l];
    }
  for (int i = 0; i < sp->out_rank; i++) {
    sizes[i] = sp->size[sp->out_label[i]];
    strides[i] = cstride[sp->out_label[i]];
  }
  gather_f32(sp->out_rank, sizes, strides, pc, out);
  free(pa);
  free(pb);
  free(pc);
  *st = ST_OK;
  return true;
}

Status eval_einsum(const Node *n, const void *const in[], void *const out[], Error *err) {
  EinsumSpec sp;
  TRY(einsum_parse(n, &sp, err));
  if (n->inputs[0]->dtype == DT_FLOAT32 && sp.num_in == 2) {
    Status st = ST_OK;
    if (einsum_contract_f32(n, &sp, in, out[0], &st, err)) return st;
  }
  return einsum_generic(n, &sp, in, out[0], err);
}
