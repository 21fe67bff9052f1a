/* ONNX loader (placeholder until written). */
#include "onnx_load.h"

#include "onnx.pb-c.h"

Status fe_parse_input_shape(const char *spec, InputShape *out, Error *err) { (void)spec; (void)out; return err_set(err, ST_UNSUPPORTED, "not implemented"); }
Status fe_load_file(const char *path, const LoadOptions *opt, Graph **out, Error *err) { (void)path; (void)opt; *out = NULL; return err_set(err, ST_UNSUPPORTED, "not implemented"); }
Status fe_load_buffer(const void *data, size_t len, const char *source, const char *base_dir,
                      const LoadOptions *opt, Graph **out, Error *err) { (void)data; (void)len; (void)source; (void)base_dir; (void)opt; *out = NULL; return err_set(err, ST_UNSUPPORTED, "not implemented"); }

#include "tensor_pb.h"
#include <stdlib.h>
Status fe_read_tensor_pb(const char *path, TensorFile *out, Error *err) { (void)path; (void)out; return err_set(err, ST_UNSUPPORTED, "not implemented"); }
Status fe_read_tensor_pb_buffer(const void *buf, size_t len, const char *source, TensorFile *out, Error *err) { (void)buf; (void)len; (void)source; (void)out; return err_set(err, ST_UNSUPPORTED, "not implemented"); }
void fe_tensor_file_free(TensorFile *t) { if (t) { free(t->data); t->data = NULL; free(t->name); t->name = NULL; } }
