/*
 * Frontend: well-formed models built in C.  Checks what the loader
 * produces: initializers from typed fields, IR<4 initializer inputs,
 * Constant nodes, function inlining with attribute binding, input-shape
 * fixing, and the canonical op forms (attributes turned into constant
 * inputs, Upsample -> Resize, ...).  Expected values are the ones written
 * into the model here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_frontend_util.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define I64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64

static Graph *load_ok(const Onnx__ModelProto *m, const LoadOptions *opt) {
  Graph *g = NULL;
  Error e = {0};
  Status st = mb_load(m, opt, &g, &e);
  if (st != ST_OK) print_error("load failed: %s\n", e.msg);
  assert_int_equal(st, ST_OK);
  assert_non_null(g);
  return g;
}

static void assert_i64_const(const Value *v, int n, const int64_t *want) {
  assert_non_null(v);
  assert_true(ir_value_is_const(v));
  assert_int_equal(v->dtype, DT_INT64);
  assert_int_equal(v->rank, 1);
  assert_int_equal(v->dims[0], n);
  for (int i = 0; i < n; i++) assert_int_equal(((const int64_t *)v->data)[i], want[i]);
}

static void typed_field_initializers(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[1] = {3};
  mb_input(m, mb_vi("x", F32, 1, d, NULL));
  Onnx__TensorProto *w = mb_tensor("w", F32, 1, d);
  float fv[3] = {0.5f, -1.0f, 2.0f};
  w->n_float_data = 3;
  w->float_data = tb_alloc(sizeof fv);
  memcpy(w->float_data, fv, sizeof fv);
  mb_init(m, w);
  Onnx__TensorProto *s = mb_tensor("shape", I64, 1, (int64_t[]){2});
  int64_t iv[2] = {3, 1};
  s->n_int64_data = 2;
  s->int64_data = tb_alloc(sizeof iv);
  memcpy(s->int64_data, iv, sizeof iv);
  mb_init(m, s);
  mb_node(m, "Mul", "mul", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"t"});
  mb_node(m, "Reshape", "rs", 2, (const char *[]){"t", "shape"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  Graph *g = load_ok(m, NULL);
  assert_int_equal(g->num_inputs, 1);
  assert_int_equal(g->num_nodes, 2);
  Node *mul = tb_find_node(g, OP_MUL);
  const Value *wv = mul->inputs[1];
  assert_true(ir_value_is_const(wv));
  assert_int_equal(wv->dtype, DT_FLOAT32);
  assert_true(((float *)wv->data)[0] == 0.5f && ((float *)wv->data)[1] == -1.0f &&
              ((float *)wv->data)[2] == 2.0f);
  assert_i64_const(tb_find_node(g, OP_RESHAPE)->inputs[1], 2, iv);
  assert_string_equal(g->outputs[0]->name, "y");
  assert_int_equal(g->opset, 13);
  ir_graph_free(g);
  tb_free_all();
}

static void initializer_listed_as_input(void **state) {
  (void)state;
  /* IR 3 / opset 6 style (pytorch-converted): W is both input and initializer. */
  Onnx__ModelProto *m = mb_model(3, 6);
  int64_t d[1] = {2};
  mb_input(m, mb_vi("x", F32, 1, d, NULL));
  mb_input(m, mb_vi("W", F32, 1, d, NULL));
  Onnx__TensorProto *w = mb_tensor("W", F32, 1, d);
  float wv[2] = {3, 4};
  mb_raw(w, wv, sizeof wv);
  mb_init(m, w);
  Onnx__NodeProto *n = mb_node(m, "Add", "add", 2, (const char *[]){"x", "W"}, 1,
                               (const char *[]){"y"});
  mb_attr_int(n, "broadcast", 1); /* legacy attribute, meaningless here */
  mb_output(m, "y");
  Graph *g = load_ok(m, NULL);
  assert_int_equal(g->num_inputs, 1);
  assert_string_equal(g->inputs[0]->name, "x");
  const Value *W = g->nodes[0]->inputs[1];
  assert_true(ir_value_is_const(W));
  assert_false(W->is_input);
  assert_true(((float *)W->data)[1] == 4);
  assert_null(ir_attr(g->nodes[0], "broadcast"));
  assert_int_equal(g->nodes[0]->opset, 6);
  ir_graph_free(g);
  tb_free_all();
}

