"""
A PP-OCR-style text recognizer (PPLCNetV3 convolutions + an SVTR neck + a
CTC head) written node by node the way paddle2onnx writes it, for the
fixtures in tests/models/ (no Paddle install exists here, and no pretrained
file can be fetched).

What makes it different from the torch exports:
- BatchNormalization kept as its own node after every bias-less Conv;
- LearnableAffineBlock: Mul and Add by [1]-shaped scalar initializers after
  the BN and again after the activation;
- HardSwish as one op (opset >= 14) or HardSigmoid(1/6, 0.5) * x (older),
  ReLU6 as Clip with min/max inputs, Swish as Sigmoid * x;
- reparameterizable blocks: an identity-BN branch plus several conv-BN
  branches summed by an Add chain, and (as PaddleOCR's export leaves them
  after rep()) one biased Conv followed directly by the affine block;
- SE: GlobalAveragePool, 1x1 Conv, Relu, 1x1 Conv, HardSigmoid, Mul;
- dynamic batch and width (dims named as paddle2onnx names them), reshapes
  built from Shape/Slice/Concat chains, attention heads split by
  Reshape/Transpose and three Slices, LayerNorm decomposed.

The reference output is ONNX Runtime's (run in bench/.venv, which has
onnx, numpy and onnxruntime):
  bench/.venv/bin/python examples/export/export_paddle_style.py OUT_DIR [--opset 14|11]
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class G:
    def __init__(self, seed, opset):
        self.opset = opset
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.k = [], [], 0

    def name(self, base):
        self.k += 1
        return f"{base}_{self.k}.tmp_0"

    def const(self, arr, base="param"):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def op(self, typ, ins, nout=1, **attrs):
        outs = [self.name(typ.lower()) for _ in range(nout)]
        self.nodes.append(helper.make_node(typ, ins, outs, name=self.name("p2o." + typ), **attrs))
        return outs[0] if nout == 1 else outs

    def w(self, *shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        s = scale if scale is not None else 1.0 / np.sqrt(fan_in)
        return self.const((self.rng.standard_normal(shape) * s).astype(np.float32), "conv2d_w")

    def bn(self, x, c):
        r = self.rng
        ps = [(r.random(c) + 0.5), r.standard_normal(c) * 0.2, r.standard_normal(c) * 0.3,
              r.random(c) * 1.5 + 0.5]
        return self.op("BatchNormalization", [x] + [self.const(p.astype(np.float32), "bn") for p in ps],
                       epsilon=1e-5, momentum=0.9)

    def conv_bn(self, x, cin, cout, k, stride=1, groups=1):
        y = self.op("Conv", [x, self.w(cout, cin // groups, k, k)], kernel_shape=[k, k],
                    strides=[stride, stride], pads=[k // 2] * 4, group=groups, dilations=[1, 1])
        return self.bn(y, cout)

    def lab(self, x):
        s = self.const(np.array([1.0 + 0.3 * self.rng.standard_normal()], np.float32), "lab_scale")
        b = self.const(np.array([0.2 * self.rng.standard_normal()], np.float32), "lab_bias")
        return self.op("Add", [self.op("Mul", [x, s]), b])

    def hardswish(self, x, opset):
        if opset >= 14:
            return self.op("HardSwish", [x])
        return self.op("Mul", [x, self.op("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)])

    def rep_layer(self, x, cin, cout, k, stride, groups, opset, branches=4, repped=False):
        """LearnableRepLayer: identity BN + k x k branches + 1x1 branch, LAB, act, LAB.
        repped: as PaddleOCR's export writes it after rep(), one biased conv."""
        if repped:
            y = self.op("Conv", [x, self.w(cout, cin // groups, k, k),
                                 self.const((self.rng.standard_normal(cout) * 0.1).astype(np.float32))],
                        kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=groups,
                        dilations=[1, 1])
            return self.lab(self.hardswish(self.lab(y), opset))
        terms = []
        if cin == cout and stride == 1:
            terms.append(self.bn(x, cin))
        for _ in range(branches):
            terms.append(self.conv_bn(x, cin, cout, k, stride, groups))
        if k > 1:
            terms.append(self.conv_bn(x, cin, cout, 1, stride, groups))
        y = terms[0]
        for t in terms[1:]:
            y = self.op("Add", [y, t])
        y = self.lab(y)
        return self.lab(self.hardswish(y, opset))

    def se(self, x, c):
        s = self.op("GlobalAveragePool", [x])
        s = self.op("Conv", [s, self.w(c // 4, c, 1, 1), self.const(np.zeros(c // 4, np.float32) + 0.1)],
                    kernel_shape=[1, 1])
        s = self.op("Relu", [s])
        s = self.op("Conv", [s, self.w(c, c // 4, 1, 1), self.const(np.full(c, 0.05, np.float32))],
                    kernel_shape=[1, 1])
        s = self.op("HardSigmoid", [s], alpha=0.1666667, beta=0.5)
        return self.op("Mul", [x, s])

    def squeeze(self, x, axis):
        if self.opset >= 13:
            return self.op("Squeeze", [x, self.const(np.array([axis], np.int64))])
        return self.op("Squeeze", [x], axes=[axis])

    def linear(self, x, cin, cout):
        y = self.op("MatMul", [x, self.w(cin, cout, scale=1.0 / np.sqrt(cin))])
        return self.op("Add", [y, self.const((self.rng.standard_normal(cout) * 0.1).astype(np.float32))])

    def layernorm(self, x, c):
        m = self.op("ReduceMean", [x], axes=[-1], keepdims=1)
        d = self.op("Sub", [x, m])
        v = self.op("ReduceMean", [self.op("Pow", [d, self.const(np.array(2.0, np.float32))])], axes=[-1],
                    keepdims=1)
        s = self.op("Sqrt", [self.op("Add", [v, self.const(np.array(1e-6, np.float32))])])
        y = self.op("Div", [d, s])
        g = self.const((self.rng.random(c) + 0.5).astype(np.float32))
        b = self.const((self.rng.standard_normal(c) * 0.2).astype(np.float32))
        return self.op("Add", [self.op("Mul", [y, g]), b])

    def attention(self, x, c, heads):
        dh = c // heads
        qkv = self.linear(x, c, 3 * c)
        shp = self.const(np.array([0, -1, 3, heads, dh], np.int64))
        qkv = self.op("Transpose", [self.op("Reshape", [qkv, shp])], perm=[2, 0, 3, 1, 4])
        parts = []
        for i in range(3):
            s = self.op("Slice", [qkv, self.const(np.array([i], np.int64)),
                                  self.const(np.array([i + 1], np.int64)), self.const(np.array([0], np.int64))])
            parts.append(self.squeeze(s, 0))
        q, k, v = parts
        q = self.op("Mul", [q, self.const(np.array(dh ** -0.5, np.float32))])
        a = self.op("MatMul", [q, self.op("Transpose", [k], perm=[0, 1, 3, 2])])
        a = self.op("Softmax", [a], axis=-1)
        o = self.op("Transpose", [self.op("MatMul", [a, v])], perm=[0, 2, 1, 3])
        o = self.op("Reshape", [o, self.const(np.array([0, -1, c], np.int64))])
        return self.linear(o, c, c)

    def svtr_block(self, x, c, heads):
        x = self.op("Add", [x, self.attention(self.layernorm(x, c), c, heads)])
        h = self.linear(self.layernorm(x, c), c, 2 * c)
        h = self.op("Mul", [h, self.op("Sigmoid", [h])])  # Swish
        return self.op("Add", [x, self.linear(h, 2 * c, c)])


def build(opset, seed):
    g = G(seed, opset)
    x = "x"
    c = [3, 16, 24, 32, 48]
    y = g.conv_bn(x, 3, c[1], 3, stride=2)
    y = g.lab(g.hardswish(y, opset))
    # depthwise + pointwise rep blocks, strides (2,1) along height as PP-OCR does
    y = g.rep_layer(y, c[1], c[1], 3, 1, c[1], opset)
    y = g.rep_layer(y, c[1], c[2], 1, 1, 1, opset)
    y = g.rep_layer(y, c[2], c[2], 3, 2, c[2], opset, repped=True)
    y = g.se(y, c[2])
    y = g.rep_layer(y, c[2], c[3], 1, 1, 1, opset, repped=True)
    y = g.rep_layer(y, c[3], c[3], 5, 2, c[3], opset)
    y = g.rep_layer(y, c[3], c[4], 1, 1, 1, opset, repped=True)
    # ReLU6 as Clip with min/max inputs
    y = g.op("Clip", [y, g.const(np.array(0.0, np.float32)), g.const(np.array(6.0, np.float32))])
    y = g.op("AveragePool", [y], kernel_shape=[6, 2], strides=[6, 2])  # height 6 -> 1
    shortcut = y
    # SVTR neck: conv down, tokens, two blocks, back to a map, concat, conv
    cd = 32
    z = g.op("Conv", [y, g.w(cd, c[4], 1, 1)], kernel_shape=[1, 1])
    z = g.op("Mul", [g.bn(z, cd), g.op("Sigmoid", [g.bn(z, cd)])])
    shape = g.op("Shape", [z])
    hw = g.op("Slice", [shape, g.const(np.array([2], np.int64)), g.const(np.array([4], np.int64)),
                        g.const(np.array([0], np.int64))])
    t = g.op("Transpose", [g.op("Reshape", [z, g.const(np.array([0, cd, -1], np.int64))])], perm=[0, 2, 1])
    for _ in range(2):
        t = g.svtr_block(t, cd, 2)
    t = g.layernorm(t, cd)
    nc = g.op("Slice", [shape, g.const(np.array([0], np.int64)), g.const(np.array([2], np.int64)),
                        g.const(np.array([0], np.int64))])
    back = g.op("Concat", [nc, hw], axis=0)
    z = g.op("Reshape", [g.op("Transpose", [t], perm=[0, 2, 1]), back])
    z = g.op("Concat", [shortcut, z], axis=1)
    z = g.op("Conv", [z, g.w(c[4], c[4] + cd, 1, 1), g.const(np.full(c[4], 0.1, np.float32))],
             kernel_shape=[1, 1])
    z = g.squeeze(z, 2)
    z = g.op("Transpose", [z], perm=[0, 2, 1])
    logits = g.linear(z, c[4], 40)
    g.op("Softmax", [logits], axis=2)
    g.nodes[-1].output[0] = "softmax_0.tmp_0"

    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["p2o.DynamicDimension.0", 3, 48,
                                                                 "p2o.DynamicDimension.1"])
    out = helper.make_tensor_value_info("softmax_0.tmp_0", TensorProto.FLOAT,
                                        ["p2o.DynamicDimension.2", "p2o.DynamicDimension.3", 40])
    graph = helper.make_graph(g.nodes, "paddle-infer", [inp], [out], g.inits)
    model = helper.make_model(graph, producer_name="PaddlePaddle", producer_version="2.6.0",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--seed", type=int, default=40)
    a = ap.parse_args()
    import onnxruntime as ort

    model = build(a.opset, a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    path = os.path.join(a.out_dir, "model.onnx")
    onnx.save(model, path)
    shape = [1, 3, 48, a.width]
    x = np.random.default_rng(a.seed + 1).standard_normal(shape).astype(np.float32)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    y = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(a.out_dir, "input_0.npy"), x)
    np.save(os.path.join(a.out_dir, "output_0.npy"), y)
    ops = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    meta = {"opset": a.opset, "torch_version": "none (paddle2onnx style)", "exporter": "hand-written in paddle2onnx's style "
            "(examples/export/export_paddle_style.py)", "reference": "onnxruntime " + ort.__version__,
            "seed": a.seed, "input_name": "x", "input_shape": shape,
            "onnx_input_shape": ["p2o.DynamicDimension.0", 3, 48, "p2o.DynamicDimension.1"],
            "output_name": "softmax_0.tmp_0", "output_shape": list(y.shape),
            "model_bytes": os.path.getsize(path), "onnx_nodes": len(model.graph.node),
            "onnx_ops": dict(sorted(ops.items()))}
    with open(os.path.join(a.out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"{path}: {len(model.graph.node)} nodes, output {list(y.shape)}")


if __name__ == "__main__":
    main()
