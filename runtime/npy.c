/* .npy reader/writer (placeholder until written). */
#include "npy.h"

#include <stdlib.h>

Status npy_read(const char *path, NpyArray *out, Error *err) { (void)path; (void)out; return err_set(err, ST_UNSUPPORTED, "not implemented"); }
Status npy_read_buffer(const void *buf, size_t len, const char *source, NpyArray *out, Error *err) { (void)buf; (void)len; (void)source; (void)out; return err_set(err, ST_UNSUPPORTED, "not implemented"); }
Status npy_write(const char *path, DType dt, int rank, const int64_t *dims, const void *data, Error *err) { (void)path; (void)dt; (void)rank; (void)dims; (void)data; return err_set(err, ST_UNSUPPORTED, "not implemented"); }
void npy_free(NpyArray *a) { if (a) { free(a->data); a->data = NULL; } }
