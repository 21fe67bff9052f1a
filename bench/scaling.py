#!/usr/bin/env python3
"""How onnxc's compile time grows with the graph: generates two synthetic graphs at n and 4n
nodes, compiles each with `onnxc compile --time-passes`, and prints a Markdown table of wall
time, pass-pipeline time, backend time and peak memory, with the 4n/n ratio (4 is linear).

  chain:  x -> Relu -> Neg -> Abs -> ... (n unary nodes in one line)
  fanout: x feeds n/2 branches Add(x, c_i) (c_i distinct scalars, so CSE keeps them),
          summed by a balanced tree of Adds into one output.

Usage: bench/venv.sh, then  bench/.venv/bin/python bench/scaling.py --onnxc build/onnxc [--n 25000]
"""
import argparse, os, re, resource, subprocess, sys, tempfile, time
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def chain(n):
    nodes, prev = [], "x"
    for i in range(n):
        out = "y" if i == n - 1 else f"t{i}"
        nodes.append(helper.make_node(["Relu", "Neg", "Abs"][i % 3], [prev], [out], name=f"n{i}"))
        prev = out
    return nodes, []


def fanout(n):
    k = n // 2
    nodes, inits, level = [], [], []
    for i in range(k):
        inits.append(numpy_helper.from_array(np.array(i * 1e-3, np.float32), f"c{i}"))
        nodes.append(helper.make_node("Add", ["x", f"c{i}"], [f"b{i}"], name=f"b{i}"))
        level.append(f"b{i}")
    j = 0
    while len(level) > 1:
        nxt = []
        for a in range(0, len(level) - 1, 2):
            out = "y" if len(level) == 2 else f"s{j}"
            j += 1
            nodes.append(helper.make_node("Add", [level[a], level[a + 1]], [out], name=f"s{j}"))
            nxt.append(out)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return nodes, inits


def save(kind, n, path):
    nodes, inits = {"chain": chain, "fanout": fanout}[kind](n)
    io = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 16])
    graph = helper.make_graph(nodes, kind, [io("x")], [io("y")], initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return len(nodes)


def compile_once(onnxc, model, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    r = subprocess.run([onnxc, "compile", model, "-o", out, "--time-passes"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"scaling: onnxc failed on {model}:\n{r.stderr}")
    passes = float(re.search(r"^; total\s+([\d.]+)", r.stderr, re.M).group(1))
    backend = float(re.search(r"^; backend total\s+([\d.]+)", r.stderr, re.M).group(1))
    # ru_maxrss of children is the largest child so far: meaningful when it grows.
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return wall, passes, backend, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxc", default="build/onnxc")
    ap.add_argument("--n", type=int, default=25000, help="the smaller size (the other is 4n)")
    args = ap.parse_args()
    print("| graph | nodes | compile s | passes ms | backend ms | peak RSS MB | time ratio 4n/n |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("chain", "fanout"):
            first = None
            for n in (args.n, 4 * args.n):
                model = os.path.join(tmp, f"{kind}{n}.onnx")
                nodes = save(kind, n, model)
                wall, passes, backend, peak = compile_once(args.onnxc, model, os.path.join(tmp, "m.o"))
                ratio = f"{wall / first:.1f}" if first else ""
                first = first or wall
                print(f"| {kind} | {nodes} | {wall:.2f} | {passes:.0f} | {backend:.0f} | "
                      f"{peak / 1024:.0f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
