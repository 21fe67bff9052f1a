/* Error formatting helpers; see status.h for the message convention. */
#include "status.h"

#include <stdio.h>
#include <string.h>

Status err_setv(Error *err, Status s, const char *fmt, va_list ap) {
  if (!err) return s;
  err->status = s;
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  return s;
}

Status err_set(Error *err, Status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_setv(err, s, fmt, ap);
  va_end(ap);
  return s;
}

Status err_prefix(Error *err, const char *fmt, ...) {
  if (!err) return ST_OK;
  char head[512], old[ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  snprintf(err->msg, sizeof err->msg, "%s: %s", head, old);
  return err->status;
}

const char *status_name(Status s) {
  switch (s) {
  case ST_OK: return "ok";
  case ST_IO: return "io";
  case ST_PARSE: return "parse";
  case ST_INVALID: return "invalid";
  case ST_UNSUPPORTED: return "unsupported";
  case ST_SHAPE: return "shape";
  case ST_NOMEM: return "out of memory";
  case ST_LLVM: return "llvm";
  case ST_MISMATCH: return "mismatch";
  case ST_INTERNAL: return "internal";
  case ST_USAGE: return "usage";
  }
  return "?";
}
