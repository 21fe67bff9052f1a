/*
 * Tests for runtime/npy.c: the exact bytes NumPy's format specifies for a
 * written file, reading hand-built 1.0/2.0/3.0 files, round trips of every
 * supported dtype, and a table of malformed files (built here) that must each
 * fail with the right status and a message naming the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/npy.h"

/* Builds magic + version + length + header text (padded to 64 with '\n') + data. */
static size_t build_npy(uint8_t *out, size_t cap, int major, const char *dict, const void *data,
                        size_t nbytes) {
  size_t pre = major == 1 ? 10 : 12;
  size_t len = strlen(dict);
  size_t hlen = ((pre + len + 1 + 63) / 64) * 64 - pre;
  assert_true(pre + hlen + nbytes <= cap);
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (uint8_t)major;
  out[7] = 0;
  if (major == 1) {
    out[8] = (uint8_t)hlen;
    out[9] = (uint8_t)(hlen >> 8);
  } else {
    for (int i = 0; i < 4; i++) out[8 + i] = (uint8_t)(hlen >> (8 * i));
  }
  memcpy(out + pre, dict, len);
  memset(out + pre + len, ' ', hlen - len - 1);
  out[pre + hlen - 1] = '\n';
  if (nbytes) memcpy(out + pre + hlen, data, nbytes);
  return pre + hlen + nbytes;
}

static char *temp_path(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "test_npy_%ld_%s", (long)getpid(), name);
  return buf;
}

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  uint8_t *b = calloc(1, 1 << 16); /* zeroed: the header text is NUL-terminated */
  assert_non_null(b);
  *len = fread(b, 1, (1 << 16) - 1, f);
  fclose(f);
  return b;
}

/* The header NumPy's format documentation gives for a C-order float32 (2, 3) array. */
static void write_matches_numpy_layout(void **state) {
  (void)state;
  const float data[6] = {1, 2, 3, 4, 5, 6};
  const int64_t dims[2] = {2, 3};
  Error err = {0};
  char *path = temp_path("layout.npy");
  assert_int_equal(npy_write(path, DT_FLOAT32, 2, dims, data, &err), ST_OK);
  size_t len;
  uint8_t *b = slurp(path, &len);
  remove(path);
  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  assert_int_equal(len, 128 + 24); /* header padded to 128 bytes, then 6 floats */
  assert_memory_equal(b, "\x93NUMPY\x01\x00", 8);
  assert_int_equal(b[8] | b[9] << 8, 118);
  assert_memory_equal(b + 10, dict, strlen(dict));
  for (size_t i = 10 + strlen(dict); i < 127; i++) assert_int_equal(b[i], ' ');
  assert_int_equal(b[127], '\n');
  assert_memory_equal(b + 128, data, sizeof data);
  free(b);
}

/* Shape spellings NumPy writes for rank 0 and rank 1. */
static void write_scalar_and_vector_shapes(void **state) {
  (void)state;
  Error err = {0};
  char *path = temp_path("shapes.npy");
  const int64_t d1[1] = {3};
  const int64_t v[3] = {7, -8, 9};
  assert_int_equal(npy_write(path, DT_INT64, 1, d1, v, &err), ST_OK);
  size_t len;
  uint8_t *b = slurp(path, &len);
  assert_non_null(strstr((char *)b + 10, "'shape': (3,), }"));
  assert_memory_equal(b + 10, "{'descr': '<i8'", 15);
  free(b);
  const double s = 2.5;
  assert_int_equal(npy_write(path, DT_FLOAT64, 0, NULL, &s, &err), ST_OK);
  b = slurp(path, &len);
  assert_non_null(strstr((char *)b + 10, "'shape': (), }"));
  assert_int_equal(len, 128 + 8); /* 10 + 56-byte dict + '\n' rounds up to 128 */
  free(b);
  NpyArray a;
  assert_int_equal(npy_read(path, &a, &err), ST_OK);
  assert_int_equal(a.rank, 0);
  assert_int_equal(a.nbytes, 8);
  assert_true(*(double *)a.data == 2.5);
  npy_free(&a);
  remove(path);
}

static void round_trip_every_dtype(void **state) {
  (void)state;
  static const struct {
    DType dt;
    size_t size;
  } types[] = {{DT_FLOAT32, 4}, {DT_FLOAT64, 8}, {DT_FLOAT16, 2}, {DT_INT64, 8},
               {DT_INT32, 4},   {DT_INT16, 2},   {DT_INT8, 1},    {DT_UINT8, 1},
               {DT_UINT16, 2},  {DT_UINT32, 4},  {DT_UINT64, 8},  {DT_BOOL, 1}};
  const int64_t dims[3] = {2, 1, 3};
  uint8_t data[48];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 37 + 5);
  char *path = temp_path("rt.npy");
  for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
    Error err = {0};
    if (types[t].dt == DT_BOOL)
      for (size_t i = 0; i < 6; i++) data[i] = (uint8_t)(i & 1);
    assert_int_equal(npy_write(path, types[t].dt, 3, dims, data, &err), ST_OK);
    NpyArray a;
    Status st = npy_read(path, &a, &err);
    if (st != ST_OK) fail_msg("dtype %s: %s", dtype_name(types[t].dt), err.msg);
    assert_int_equal(a.dtype, types[t].dt);
    assert_int_equal(a.rank, 3);
    assert_int_equal(a.dims[0], 2);
    assert_int_equal(a.dims[1], 1);
    assert_int_equal(a.dims[2], 3);
    assert_int_equal(a.nbytes, 6 * types[t].size);
    assert_memory_equal(a.data, data, a.nbytes);
    npy_free(&a);
  }
  remove(path);
}

