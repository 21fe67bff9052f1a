/*
 * External tensor data (TensorProto.data_location = EXTERNAL): the bytes
 * live in a file named by the `location` key, relative to the model's
 * folder, at `offset` for `length` bytes.  A model is untrusted input, so the
 * path must stay inside that folder: absolute paths and `..` components are
 * refused outright, and the resolved path (symlinks followed by realpath)
 * must still start with the resolved folder.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe_internal.h"

/* Parses a non-negative decimal integer that must fit in int64. */
static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s) return false;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_C(1) << 62) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

static bool has_dotdot_component(const char *p) {
  const char *s = p;
  while (*s) {
    const char *e = strchr(s, '/');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    if (len == 2 && s[0] == '.' && s[1] == '.') return true;
    if (!e) break;
    s = e + 1;
  }
  return false;
}

Status fe_external_read(const Onnx__TensorProto *t, const char *base_dir, size_t nbytes,
                        uint8_t **out, Error *err) {
  *out = NULL;
  if (!base_dir)
    return err_set(err, ST_INVALID,
                   "tensor uses external data, which needs a model file (not a memory buffer)");
  const char *location = NULL;
  uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = t->external_data[i];
    if (!e || !e->key || !e->value) continue;
    if (strcmp(e->key, "location") == 0) {
      location = e->value;
    } else if (strcmp(e->key, "offset") == 0) {
      if (!parse_u64(e->value, &offset))
        return err_set(err, ST_INVALID, "external data offset '%s' is not a valid number",
                       e->value);
    } else if (strcmp(e->key, "length") == 0) {
      if (!parse_u64(e->value, &length))
        return err_set(err, ST_INVALID, "external data length '%s' is not a valid number",
                       e->value);
      has_length = true;
    }
  }
  if (!location || !*location)
    return err_set(err, ST_INVALID, "external data has no location");
  if (location[0] == '/')
    return err_set(err, ST_INVALID, "external data location '%s' is an absolute path", location);
  if (has_dotdot_component(location))
    return err_set(err, ST_INVALID, "external data location '%s' escapes the model folder with '..'",
                   location);
  if (has_length && length != nbytes)
    return err_set(err, ST_INVALID, "external data length %llu does not match the tensor's %zu bytes",
                   (unsigned long long)length, nbytes);

  char *base_real = realpath(base_dir, NULL);
  if (!base_real)
    return err_set(err, ST_IO, "cannot resolve model folder '%s': %s", base_dir, strerror(errno));
  size_t blen = strlen(base_real), llen = strlen(location);
  char *joined = malloc(blen + llen + 2);
  if (!joined) {
    free(base_real);
    return err_set(err, ST_NOMEM, "out of memory");
  }
  memcpy(joined, base_real, blen);
  joined[blen] = '/';
  memcpy(joined + blen + 1, location, llen + 1);
  char *file_real = realpath(joined, NULL);
  free(joined);
  if (!file_real) {
    Status st = err_set(err, ST_IO, "cannot open external data '%s': %s", location, strerror(errno));
    free(base_real);
    return st;
  }
  /* "/" as the folder would make every path a prefix match; compare with the separator. */
  bool inside = strncmp(file_real, base_real, blen) == 0 &&
                (file_real[blen] == '/' || (blen == 1 && base_real[0] == '/'));
  free(base_real);
  if (!inside) {
    free(file_real);
    return err_set(err, ST_INVALID, "external data location '%s' resolves outside the model folder",
                   location);
  }
  int fd = open(file_real, O_RDONLY);
  free(file_real);
  if (fd < 0)
    return err_set(err, ST_IO, "cannot open external data '%s': %s", location, strerror(errno));
  struct stat sb;
  Status st = ST_OK;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    st = err_set(err, ST_IO, "external data '%s' is not a regular file", location);
    goto out;
  }
  uint64_t size = (uint64_t)sb.st_size;
  if (offset > size || nbytes > size - offset) {
    st = err_set(err, ST_INVALID,
                 "external data '%s': offset %llu + %zu bytes is past the end of the file (%llu bytes)",
                 location, (unsigned long long)offset, nbytes, (unsigned long long)size);
    goto out;
  }
  uint8_t *dst = malloc(nbytes ? nbytes : 1);
  if (!dst) {
    st = err_set(err, ST_NOMEM, "out of memory for %zu bytes of external data", nbytes);
    goto out;
  }
  size_t done = 0;
  while (done < nbytes) {
    size_t chunk = nbytes - done;
    if (chunk > ((size_t)1 << 30)) chunk = (size_t)1 << 30;
    ssize_t k = pread(fd, (uint8_t *)dst + done, chunk, (off_t)(offset + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      free(dst);
      st = err_set(err, ST_IO, "external data '%s': read failed", location);
      goto out;
    }
    done += (size_t)k;
  }
  *out = dst;
out:
  close(fd);
  return st;
}
