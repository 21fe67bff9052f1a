/*
 * .npy reader and writer (NumPy format versions 1.0, 2.0 and 3.0).
 *
 * File layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.0,
 * uint32 LE for 2.0/3.0), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n', then the raw little-endian C-order
 * data.  The reader trusts nothing: header length, dict syntax, dtype, rank,
 * every dim and the exact data length are all checked, and each problem gets
 * its own message.  The writer emits version 1.0 with a 64-byte aligned
 * header, as NumPy does.  Only little-endian hosts are supported.
 */
#include "npy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER 65536               /* NumPy itself refuses more than 10000 by default */
#define NPY_MAX_NUMEL ((int64_t)1 << 40)   /* same bound as the IR's */
#define NPY_MAX_BYTES ((uint64_t)1 << 40)

typedef struct NpyType {
  const char *descr;
  DType dtype;
} NpyType;

/* The descr strings NumPy writes on a little-endian machine. */
static const NpyType npy_types[] = {
    {"<f4", DT_FLOAT32}, {"<f8", DT_FLOAT64}, {"<f2", DT_FLOAT16}, {"<i8", DT_INT64},
    {"<i4", DT_INT32},   {"<i2", DT_INT16},   {"|i1", DT_INT8},    {"|u1", DT_UINT8},
    {"<u2", DT_UINT16},  {"<u4", DT_UINT32},  {"<u8", DT_UINT64},  {"|b1", DT_BOOL},
};
#define NPY_NUM_TYPES (sizeof npy_types / sizeof npy_types[0])

static bool host_is_little_endian(void) {
  const uint16_t one = 1;
  uint8_t first;
  memcpy(&first, &one, 1);
  return first == 1;
}

/* ---- header dict parsing ---------------------------------------------- */

typedef struct Cursor {
  const char *p, *end;
  const char *src;
  Error *err;
} Cursor;