static void write_refuses_types_npy_lacks(void **state) {
  (void)state;
  Error err = {0};
  const int64_t d[1] = {1};
  const uint16_t x = 0;
  assert_int_equal(npy_write(temp_path("bf.npy"), DT_BFLOAT16, 1, d, &x, &err), ST_UNSUPPORTED);
  assert_non_null(strstr(err.msg, "bfloat16"));
}

/* Versions 2.0 and 3.0 differ from 1.0 only in the 4-byte header length. */
static void reads_versions_2_and_3(void **state) {
  (void)state;
  const int32_t v[4] = {1, -2, 3, -4};
  for (int major = 1; major <= 3; major++) {
    uint8_t buf[256];
    size_t len = build_npy(buf, sizeof buf, major,
                           "{\"descr\":\"<i4\",\"shape\":(2,2),\"fortran_order\":False}", v,
                           sizeof v);
    NpyArray a;
    Error err = {0};
    Status st = npy_read_buffer(buf, len, "mem.npy", &a, &err);
    if (st != ST_OK) fail_msg("version %d: %s", major, err.msg);
    assert_int_equal(a.dtype, DT_INT32);
    assert_int_equal(a.rank, 2);
    assert_memory_equal(a.data, v, sizeof v);
    npy_free(&a);
  }
}

static void zero_sized_array(void **state) {
  (void)state;
  uint8_t buf[256];
  size_t len = build_npy(buf, sizeof buf, 1,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", NULL, 0);
  NpyArray a;
  Error err = {0};
  assert_int_equal(npy_read_buffer(buf, len, "z.npy", &a, &err), ST_OK);
  assert_int_equal(a.nbytes, 0);
  assert_int_equal(a.dims[0], 0);
  assert_int_equal(a.dims[1], 5);
  npy_free(&a);
}

static void bool_bytes_are_normalized(void **state) {
  (void)state;
  const uint8_t v[3] = {0, 1, 7};
  uint8_t buf[256];
  size_t len = build_npy(buf, sizeof buf, 1,
                         "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", v, 3);
  NpyArray a;
  Error err = {0};
  assert_int_equal(npy_read_buffer(buf, len, "b.npy", &a, &err), ST_OK);
  assert_int_equal(((uint8_t *)a.data)[2], 1);
  npy_free(&a);
}

typedef struct BadCase {
  const char *what;
  const char *dict;     /* NULL: use raw bytes below */
  int major;
  size_t data_bytes;    /* bytes of (zero) data appended */
  Status status;
  const char *msg_part; /* must appear in the error message */
} BadCase;

static const BadCase bad_cases[] = {
    {"fortran order", "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 1, 8,
     ST_UNSUPPORTED, "fortran_order"},
    {"data too short", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 1, 20,
     ST_PARSE, "truncated data"},
    {"data too long", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 1, 28,
     ST_PARSE, "promises 24"},
    {"unknown dtype", "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 1, 8,
     ST_UNSUPPORTED, "'<c8'"},
    {"big endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 1, 4,
     ST_UNSUPPORTED, "big-endian"},
    {"object dtype", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 1, 8,
     ST_UNSUPPORTED, "'|O'"},
    {"huge dims overflow", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, "
     "4294967296, 4294967296), }", 1, 0, ST_NOMEM, "elements"},
    {"dim beyond bound", "{'descr': '<f8', 'fortran_order': False, 'shape': "
     "(99999999999999999999999,), }", 1, 0, ST_PARSE, "too large"},
    {"too many dims", "{'descr': '<f4', 'fortran_order': False, 'shape': "
     "(1,1,1,1,1,1,1,1,1), }", 1, 4, ST_UNSUPPORTED, "more than 8 dims"},
    {"negative dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 1, 0,
     ST_PARSE, "non-integer"},
    {"missing shape", "{'descr': '<f4', 'fortran_order': False, }", 1, 0, ST_PARSE,
     "missing 'shape'"},
    {"repeated key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1,
     4, ST_PARSE, "repeated key 'descr'"},
    {"unknown key", "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", 1, 4,
     ST_PARSE, "'x'"},
    {"not a dict", "['descr', '<f4']", 1, 0, ST_PARSE, "expected '{'"},
    {"unterminated string", "{'descr: '<f4', 'fortran_order': False, 'shape': (), }", 1, 4,
     ST_PARSE, "header"},
    {"unclosed tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", 1, 24,
     ST_PARSE, "malformed header"},
    {"trailing text", "{'descr': '<f4', 'fortran_order': False, 'shape': (), } junk", 1, 4,
     ST_PARSE, "trailing text"},
    {"fortran_order not bool", "{'descr': '<f4', 'fortran_order': 0, 'shape': (), }", 1, 4,
     ST_PARSE, "fortran_order"},
    {"version 4", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, 4,
     ST_UNSUPPORTED, "version 4.0"},
};

static void malformed_headers_fail_clearly(void **state) {
  (void)state;
  static uint8_t zeros[64];
  for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
    const BadCase *c = &bad_cases[i];
    uint8_t buf[512];
    size_t len = build_npy(buf, sizeof buf, c->major, c->dict, zeros, c->data_bytes);
    NpyArray a;
    Error err = {0};
    Status st = npy_read_buffer(buf, len, "bad.npy", &a, &err);
    if (st != c->status || !strstr(err.msg, c->msg_part) || !strstr(err.msg, "bad.npy"))
      fail_msg("case '%s': status %s, message '%s'", c->what, status_name(st), err.msg);
    assert_null(a.data);
  }
}