static void constant_nodes(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[1] = {2};
  mb_input(m, mb_vi("x", F32, 1, d, NULL));
  Onnx__NodeProto *c1 = mb_node(m, "Constant", "c1", 0, NULL, 1, (const char *[]){"k"});
  mb_attr_float(c1, "value_float", 2.5f);
  Onnx__NodeProto *c2 = mb_node(m, "Constant", "c2", 0, NULL, 1, (const char *[]){"shape"});
  mb_attr_ints(c2, "value_ints", 2, (int64_t[]){1, 2});
  Onnx__NodeProto *c3 = mb_node(m, "Constant", "c3", 0, NULL, 1, (const char *[]){"b"});
  Onnx__AttributeProto *a = mb_attr(c3, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  a->t = mb_tensor("", F32, 2, (int64_t[]){1, 2});
  float bv[2] = {7, 8};
  a->t->n_float_data = 2;
  a->t->float_data = tb_alloc(sizeof bv);
  memcpy(a->t->float_data, bv, sizeof bv);
  mb_node(m, "Mul", "mul", 2, (const char *[]){"x", "k"}, 1, (const char *[]){"t"});
  mb_node(m, "Reshape", "rs", 2, (const char *[]){"t", "shape"}, 1, (const char *[]){"u"});
  mb_node(m, "Add", "add", 2, (const char *[]){"u", "b"}, 1, (const char *[]){"y"});
  /* ConstantOfShape keeps its tensor attribute. */
  Onnx__NodeProto *cs = mb_node(m, "ConstantOfShape", "cos", 1, (const char *[]){"shape"}, 1,
                                (const char *[]){"z"});
  Onnx__AttributeProto *ca = mb_attr(cs, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  ca->t = mb_tensor("", I64, 1, (int64_t[]){1});
  int64_t zv = 42;
  mb_raw(ca->t, &zv, sizeof zv);
  mb_output(m, "y");
  mb_output(m, "z");
  Graph *g = load_ok(m, NULL);
  assert_int_equal(g->num_nodes, 4); /* no Constant op survives */
  const Value *k = tb_find_node(g, OP_MUL)->inputs[1];
  assert_true(ir_value_is_const(k));
  assert_int_equal(k->dtype, DT_FLOAT32);
  assert_int_equal(k->rank, 0);
  assert_true(*(float *)k->data == 2.5f);
  assert_i64_const(tb_find_node(g, OP_RESHAPE)->inputs[1], 2, (int64_t[]){1, 2});
  const Value *b = tb_find_node(g, OP_ADD)->inputs[1];
  assert_int_equal(b->rank, 2);
  assert_true(((float *)b->data)[1] == 8);
  const Attr *t = ir_attr(tb_find_node(g, OP_CONSTANT_OF_SHAPE), "value");
  assert_non_null(t);
  assert_int_equal(t->kind, ATTR_TENSOR);
  assert_int_equal(t->t->dtype, DT_INT64);
  assert_int_equal(*(int64_t *)t->t->data, 42);
  ir_graph_free(g);
  tb_free_all();
}

/* Fn(X, LO, HI) = Clip(LeakyRelu(X, alpha=@alpha), LO, HI), alpha defaults to 0.5. */
static Onnx__FunctionProto *clip_leaky_function(const char *name, int64_t opset) {
  Onnx__FunctionProto *f = tb_alloc(sizeof *f);
  onnx__function_proto__init(f);
  f->name = tb_str(name);
  f->domain = tb_str("custom");
  const char *ins[3] = {"X", "LO", "HI"};
  for (int i = 0; i < 3; i++) TB_PUSH(f->input, f->n_input, tb_str(ins[i]));
  TB_PUSH(f->output, f->n_output, tb_str("Y"));
  TB_PUSH(f->attribute, f->n_attribute, tb_str("alpha"));
  Onnx__AttributeProto *dflt = tb_alloc(sizeof *dflt);
  onnx__attribute_proto__init(dflt);
  dflt->name = tb_str("alpha");
  dflt->has_type = 1;
  dflt->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  dflt->has_f = 1;
  dflt->f = 0.5f;
  TB_PUSH(f->attribute_proto, f->n_attribute_proto, dflt);
  Onnx__OperatorSetIdProto *o = tb_alloc(sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = tb_str("");
  o->has_version = 1;
  o->version = opset;
  TB_PUSH(f->opset_import, f->n_opset_import, o);
  Onnx__NodeProto *lr = mb_node_in(&f->node, &f->n_node, "LeakyRelu", "lr", 1,
                                   (const char *[]){"X"}, 1, (const char *[]){"T"});
  Onnx__AttributeProto *ref = mb_attr(lr, "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  ref->ref_attr_name = tb_str("alpha");
  mb_node_in(&f->node, &f->n_node, "Clip", "", 3, (const char *[]){"T", "LO", "HI"}, 1,
             (const char *[]){"Y"});
  return f;
}

static void function_inlining(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 13);
  TB_PUSH(m->functions, m->n_functions, clip_leaky_function("Fn", 14));
  int64_t d[1] = {4};
  mb_input(m, mb_vi("x", F32, 1, d, NULL));
  Onnx__TensorProto *lo = mb_tensor("lo", F32, 0, NULL);
  float lov = -1;
  mb_raw(lo, &lov, sizeof lov);
  mb_init(m, lo);
  Onnx__NodeProto *c1 = mb_node(m, "Fn", "call1", 2, (const char *[]){"x", "lo"}, 1,
                                (const char *[]){"y1"});
  c1->domain = tb_str("custom");
  mb_attr_float(c1, "alpha", 0.25f);
  Onnx__NodeProto *c2 = mb_node(m, "Fn", "call2", 1, (const char *[]){"y1"}, 1,
                                (const char *[]){"y2"});
  c2->domain = tb_str("custom");
  mb_output(m, "y1");
  mb_output(m, "y2");
  Graph *g = load_ok(m, NULL);
  assert_int_equal(g->num_nodes, 4);
  const Node *lr1 = g->nodes[0], *cl1 = g->nodes[1], *lr2 = g->nodes[2], *cl2 = g->nodes[3];
  assert_int_equal(lr1->op, OP_LEAKY_RELU);
  assert_int_equal(cl1->op, OP_CLIP);
  assert_int_equal(lr2->op, OP_LEAKY_RELU);
  assert_int_equal(cl2->op, OP_CLIP);
  /* Attribute binding: the caller's value, then the function's default. */
  assert_true(ir_attr_float(lr1, "alpha", -1) == 0.25f);
  assert_true(ir_attr_float(lr2, "alpha", -1) == 0.5f);
  /* Nodes run under the function's own opset. */
  assert_int_equal(lr1->opset, 14);
  assert_int_equal(g->opset, 13);
  /* Formal inputs bound to actual values; absent ones stay absent. */
  assert_ptr_equal(lr1->inputs[0], g->inputs[0]);
  assert_int_equal(cl1->num_inputs, 2);
  assert_true(ir_value_is_const(cl1->inputs[1]));
  assert_int_equal(cl2->num_inputs, 1);
  /* Formal outputs bound to the callers' outputs; locals renamed apart. */
  assert_ptr_equal(cl1->outputs[0], g->outputs[0]);
  assert_ptr_equal(lr2->inputs[0], g->outputs[0]);
  assert_ptr_equal(cl2->outputs[0], g->outputs[1]);
  assert_ptr_not_equal(lr1->outputs[0], lr2->outputs[0]);
  assert_string_not_equal(lr1->outputs[0]->name, lr2->outputs[0]->name);
  assert_string_equal(lr1->name, "call1/lr");
  ir_graph_free(g);
  tb_free_all();
}

static void nested_function_binding(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 13);
  TB_PUSH(m->functions, m->n_functions, clip_leaky_function("Fn", 13));
  /* Outer(X) = Fn(X) with alpha bound to Outer's attribute `a`. */
  Onnx__FunctionProto *outer = tb_alloc(sizeof *outer);
  onnx__function_proto__init(outer);
  outer->name = tb_str("Outer");
  outer->domain = tb_str("custom");
  TB_PUSH(outer->input, outer->n_input, tb_str("X"));
  TB_PUSH(outer->output, outer->n_output, tb_str("Y"));
  TB_PUSH(outer->attribute, outer->n_attribute, tb_str("a"));
  Onnx__NodeProto *inner = mb_node_in(&outer->node, &outer->n_node, "Fn", "inner", 1,
                                      (const char *[]){"X"}, 1, (const char *[]){"Y"});
  inner->domain = tb_str("custom");
  Onnx__AttributeProto *ref = mb_attr(inner, "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  ref->ref_attr_name = tb_str("a");
  TB_PUSH(m->functions, m->n_functions, outer);
  int64_t d[1] = {4};
  mb_input(m, mb_vi("x", F32, 1, d, NULL));
  Onnx__NodeProto *call = mb_node(m, "Outer", "call", 1, (const char *[]){"x"}, 1,
                                  (const char *[]){"y"});
  call->domain = tb_str("custom");
  mb_attr_float(call, "a", 0.125f);
  mb_output(m, "y");
  Graph *g = load_ok(m, NULL);
  assert_int_equal(g->num_nodes, 2);
  assert_true(ir_attr_float(tb_find_node(g, OP_LEAKY_RELU), "alpha", -1) == 0.125f);
  assert_string_equal(g->nodes[0]->name, "call/inner/lr");
  ir_graph_free(g);

  /* A function that calls itself hits the depth bound instead of looping. */
  Onnx__FunctionProto *rec = tb_alloc(sizeof *rec);
  onnx__function_proto__init(rec);
  rec->name = tb_str("Rec");
  rec->domain = tb_str("custom");
  TB_PUSH(rec->input, rec->n_input, tb_str("X"));
  TB_PUSH(rec->output, rec->n_output, tb_str("Y"));
  Onnx__NodeProto *self = mb_node_in(&rec->node, &rec->n_node, "Rec", "again", 1,
                                     (const char *[]){"X"}, 1, (const char *[]){"Y"});
  self->domain = tb_str("custom");
  TB_PUSH(m->functions, m->n_functions, rec);
  m->graph->node[0]->op_type = tb_str("Rec");
  Error e;
  assert_int_equal(mb_load(m, NULL, &g, &e), ST_INVALID);
  assert_non_null(strstr(e.msg, "nest deeper than"));
  tb_free_all();
}

static Onnx__ModelProto *dynamic_model(void) {
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[4] = {-1, 3, -1, 224};
  const char *params[4] = {"batch", NULL, NULL, NULL};
  mb_input(m, mb_vi("x", F32, 4, d, params));
  mb_node(m, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  return m;
}

static void input_shape_fixing(void **state) {
  (void)state;
  Onnx__ModelProto *m = dynamic_model();
  Graph *g;
  Error e;
  assert_int_equal(mb_load(m, NULL, &g, &e), ST_SHAPE);
  assert_null(g);
  assert_non_null(strstr(e.msg, "2 unknown input dimensions"));
  assert_non_null(strstr(e.msg, "input \"x\" dim 0 (\"batch\")"));
  assert_non_null(strstr(e.msg, "input \"x\" dim 2"));
  assert_non_null(strstr(e.msg, "--input-shape x=1,3,1,224"));

  InputShape s;
  assert_int_equal(fe_parse_input_shape("x=2,3,5,224", &s, &e), ST_OK);
  assert_string_equal(s.name, "x");
  assert_int_equal(s.rank, 4);
  LoadOptions opt = {.input_shapes = &s, .num_input_shapes = 1};
  g = load_ok(m, &opt);
  const Value *x = g->inputs[0];
  assert_true(ir_value_is_static(x));
  assert_int_equal(x->dims[0], 2);
  assert_int_equal(x->dims[2], 5);
  assert_string_equal(x->dim_param[0], "batch");
  ir_graph_free(g);
  fe_input_shape_free(&s);

  /* Contradicting the model's static dim 1 (3). */
  assert_int_equal(fe_parse_input_shape("x=2,4,5,224", &s, &e), ST_OK);
  assert_int_equal(mb_load(m, &opt, &g, &e), ST_SHAPE);
  assert_non_null(strstr(e.msg, "dim 1 is 3"));
  fe_input_shape_free(&s);

  /* A name that is not an input: the message lists the real ones. */
  assert_int_equal(fe_parse_input_shape("images=1,3,224,224", &s, &e), ST_OK);
  assert_int_equal(mb_load(m, &opt, &g, &e), ST_INVALID);
  assert_non_null(strstr(e.msg, "\"images\""));
  assert_non_null(strstr(e.msg, "its inputs are: \"x\""));
  fe_input_shape_free(&s);

  assert_int_equal(fe_parse_input_shape("x=1,,2", &s, &e), ST_INVALID);
  assert_int_equal(fe_parse_input_shape("x=-1", &s, &e), ST_INVALID);
  assert_int_equal(fe_parse_input_shape("scalar=", &s, &e), ST_OK);
  assert_int_equal(s.rank, 0);
  fe_input_shape_free(&s);
  tb_free_all();
}

static void old_squeeze_split_axes_to_inputs(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(6, 11);
  mb_input(m, mb_vi("x", F32, 3, (int64_t[]){1, 3, 4}, NULL));
  Onnx__NodeProto *sq = mb_node(m, "Squeeze", "sq", 1, (const char *[]){"x"}, 1,
                                (const char *[]){"s"});
  mb_attr_ints(sq, "axes", 1, (int64_t[]){0});
  Onnx__NodeProto *sp = mb_node(m, "Split", "sp", 1, (const char *[]){"s"}, 2,
                                (const char *[]){"a", "b"});
  mb_attr_int(sp, "axis", 1);
  mb_attr_ints(sp, "split", 2, (int64_t[]){1, 3});
  Onnx__NodeProto *us = mb_node(m, "Unsqueeze", "us", 1, (const char *[]){"a"}, 1,
                                (const char *[]){"u"});
  mb_attr_ints(us, "axes", 2, (int64_t[]){0, 3});
  Onnx__NodeProto *rm = mb_node(m, "ReduceMean", "rm", 1, (const char *[]){"b"}, 1,
                                (const char *[]){"r"});
  mb_attr_ints(rm, "axes", 1, (int64_t[]){-1});
  mb_output(m, "u");
  mb_output(m, "r");
  Graph *g = load_ok(m, NULL);
  Node *n = tb_find_node(g, OP_SQUEEZE);
  assert_int_equal(n->num_inputs, 2);
  assert_i64_const(n->inputs[1], 1, (int64_t[]){0});
  assert_null(ir_attr(n, "axes"));
  n = tb_find_node(g, OP_SPLIT);
  assert_int_equal(n->num_inputs, 2);
  assert_i64_const(n->inputs[1], 2, (int64_t[]){1, 3});
  assert_null(ir_attr(n, "split"));
  assert_int_equal(ir_attr_int(n, "axis", -9), 1);
  n = tb_find_node(g, OP_UNSQUEEZE);
  assert_i64_const(n->inputs[1], 2, (int64_t[]){0, 3});
  n = tb_find_node(g, OP_REDUCE_MEAN);
  assert_i64_const(n->inputs[1], 1, (int64_t[]){-1});
  assert_int_equal(n->opset, 11);
  ir_graph_free(g);
  tb_free_all();
}

static void upsample_to_resize(void **state) {
  (void)state;
  /* Opset 7: scales attribute, "bilinear" spelled the old way. */
  Onnx__ModelProto *m = mb_model(3, 7);
  mb_input(m, mb_vi("x", F32, 4, (int64_t[]){1, 1, 2, 2}, NULL));
  Onnx__NodeProto *up = mb_node(m, "Upsample", "up", 1, (const char *[]){"x"}, 1,
                                (const char *[]){"y"});
  mb_attr_floats(up, "scales", 4, (float[]){1, 1, 2, 3});
  mb_attr_string(up, "mode", "bilinear");
  mb_output(m, "y");
  Graph *g = load_ok(m, NULL);
  Node *n = tb_find_node(g, OP_RESIZE);
  assert_non_null(n);
  assert_int_equal(n->num_inputs, 3);
  assert_null(n->inputs[1]);
  const Value *sc = n->inputs[2];
  assert_true(ir_value_is_const(sc));
  assert_int_equal(sc->dtype, DT_FLOAT32);
  assert_int_equal(sc->dims[0], 4);
  assert_true(((float *)sc->data)[3] == 3);
  assert_string_equal(ir_attr_string(n, "mode", ""), "linear");
  assert_null(ir_attr(n, "scales"));
  assert_int_equal(n->opset, 7);
  ir_graph_free(g);

  /* Opset 9: scales is an input; Resize-10 (X, scales) gets its empty roi too. */
  Onnx__ModelProto *m9 = mb_model(4, 9);
  mb_input(m9, mb_vi("x", F32, 4, (int64_t[]){1, 1, 2, 2}, NULL));
  mb_input(m9, mb_vi("s", F32, 1, (int64_t[]){4}, NULL));
  mb_node(m9, "Upsample", "up", 2, (const char *[]){"x", "s"}, 1, (const char *[]){"y"});
  mb_output(m9, "y");
  g = load_ok(m9, NULL);
  n = tb_find_node(g, OP_RESIZE);
  assert_int_equal(n->num_inputs, 3);
  assert_null(n->inputs[1]);
  assert_ptr_equal(n->inputs[2], g->inputs[1]);
  assert_string_equal(ir_attr_string(n, "mode", ""), "nearest");
  ir_graph_free(g);
  m9->opset_import[0]->version = 10;
  m9->graph->node[0]->op_type = tb_str("Resize");
  g = load_ok(m9, NULL);
  n = tb_find_node(g, OP_RESIZE);
  assert_int_equal(n->num_inputs, 3);
  assert_null(n->inputs[1]);
  assert_ptr_equal(n->inputs[2], g->inputs[1]);
  ir_graph_free(g);
  tb_free_all();
}

static void old_clip_pad_slice_topk(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(4, 9);
  mb_input(m, mb_vi("x", ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, 2, (int64_t[]){2, 4}, NULL));
  Onnx__NodeProto *c = mb_node(m, "Clip", "clip", 1, (const char *[]){"x"}, 1,
                               (const char *[]){"c"});
  mb_attr_float(c, "min", -1.5f);
  mb_attr_float(c, "max", 2.0f);
  Onnx__NodeProto *c2 = mb_node(m, "Clip", "clip2", 1, (const char *[]){"c"}, 1,
                                (const char *[]){"c2"});
  mb_attr_float(c2, "max", 1.0f);
  Onnx__NodeProto *p = mb_node(m, "Pad", "pad", 1, (const char *[]){"c2"}, 1,
                               (const char *[]){"p"});
  mb_attr_ints(p, "pads", 4, (int64_t[]){0, 1, 0, 1});
  mb_attr_string(p, "mode", "reflect");
  Onnx__NodeProto *sl = mb_node(m, "Slice", "sl", 1, (const char *[]){"p"}, 1,
                                (const char *[]){"s"});
  mb_attr_ints(sl, "starts", 1, (int64_t[]){1});
  mb_attr_ints(sl, "ends", 1, (int64_t[]){3});
  Onnx__NodeProto *tk = mb_node(m, "TopK", "tk", 1, (const char *[]){"s"}, 2,
                                (const char *[]){"v", "i"});
  mb_attr_int(tk, "k", 2);
  mb_output(m, "v");
  Graph *g = load_ok(m, NULL);
  /* Clip on a graph input: the scalars take X's dtype (double) directly. */
  Node *n = g->nodes[0];
  assert_int_equal(n->op, OP_CLIP);
  assert_int_equal(n->num_inputs, 3);
  assert_int_equal(n->inputs[1]->dtype, DT_FLOAT64);
  assert_int_equal(n->inputs[1]->rank, 0);
  assert_true(*(double *)n->inputs[1]->data == -1.5);
  assert_true(*(double *)n->inputs[2]->data == 2.0);
  /* Clip on a computed value: min absent, max through CastLike(max, X). */
  Node *cast = tb_find_node(g, OP_CAST_LIKE);
  assert_non_null(cast);
  Node *clip2 = NULL;
  for (int i = 0; i < g->num_nodes; i++)
    if (g->nodes[i]->op == OP_CLIP && g->nodes[i] != n) clip2 = g->nodes[i];
  assert_non_null(clip2);
  assert_null(clip2->inputs[1]);
  assert_ptr_equal(clip2->inputs[2], cast->outputs[0]);
  assert_ptr_equal(cast->inputs[1], n->outputs[0]);
  assert_true(*(float *)cast->inputs[0]->data == 1.0f);
  n = tb_find_node(g, OP_PAD);
  assert_i64_const(n->inputs[1], 4, (int64_t[]){0, 1, 0, 1});
  assert_string_equal(ir_attr_string(n, "mode", ""), "reflect");
  n = tb_find_node(g, OP_SLICE);
  assert_int_equal(n->num_inputs, 3);
  assert_i64_const(n->inputs[1], 1, (int64_t[]){1});
  assert_i64_const(n->inputs[2], 1, (int64_t[]){3});
  n = tb_find_node(g, OP_TOP_K);
  assert_i64_const(n->inputs[1], 1, (int64_t[]){2});
  /* Topological order: the CastLike comes before the Clip reading it. */
  assert_true(cast->id < clip2->id);
  ir_graph_free(g);
  tb_free_all();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(typed_field_initializers),
      cmocka_unit_test(initializer_listed_as_input),
      cmocka_unit_test(constant_nodes),
      cmocka_unit_test(function_inlining),
      cmocka_unit_test(nested_function_binding),
      cmocka_unit_test(input_shape_fixing),
      cmocka_unit_test(old_squeeze_split_axes_to_inputs),
      cmocka_unit_test(upsample_to_resize),
      cmocka_unit_test(old_clip_pad_slice_topk),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
