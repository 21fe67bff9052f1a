"""
FLOP count of an ONNX model for bench/bench.py's GFLOP/s and %-of-peak.

Convention: only multiply-accumulate work is counted, at 2 FLOP per MAC, for
Conv, ConvTranspose, MatMul, Gemm and Einsum (plus their Q/Fused variants
if any appear); element-wise ops, normalisations, softmax, pooling and data
movement count 0.  This is the usual "GFLOPs" of model papers x 2 (they
count MACs).  Shapes come from onnx.shape_inference (with data propagation,
so Shape->Gather->Reshape chains resolve) after fixing the graph inputs to
the benchmarked shape; a MAC op whose shapes stay unknown makes the count
None rather than a silent undercount.
Static inference gives up on some exporter patterns; the shapes it misses
are then measured by one ONNX Runtime run of the graph on the bench input.
Usage: bench/.venv/bin/python bench/flops.py MODEL.onnx [NAME=D0,D1,...]
"""
import sys

import onnx
from onnx import shape_inference


def _fix_inputs(model, shapes):
    """Overwrites graph input dims with the benchmarked shapes (dynamic dims)."""
    inits = {i.name for i in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name in inits or inp.name not in shapes:
            continue
        dims = inp.type.tensor_type.shape.dim
        want = shapes[inp.name]
        del dims[:]
        for d in want:
            dims.add().dim_value = int(d)


def _shape_map(model):
    shapes = {}
    g = model.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = []
        for d in t.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None)
        shapes[vi.name] = dims
    for init in g.initializer:
        shapes[init.name] = list(init.dims)
    for n in g.node:  # Constant nodes: shape of their value
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    shapes[n.output[0]] = list(a.t.dims)
    return shapes


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _known(*shapes):
    return all(s is not None and all(d is not None for d in s) for s in shapes)


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _einsum_macs(eq, in_shapes):
    lhs, _, _ = eq.replace(" ", "").partition("->")
    sizes = {}
    for term, shape in zip(lhs.split(","), in_shapes):
        letters = []
        if "..." in term:
            head, tail = term.split("...")
            nell = len(shape) - len(head) - len(tail)
            # Ellipsis dims become synthetic indices aligned from the right.
            letters = list(head) + [f"@{k}" for k in range(nell)] + list(tail)
        else:
            letters = list(term)
        if len(letters) != len(shape):
            return None
        for l, d in zip(letters, shape):
            sizes[l] = max(sizes.get(l, 1), d)
    return _prod(sizes.values())


def node_macs(node, shapes):
    """MACs of one node, 0 for non-MAC ops, None if shapes are unknown."""
    op = node.op_type
    ins = [shapes.get(x) if x else None for x in node.input]
    outs = [shapes.get(x) for x in node.output]
    if op in ("Conv", "QLinearConv", "ConvInteger", "FusedConv"):
        w = ins[1] if op != "QLinearConv" else ins[3]
        y = outs[0]
        if not _known(w, y):
            return None
        # y: N, M, spatial...; w: M, C/group, kernel... (group is in w[1])
        return y[0] * y[1] * _prod(y[2:]) * w[1] * _prod(w[2:])
    if op == "ConvTranspose":
        x, w = ins[0], ins[1]
        if not _known(x, w):
            return None
        # w: C, M/group, kernel...; every input pixel scatters into M/group x kernel.
        return x[0] * x[1] * _prod(x[2:]) * w[1] * _prod(w[2:])
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul", "FusedMatMul"):
        a = ins[0]
        y = outs[0]
        if not _known(a, y):
            return None
        k = a[-1] if len(a) >= 1 else 1
        return _prod(y) * k
    if op == "Gemm":
        a, y = ins[0], outs[0]
        if not _known(a, y):
            return None
        k = a[0] if _attr(node, "transA", 0) else a[1]
        return _prod(y) * k
    if op == "Einsum":
        if not _known(*ins):
            return None
        return _einsum_macs(_attr(node, "equation", b"").decode(), ins)
    return 0


def _runtime_shapes(model, names, feeds):
    """Actual shapes of `names` from one unoptimised ONNX Runtime run.

    Static inference gives up on some exporter patterns (shape arithmetic
    through Where/Expand); running the graph once with those tensors added
    as outputs always knows.
    """
    import onnxruntime as ort

    elem = {}
    for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        elem[vi.name] = vi.type.tensor_type.elem_type
    have = {o.name for o in model.graph.output}
    for n in names:
        if n not in have and elem.get(n):
            model.graph.output.append(onnx.helper.make_tensor_value_info(n, elem[n], None))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    outs = [o.name for o in sess.get_outputs()]
    vals = sess.run(outs, feeds)
    return {n: list(v.shape) for n, v in zip(outs, vals) if n in names}


def count(model_path, input_shapes=None, feeds=None):
    """Returns (flops or None, {op_type: flops}, [names of unresolved nodes]).

    feeds (name -> array), when given, lets shapes that static inference
    leaves unknown be measured by one ONNX Runtime run.
    """
    model = onnx.load(model_path)
    _fix_inputs(model, input_shapes or {})
    try:
        model = shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # noqa: BLE001 - fall back to the unmodified graph
        pass
    shapes = _shape_map(model)
    missing = [n for n in model.graph.node if node_macs(n, shapes) is None]
    if missing and feeds is not None:
        names = {x for n in missing for x in list(n.input) + list(n.output) if x}
        shapes.update(_runtime_shapes(model, names, feeds))
    total, by_op, unknown = 0, {}, []
    for node in model.graph.node:
        m = node_macs(node, shapes)
        if m is None:
            unknown.append(node.name or node.op_type)
            continue
        if m:
            by_op[node.op_type] = by_op.get(node.op_type, 0) + 2 * m
            total += 2 * m
    # Subgraphs (If/Loop/Scan) are not walked: vision models here have none.
    return (None if unknown else total), by_op, unknown


def parse_shape_arg(s):
    name, _, dims = s.partition("=")
    return name, [int(d) for d in dims.split(",") if d]


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: flops.py MODEL.onnx [NAME=D0,D1,...]...")
    import numpy as np
    import onnxruntime as ort

    shapes = dict(parse_shape_arg(a) for a in sys.argv[2:])
    sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        dims = shapes.get(i.name) or [d if isinstance(d, int) else 1 for d in i.shape]
        feeds[i.name] = np.zeros(dims, dtype=np.float32 if "float" in i.type else np.int64)
    total, by_op, unknown = count(sys.argv[1], shapes, feeds)
    for op, f in sorted(by_op.items()):
        print(f"{op:14s} {f / 1e9:10.4f} GFLOP")
    if unknown:
        print(f"unresolved shapes at {len(unknown)} MAC nodes, e.g. {unknown[:3]}")
    print(f"total          {'unknown' if total is None else f'{total / 1e9:.4f}'} GFLOP "
          "(2 FLOP per MAC; Conv/ConvTranspose/MatMul/Gemm/Einsum only)")


if __name__ == "__main__":
    main()