static void bad_magic_and_header_lengths(void **state) {
  (void)state;
  NpyArray a;
  Error err = {0};
  const uint8_t png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  assert_int_equal(npy_read_buffer(png, sizeof png, "x.png", &a, &err), ST_PARSE);
  assert_non_null(strstr(err.msg, "bad magic"));
  assert_int_equal(npy_read_buffer(png, 0, "empty.npy", &a, &err), ST_PARSE);

  /* Header length 0, and a version-2 length of 4 GiB. */
  uint8_t h0[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  assert_int_equal(npy_read_buffer(h0, sizeof h0, "h0.npy", &a, &err), ST_PARSE);
  assert_non_null(strstr(err.msg, "header length 0"));
  uint8_t h2[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0xff};
  assert_int_equal(npy_read_buffer(h2, sizeof h2, "h2.npy", &a, &err), ST_PARSE);
  assert_non_null(strstr(err.msg, "out of range"));
}

/* Every proper prefix of a valid file is an error, never a crash or a success. */
static void every_truncation_fails(void **state) {
  (void)state;
  const float v[6] = {1, 2, 3, 4, 5, 6};
  uint8_t buf[256];
  size_t len = build_npy(buf, sizeof buf, 1,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v,
                         sizeof v);
  for (size_t n = 0; n < len; n++) {
    uint8_t *copy = malloc(n ? n : 1); /* exact-size copy so ASan sees over-reads */
    assert_non_null(copy);
    memcpy(copy, buf, n);
    NpyArray a;
    Error err = {0};
    Status st = npy_read_buffer(copy, n, "cut.npy", &a, &err);
    if (st == ST_OK) fail_msg("prefix of %zu bytes was accepted", n);
    assert_non_null(strstr(err.msg, "cut.npy"));
    free(copy);
  }
}

/* The file reader takes a different path from the buffer reader: test it on disk too. */
static void file_reader_errors(void **state) {
  (void)state;
  NpyArray a;
  Error err = {0};
  assert_int_equal(npy_read("no/such/file.npy", &a, &err), ST_IO);
  assert_non_null(strstr(err.msg, "no/such/file.npy"));

  const float v[6] = {1, 2, 3, 4, 5, 6};
  uint8_t buf[256];
  size_t len = build_npy(buf, sizeof buf, 1,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v,
                         sizeof v);
  char *path = temp_path("cut.npy");
  const size_t cuts[] = {4, 9, 40, len - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, cuts[i], f), cuts[i]);
    fclose(f);
    Status st = npy_read(path, &a, &err);
    if (st == ST_OK || !strstr(err.msg, "truncated"))
      fail_msg("file cut at %zu: status %s, '%s'", cuts[i], status_name(st), err.msg);
  }
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, len, f), len);
  fclose(f);
  assert_int_equal(npy_read(path, &a, &err), ST_OK);
  assert_memory_equal(a.data, v, sizeof v);
  npy_free(&a);
  remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(write_matches_numpy_layout),
      cmocka_unit_test(write_scalar_and_vector_shapes),
      cmocka_unit_test(round_trip_every_dtype),
      cmocka_unit_test(write_refuses_types_npy_lacks),
      cmocka_unit_test(reads_versions_2_and_3),
      cmocka_unit_test(zero_sized_array),
      cmocka_unit_test(bool_bytes_are_normalized),
      cmocka_unit_test(malformed_headers_fail_clearly),
      cmocka_unit_test(bad_magic_and_header_lengths),
      cmocka_unit_test(every_truncation_fails),
      cmocka_unit_test(file_reader_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