static void skip_space(Cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool accept(Cursor *c, char ch) {
  skip_space(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

static Status expect(Cursor *c, char ch, const char *where) {
  if (accept(c, ch)) return ST_OK;
  return err_set(c->err, ST_PARSE, "%s: malformed header: expected '%c' %s", c->src, ch, where);
}

/* A quoted Python string without escapes (all keys and descrs are plain). */
static Status parse_string(Cursor *c, char *out, size_t size, const char *what) {
  skip_space(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return err_set(c->err, ST_PARSE, "%s: malformed header: expected a quoted %s", c->src, what);
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= size)
      return err_set(c->err, ST_PARSE, "%s: malformed header: %s is too long or has escapes",
                     c->src, what);
    out[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return err_set(c->err, ST_PARSE, "%s: malformed header: unterminated %s", c->src, what);
  c->p++;
  out[n] = '\0';
  return ST_OK;
}

static bool accept_word(Cursor *c, const char *w) {
  skip_space(c);
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return true;
  }
  return false;
}

/* A non-negative decimal dim (an 'L' suffix from Python 2 writers allowed). */
static Status parse_dim(Cursor *c, int64_t *out) {
  skip_space(c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9')
    return err_set(c->err, ST_PARSE, "%s: malformed header: shape holds a non-integer", c->src);
  int64_t v = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    v = v * 10 + (*c->p - '0');
    if (v > NPY_MAX_NUMEL)
      return err_set(c->err, ST_PARSE, "%s: shape dim too large (above %lld)", c->src,
                     (long long)NPY_MAX_NUMEL);
    c->p++;
  }
  if (c->p < c->end && *c->p == 'L') c->p++;
  *out = v;
  return ST_OK;
}

/* "()", "(3,)", "(2, 3)", "(2, 3,)". */
static Status parse_shape(Cursor *c, NpyArray *out) {
  TRY(expect(c, '(', "to open the shape tuple"));
  out->rank = 0;
  if (accept(c, ')')) return ST_OK;
  for (;;) {
    if (out->rank == NPY_MAX_RANK)
      return err_set(c->err, ST_UNSUPPORTED, "%s: shape has more than %d dims", c->src,
                     NPY_MAX_RANK);
    TRY(parse_dim(c, &out->dims[out->rank++]));
    if (accept(c, ')')) break;
    TRY(expect(c, ',', "between shape dims"));
    if (accept(c, ')')) break;
  }
  return ST_OK;
}

static Status lookup_descr(Cursor *c, const char *descr, DType *out) {
  for (size_t i = 0; i < NPY_NUM_TYPES; i++)
    if (strcmp(npy_types[i].descr, descr) == 0) {
      *out = npy_types[i].dtype;
      return ST_OK;
    }
  if (descr[0] == '>')
    return err_set(c->err, ST_UNSUPPORTED, "%s: big-endian dtype '%s' is not supported", c->src,
                   descr);
  return err_set(c->err, ST_UNSUPPORTED,
                 "%s: unsupported dtype '%s' (supported: <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 <u2 "
                 "<u4 <u8 |b1)",
                 c->src, descr);
}

static Status parse_dict(const char *h, size_t len, const char *src, NpyArray *out, Error *err) {
  Cursor c = {h, h + len, src, err};
  bool have_descr = false, have_order = false, have_shape = false;
  TRY(expect(&c, '{', "at the start of the header dict"));
  while (!accept(&c, '}')) {
    char key[32];
    TRY(parse_string(&c, key, sizeof key, "key"));
    TRY(expect(&c, ':', "after a key"));
    if (strcmp(key, "descr") == 0 && !have_descr) {
      char descr[32];
      TRY(parse_string(&c, descr, sizeof descr, "descr"));
      TRY(lookup_descr(&c, descr, &out->dtype));
      have_descr = true;
    } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
      if (accept_word(&c, "True"))
        return err_set(err, ST_UNSUPPORTED,
                       "%s: fortran_order True is not supported (save a C-order array)", src);
      if (!accept_word(&c, "False"))
        return err_set(err, ST_PARSE, "%s: malformed header: fortran_order is not True/False",
                       src);
      have_order = true;
    } else if (strcmp(key, "shape") == 0 && !have_shape) {
      TRY(parse_shape(&c, out));
      have_shape = true;
    } else {
      return err_set(err, ST_PARSE, "%s: malformed header: unexpected or repeated key '%s'", src,
                     key);
    }
    if (accept(&c, '}')) break;
    TRY(expect(&c, ',', "between header entries"));
  }
  skip_space(&c);
  if (c.p != c.end)
    return err_set(err, ST_PARSE, "%s: malformed header: trailing text after the dict", src);
  if (!have_descr || !have_order || !have_shape)
    return err_set(err, ST_PARSE, "%s: malformed header: missing '%s'", src,
                   !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
  return ST_OK;
}

/* ---- reading ---------------------------------------------------------- */

/* Checks magic and version in the first bytes; gives the header's offset and length. */
static Status parse_preamble(const uint8_t *b, size_t avail, const char *src, size_t *hoff,
                             size_t *hlen, Error *err) {
  size_t cmp = avail < NPY_MAGIC_LEN ? avail : NPY_MAGIC_LEN;
  if (avail == 0 || memcmp(b, NPY_MAGIC, cmp) != 0)
    return err_set(err, ST_PARSE, "%s: not a .npy file (bad magic)", src);
  if (avail < NPY_MAGIC_LEN + 2) return err_set(err, ST_PARSE, "%s: truncated header", src);
  int major = b[6], minor = b[7];
  if (major == 1 && minor == 0) {
    if (avail < 10) return err_set(err, ST_PARSE, "%s: truncated header", src);
    *hoff = 10;
    *hlen = (size_t)b[8] | (size_t)b[9] << 8;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (avail < 12) return err_set(err, ST_PARSE, "%s: truncated header", src);
    *hoff = 12;
    *hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
  } else {
    return err_set(err, ST_UNSUPPORTED, "%s: .npy format version %d.%d is not supported", src,
                   major, minor);
  }
  if (*hlen == 0 || *hlen > NPY_MAX_HEADER)
    return err_set(err, ST_PARSE, "%s: header length %zu is out of range (1..%d)", src, *hlen,
                   NPY_MAX_HEADER);
  return ST_OK;
}

/* Parses the dict and computes out->nbytes with overflow checks. */
static Status parse_header(const char *h, size_t hlen, const char *src, NpyArray *out,
                           Error *err) {
  *out = (NpyArray){0};
  TRY(parse_dict(h, hlen, src, out, err));
  int64_t numel = 1;
  for (int i = 0; i < out->rank; i++) {
    if (out->dims[i] != 0 && numel > NPY_MAX_NUMEL / out->dims[i])
      return err_set(err, ST_NOMEM, "%s: shape has more than %lld elements", src,
                     (long long)NPY_MAX_NUMEL);
    numel *= out->dims[i];
  }
  uint64_t nbytes = (uint64_t)numel * dtype_size(out->dtype);
  if (nbytes > NPY_MAX_BYTES)
    return err_set(err, ST_NOMEM, "%s: data of %llu bytes is too large", src,
                   (unsigned long long)nbytes);
  out->nbytes = (size_t)nbytes;
  return ST_OK;
}

static Status check_data_len(const char *src, uint64_t have, size_t want, Error *err) {
  if (have < want)
    return err_set(err, ST_PARSE, "%s: truncated data: %llu bytes, the header promises %zu", src,
                   (unsigned long long)have, want);
  if (have > want)
    return err_set(err, ST_PARSE, "%s: %llu bytes of data, the header promises %zu", src,
                   (unsigned long long)have, want);
  return ST_OK;
}

/* numpy writes bools as 0/1; any other byte becomes 1 so later code can rely on it. */
static void normalize_bool(NpyArray *a) {
  if (a->dtype != DT_BOOL) return;
  uint8_t *p = a->data;
  for (size_t i = 0; i < a->nbytes; i++) p[i] = p[i] != 0;
}

static Status alloc_data(NpyArray *a, const char *src, Error *err) {
  a->data = malloc(a->nbytes ? a->nbytes : 1);
  if (!a->data)
    return err_set(err, ST_NOMEM, "%s: out of memory for %zu bytes of data", src, a->nbytes);
  return ST_OK;
}

Status npy_read_buffer(const void *buf, size_t len, const char *source, NpyArray *out,
                       Error *err) {
  const uint8_t *b = buf;
  const char *src = source ? source : "<memory>";
  *out = (NpyArray){0};
  if (!host_is_little_endian())
    return err_set(err, ST_UNSUPPORTED, "%s: .npy files need a little-endian host", src);
  size_t hoff = 0, hlen = 0;
  TRY(parse_preamble(b, len, src, &hoff, &hlen, err));
  if (len - hoff < hlen)
    return err_set(err, ST_PARSE, "%s: truncated header: %zu of %zu bytes", src, len - hoff,
                   hlen);
  NpyArray a;
  TRY(parse_header((const char *)b + hoff, hlen, src, &a, err));
  TRY(check_data_len(src, len - hoff - hlen, a.nbytes, err));
  TRY(alloc_data(&a, src, err));
  if (a.nbytes) memcpy(a.data, b + hoff + hlen, a.nbytes);
  normalize_bool(&a);
  *out = a;
  return ST_OK;
}

Status npy_read(const char *path, NpyArray *out, Error *err) {
  *out = (NpyArray){0};
  if (!host_is_little_endian())
    return err_set(err, ST_UNSUPPORTED, "%s: .npy files need a little-endian host", path);
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, ST_IO, "%s: cannot open: %s", path, strerror(errno));
  Status st = ST_OK;
  char *header = NULL;
  NpyArray a = {0};
  uint8_t pre[12];
  size_t got = fread(pre, 1, sizeof pre, f);
  size_t hoff = 0, hlen = 0;
  st = parse_preamble(pre, got, path, &hoff, &hlen, err);
  if (st != ST_OK) goto done;
  header = malloc(hlen);
  if (!header) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto done;
  }
  /* The preamble read may have taken header bytes already (version 1.0). */
  size_t have = got - hoff;
  if (have > hlen) have = hlen;
  memcpy(header, pre + hoff, have);
  if (fseek(f, (long)(hoff + have), SEEK_SET) != 0 ||
      fread(header + have, 1, hlen - have, f) != hlen - have) {
    st = err_set(err, ST_PARSE, "%s: truncated header (%zu bytes promised)", path, hlen);
    goto done;
  }
  st = parse_header(header, hlen, path, &a, err);
  if (st != ST_OK) goto done;
  long start = ftell(f);
  if (start < 0 || fseek(f, 0, SEEK_END) != 0) {
    st = err_set(err, ST_IO, "%s: cannot seek: %s", path, strerror(errno));
    goto done;
  }
  long end = ftell(f);
  if (end < start || fseek(f, start, SEEK_SET) != 0) {
    st = err_set(err, ST_IO, "%s: cannot seek: %s", path, strerror(errno));
    goto done;
  }
  st = check_data_len(path, (uint64_t)(end - start), a.nbytes, err);
  if (st != ST_OK) goto done;
  st = alloc_data(&a, path, err);
  if (st != ST_OK) goto done;
  if (fread(a.data, 1, a.nbytes, f) != a.nbytes) {
    st = err_set(err, ST_IO, "%s: read error", path);
    goto done;
  }
  normalize_bool(&a);
  *out = a;
  a.data = NULL;
done:
  free(a.data);
  free(header);
  fclose(f);
  return st;
}

void npy_free(NpyArray *a) {
  if (!a) return;
  free(a->data);
  a->data = NULL;
  a->nbytes = 0;
}

/* ---- writing ---------------------------------------------------------- */

Status npy_write(const char *path, DType dt, int rank, const int64_t *dims, const void *data,
                 Error *err) {
  const char *descr = NULL;
  for (size_t i = 0; i < NPY_NUM_TYPES; i++)
    if (npy_types[i].dtype == dt) descr = npy_types[i].descr;
  if (!descr)
    return err_set(err, ST_UNSUPPORTED, "%s: .npy has no type for %s", path, dtype_name(dt));
  if (!host_is_little_endian())
    return err_set(err, ST_UNSUPPORTED, "%s: .npy files need a little-endian host", path);
  if (rank < 0 || rank > NPY_MAX_RANK)
    return err_set(err, ST_INVALID, "%s: rank %d is out of range (0..%d)", path, rank,
                   NPY_MAX_RANK);

  char header[512];
  int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                   descr);
  int64_t numel = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0 || (dims[i] != 0 && numel > NPY_MAX_NUMEL / dims[i]))
      return err_set(err, ST_INVALID, "%s: bad dim %lld", path, (long long)dims[i]);
    numel *= dims[i];
    n += snprintf(header + n, sizeof header - (size_t)n, "%s%lld", i ? ", " : "",
                  (long long)dims[i]);
  }
  n += snprintf(header + n, sizeof header - (size_t)n, "%s), }", rank == 1 ? "," : "");
  /* Pad with spaces so magic + version + length + header is a multiple of 64, ending in '\n'. */
  size_t total = 10 + (size_t)n + 1;
  size_t padded = (total + 63) / 64 * 64;
  size_t hlen = padded - 10;
  memset(header + n, ' ', hlen - (size_t)n - 1);
  header[hlen - 1] = '\n';

  size_t nbytes = (size_t)numel * dtype_size(dt);
  if (nbytes && !data) return err_set(err, ST_INVALID, "%s: no data to write", path);
  uint8_t pre[10];
  memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
  pre[6] = 1;
  pre[7] = 0;
  pre[8] = (uint8_t)(hlen & 0xff);
  pre[9] = (uint8_t)(hlen >> 8);

  FILE *f = fopen(path, "wb");
  if (!f) return err_set(err, ST_IO, "%s: cannot create: %s", path, strerror(errno));
  bool ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(header, 1, hlen, f) == hlen &&
            (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
  int saved = errno;
  if (fclose(f) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (!ok) return err_set(err, ST_IO, "%s: write failed: %s", path, strerror(saved));
  return ST_OK;
}
