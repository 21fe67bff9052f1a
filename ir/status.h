/*
 * Status codes and the Error record that every fallible function in onnxc
 * fills in.  Library code never prints and never exits: it returns a Status
 * and leaves a human sentence in Error.msg; only driver/main.c picks an exit
 * code.  Messages follow one shape so users can grep them:
 *
 *   model.onnx: node "Conv_12" (Conv, opset 13): error: pads has 3 values, expected 4
 */
#ifndef ONNXC_IR_STATUS_H
#define ONNXC_IR_STATUS_H

#include <stdarg.h>

typedef enum Status {
  ST_OK = 0,
  ST_IO,          /* file cannot be read or written                  */
  ST_PARSE,       /* bytes are not a valid protobuf / npy / ...      */
  ST_INVALID,     /* well-formed but semantically wrong model        */
  ST_UNSUPPORTED, /* valid ONNX that onnxc does not handle (yet)     */
  ST_SHAPE,       /* shapes or dtypes do not fit                     */
  ST_NOMEM,       /* an allocation failed or a size bound was hit    */
  ST_LLVM,        /* LLVM reported an error                          */
  ST_MISMATCH,    /* verification found results outside tolerance   */
  ST_INTERNAL,    /* a bug in onnxc                                   */
  ST_USAGE        /* a command-line choice the user must change: the
                     driver exits 2, as for a parse error (kept last:
                     the kernel bitcode only returns the values above) */
} Status;

#define ERROR_MSG_MAX 4096

typedef struct Error {
  Status status;
  char msg[ERROR_MSG_MAX]; /* full sentence(s), no trailing newline */
} Error;

/* Sets err (if non-NULL) and returns s, so callers can write
 * `return err_set(err, ST_INVALID, "...")`. */
Status err_set(Error *err, Status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
Status err_setv(Error *err, Status s, const char *fmt, va_list ap);

/* Prepends "prefix: " to an already set message (adds context on the way up). */
Status err_prefix(Error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const char *status_name(Status s);

#define TRY(expr)                                                              \
  do {                                                                         \
    Status try_st_ = (expr);                                                   \
    if (try_st_ != ST_OK) return try_st_;                                      \
  } while (0)

#endif
