"""
onnxc vs ONNX Runtime single-thread benchmark driver (run via bench/run.sh,
which makes the pinned venv and builds onnxc; this file does the rest).

For each model of bench/models.txt: generate it if it is a cached full-size
model (running its exporter, or reporting the row SKIPPED when the exporter
script is absent), compile it with `onnxc compile -O3 -mcpu=native`, link the
.o into bench/harness.c, then time the harness (over a stdin pipe) and an
ONNX Runtime CPU session (1 intra-op and 1 inter-op thread, sequential,
ORT_ENABLE_ALL) on the same seeded random input, ALTERNATING rounds
(onnxc x N, ORT x N) so machine noise hits both.  Reports medians of all
timed runs, the ratio, onnxc GFLOP/s against bench/fma_peak.c's measured
single-core peak, and onnxc's output error against ORT's.  A model onnxc
cannot compile, link or run shows the exact error instead of numbers.

Each timed model is also profiled once (`onnxc profile --trace`, one
thread): the "reference kernels" column is the share of the nodes' time in
nodes that run a reference kernel instead of a specialized one.  Above 2%
the cell says FAIL and the bench exits with status 3 after its tables.
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import tempfile
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

try:  # the third engine (bench/run.sh installs it; --no-openvino leaves it out)
    import openvino as ov
except ImportError:
    ov = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
sys.path.insert(0, HERE)
import flops as flops_mod  # noqa: E402

# Exporters for models too big to commit: name -> (script, argv after it).
# They run under Debian's python (torch 1.13), see examples/export/common.py.
GENERATORS = {
    "fullsize": ("examples/export/export_fullsize.py", ["{cache}/fullsize"]),
    "families": ("examples/export/export_families.py", ["--fullsize", "{cache}/families"]),
    # bench/models-large.txt: ViT-L/16 (1.2 GB) and ViT-H/14 (2.5 GB, external data)
    "large": ("examples/export/export_large.py", ["{cache}/large"]),
}
EXPORT_PYTHON = "/usr/bin/python3"
REL_ERR_LIMIT = 1e-3  # max|onnxc-ORT| / max|ORT| above this is flagged WRONG


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_measured(cmd, timeout):
    """Runs cmd; returns (ok, combined output, peak RSS of cmd in MB)."""
    with tempfile.TemporaryFile(mode="w+") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while True:  # wait4 gives this child's own peak RSS
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                return False, f"timed out after {timeout} s: {' '.join(cmd)}", None
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return p.returncode == 0, out.read(), ru.ru_maxrss / 1024.0


def run(cmd, timeout, cwd=None):
    """Runs cmd; returns (ok, combined output)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout} s: {' '.join(cmd)}"
    return p.returncode == 0, p.stdout


# ---------------------------------------------------------------- models.txt


def parse_models(path):
    """Rows of (label, path, input-shape or None, generator or None), globs expanded."""
    entries = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            cols = line.split()
            if len(cols) != 4:
                sys.exit(f"{path}:{lineno}: want 4 columns (label path shape generator), got {cols}")
            label, mpath, shape, gen = cols
            entries.append({"label": label, "path": mpath.replace("$CACHE", CACHE),
                            "shape": None if shape == "-" else shape,
                            "generator": None if gen == "-" else gen, "line": lineno})
    return entries


def ensure_generated(entries, no_generate):
    """Runs each needed exporter once; returns {generator: skip reason or None}."""
    status = {}
    for e in entries:
        gen = e["generator"]
        if not gen or gen in status:
            continue
        if gen not in GENERATORS:
            status[gen] = f"unknown generator '{gen}'"
            continue
        script, argv = GENERATORS[gen]
        if not os.path.exists(os.path.join(ROOT, script)):
            status[gen] = f"SKIPPED: generator {script} is missing"
            continue
        rows = [x for x in entries if x["generator"] == gen]
        if all(glob.glob(os.path.join(ROOT, x["path"])) for x in rows):
            status[gen] = None
            continue
        if no_generate:  # rows whose file is missing are reported by expand()
            status[gen] = None
            continue
        cmd = [EXPORT_PYTHON, os.path.join(ROOT, script)] + [a.format(cache=CACHE) for a in argv]
        log(f"generating: {' '.join(cmd)}")
        ok, out = run(cmd, timeout=3600, cwd=ROOT)
        status[gen] = None if ok else "generator failed: " + out.strip().splitlines()[-1][:300]
    return status


def expand(entries, gen_status):
    """Glob-expands paths; '*' in a label becomes the model's directory name."""
    rows = []
    for e in entries:
        reason = gen_status.get(e["generator"]) if e["generator"] else None
        if reason:
            rows.append(dict(e, skip=reason))
            continue
        paths = sorted(glob.glob(os.path.join(ROOT, e["path"])))
        if not paths:
            why = f"no file matches {os.path.relpath(e['path'], ROOT)}"
            if e["generator"]:
                why = f"not generated ({GENERATORS[e['generator']][0]} did not write it)"
            rows.append(dict(e, skip=why))
            continue
        for p in paths:
            label = e["label"]
            if "*" in label:
                label = label.replace("*", os.path.basename(os.path.dirname(p)))
            skip = None
            # Exporters write meta.json last (docs/FIXTURES.md layout): without
            # it the model may still be being written by a running exporter.
            if e["generator"] and not os.path.exists(os.path.join(os.path.dirname(p), "meta.json")):
                skip = "export incomplete (no meta.json beside model.onnx)"
            rows.append(dict(e, label=label, path=p, skip=skip, pattern=e["path"]))
    return rows


# ---------------------------------------------------------------- FMA peak


def fma_peak(build_dir):
    exe = os.path.join(build_dir, "fma_peak")
    ok, out = run(["cc", "-O2", "-march=native", os.path.join(HERE, "fma_peak.c"), "-o", exe], 120)
    if not ok:
        return None, out
    best, lines = 0.0, ""
    for _ in range(3):  # a peak is a maximum: noise only lowers it
        ok, out = run([exe], 120)
        if not ok:
            return None, out
        lines = out
        for line in out.splitlines():
            if line.startswith("fma_peak_gflops"):
                best = max(best, float(line.split()[1]))
    return best, lines.strip()


# ---------------------------------------------------------------- one model


def ort_session(path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


class OvModel:
    """An OpenVINO CPU model: float32 forced (it would pick bf16 where the CPU
    has it), latency hint, one stream, `threads` inference threads."""

    def __init__(self, path, feeds, threads):
        core = ov.Core()
        model = core.read_model(path)
        model.reshape({i.get_any_name(): list(feeds[i.get_any_name()].shape)
                       for i in model.inputs if i.get_any_name() in feeds})
        cfg = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY",
               "INFERENCE_NUM_THREADS": str(threads), "NUM_STREAMS": "1"}
        self.compiled = core.compile_model(model, "CPU", cfg)
        self.req = self.compiled.create_infer_request()
        self.names = [i.get_any_name() for i in self.compiled.inputs]
        self.feeds = {n: feeds[n] for n in self.names}

    def run(self, _ignored, feeds=None):
        self.req.infer(self.feeds)
        return [self.req.get_output_tensor(i).data.copy()
                for i in range(len(self.compiled.outputs))]


NP_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64,
            "tensor(int64)": np.int64, "tensor(int32)": np.int32,
            "tensor(float16)": np.float16, "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_}


def meta_shape(model_path):
    """'name=d0,d1,..' from a fixture's meta.json (docs/FIXTURES.md layout), or None."""
    try:
        with open(os.path.join(os.path.dirname(model_path), "meta.json")) as f:
            m = json.load(f)
        return f"{m['input_name']}=" + ",".join(str(int(d)) for d in m["input_shape"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def make_feeds(sess, shape_arg, seed):
    """Seeded N(0,1) inputs; dynamic dims must be fixed by the models.txt shape."""
    fixed = {}
    if shape_arg:
        for spec in shape_arg.split(";"):
            name, dims = flops_mod.parse_shape_arg(spec)
            fixed[name] = dims
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in sess.get_inputs():
        dims = fixed.get(i.name, i.shape)
        if any(not isinstance(d, int) for d in dims):
            raise ValueError(f"input {i.name} has dynamic shape {i.shape}: give it in models.txt")
        dt = NP_TYPES.get(i.type)
        if dt is None:
            raise ValueError(f"input {i.name}: unsupported type {i.type}")
        feeds[i.name] = rng.standard_normal(dims).astype(dt)
    return feeds, fixed


class Harness:
    """The compiled model's timing harness in --serve mode."""

    def __init__(self, exe, inputs, weights=None):
        extra = ["--weights", weights] if weights else []
        self.p = subprocess.Popen([exe, "--serve"] + extra + inputs, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.expect("ready")

    def expect(self, prefix):
        line = self.p.stdout.readline()
        if not line.startswith(prefix):
            self.p.kill()
            err = self.p.stderr.read().strip()
            raise RuntimeError(f"harness: {err or 'exited'} (rc={self.p.wait()})")
        return line

    def cmd(self, text, prefix=""):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        return self.expect(prefix)

    def runs(self, n):
        """[(wall ms, process CPU ms)] of n runs."""
        return [tuple(float(v) for v in x.split(":")) for x in self.cmd(f"run {n}").split()]

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=30)


def time_ort(sess, feeds, n):
    """[(wall ms, process CPU ms)], the same two clocks as the harness."""
    out = []
    for _ in range(n):
        c0, t0 = time.process_time_ns(), time.perf_counter_ns()  # perf_counter is monotonic
        sess.run(None, feeds)
        t1, c1 = time.perf_counter_ns(), time.process_time_ns()
        out.append(((t1 - t0) * 1e-6, (c1 - c0) * 1e-6))
    return out


def bench_model(row, args, onnxc):
    res = {"label": row["label"], "path": os.path.relpath(row["path"], ROOT),
           "shape": row["shape"]}
    if row.get("skip"):
        res["error"] = row["skip"]
        return res
    work = os.path.join(CACHE, "work", row["label"])
    os.makedirs(work, exist_ok=True)

    # Input and reference session first: an ORT failure is not onnxc's.
    try:
        sess = ort_session(row["path"])
        if not row["shape"] and any(not isinstance(d, int) for i in sess.get_inputs()
                                    for d in i.shape):
            row["shape"] = meta_shape(row["path"])  # dynamic dims: the fixture's own shape
            res["shape"] = row["shape"]
        feeds, fixed = make_feeds(sess, row["shape"], args.seed)
    except Exception as e:  # noqa: BLE001 - reported in the table
        res["error"] = f"ONNX Runtime cannot load/run the model: {e}"
        return res
    res["input_shapes"] = {k: list(v.shape) for k, v in feeds.items()}
    try:
        fl, _, unknown = flops_mod.count(row["path"], fixed, feeds)
        res["flops"] = fl
        if unknown:
            res["flops_note"] = f"{len(unknown)} MAC nodes with unknown shapes"
    except Exception as e:  # noqa: BLE001
        res["flops"], res["flops_note"] = None, f"flop count failed: {e}"

    # Compile, link.
    cmd = [onnxc, "compile", row["path"], "-o", os.path.join(work, "m.o"), "--header",
           os.path.join(work, "m.h"), "--name", "m", "-O3", "-mcpu=native", "--time-passes"]
    weights = os.path.join(work, "m.bin") if args.weights_file else None
    if weights:
        cmd.append("--weights=" + weights)
    for spec in (row["shape"] or "").split(";"):
        if spec:
            cmd += ["--input-shape", spec]
    res["compile_cmd"] = " ".join(shlex.quote(c) for c in cmd)
    t0 = time.monotonic()
    ok, out, peak_mb = run_measured(cmd, timeout=args.compile_timeout)
    res["compile_s"] = round(time.monotonic() - t0, 2)
    # The compiler's own peak (VmHWM, in --time-passes' backend table):
    # wait4's ru_maxrss also counts this Python process's memory at fork.
    table = out.split("; backend stage", 1)[1] if "; backend stage" in out else ""
    own = [float(m) for m in re.findall(r"^; \S.*\s(\d+)\s*$", table, re.M)]
    if own:
        peak_mb = max(own)
    res["compile_peak_mb"] = round(peak_mb) if peak_mb else None
    if ok:
        res["object_mb"] = round(os.path.getsize(os.path.join(work, "m.o")) / 1e6, 1)
        if weights:
            res["weights_mb"] = round(os.path.getsize(weights) / 1e6, 1)
    if not ok:
        res["error"] = "onnxc compile failed: " + " / ".join(out.strip().splitlines()[-3:])
        return res
    exe = os.path.join(work, "harness")
    ok, out = run(["cc", "-O2", "-march=native", f"-DMODEL_HEADER=\"{work}/m.h\"",
                   "-I" + os.path.join(ROOT, "runtime"), os.path.join(HERE, "harness.c"),
                   os.path.join(ROOT, "runtime", "onnxc_pool.c"), os.path.join(work, "m.o"),
                   "-pthread", "-lm", "-o", exe],
                  timeout=600)
    if not ok:
        res["error"] = "link failed: " + " / ".join(out.strip().splitlines()[-3:])
        return res
    in_files = []
    for k, (name, v) in enumerate(feeds.items()):
        f = os.path.join(work, f"input_{k}.bin")
        np.ascontiguousarray(v).tofile(f)
        in_files.append(f)

    # Engines at every thread count: onnxc (the harness, switched with its
    # "threads" command), ORT and OpenVINO sessions made per thread count.
    threads = args.threads
    engines = {}  # (name, t) -> callable n -> [(wall ms, cpu ms)]
    try:
        h = Harness(exe, in_files, weights)
    except RuntimeError as e:
        res["error"] = f"onnxc run failed: {e}"
        return res
    others = {}
    try:
        for t in threads:
            others[("ort", t)] = sess if t == 1 else ort_session(row["path"], t)
            if ov is not None and not args.no_openvino:
                try:
                    others[("ov", t)] = OvModel(row["path"], feeds, t)
                except Exception as e:  # noqa: BLE001 - reported, onnxc still timed
                    res["ov_error"] = one_line(f"OpenVINO cannot load/run the model: {e}", 200)

        def onnxc_runs(t):
            def f(n):
                h.cmd(f"threads {t}", "ok")
                return h.runs(n)
            return f

        for t in threads:
            engines[("onnxc", t)] = onnxc_runs(t)
            for name in ("ort", "ov"):
                if (name, t) in others:
                    engines[(name, t)] = (lambda m: lambda n: time_ort(m, feeds, n))(others[(name, t)])

        # Warm-up, estimate per-run times, choose N per round.
        est = {}
        for k, f in engines.items():
            est[k] = min(w for w, _ in f(2))
            f(max(1, min(20, int(args.warmup_s * 1e3 / max(est[k], 1e-3)))))

        def per_round(t):
            n = math.ceil(args.round_s * 1e3 / max(t, 1e-3))
            n = max(math.ceil(args.min_runs / args.rounds), min(args.max_per_round, n))
            # A very slow side gets fewer runs rather than stalling the bench;
            # the runs column of the table shows it.
            budget = args.max_side_s * 1e3 / args.rounds
            return max(1, min(n, int(budget / max(t, 1e-3))))

        times = {k: [] for k in engines}
        for _ in range(args.rounds):  # alternating: noise hits every engine alike
            for k, f in engines.items():
                times[k] += f(per_round(est[k]))
        dumps = {}
        for t in threads:
            h.cmd(f"threads {t}", "ok")
            dumps[t] = os.path.join(work, f"out_{t}t.bin")
            h.cmd(f"dump {dumps[t]}", "ok")
    except RuntimeError as e:
        res["error"] = f"onnxc run failed: {e}"
        return res
    finally:
        try:
            h.close()
        except Exception:  # noqa: BLE001
            pass

    res["threads"] = {}
    for t in threads:
        r = {}
        for name in ("onnxc", "ort", "ov"):
            if (name, t) not in times:
                continue
            wall = [w for w, _ in times[(name, t)]]
            cpu = [c for _, c in times[(name, t)]]
            r[f"{name}_ms"] = statistics.median(wall)
            r[f"{name}_min_ms"] = min(wall)
            r[f"{name}_cpu_ms"] = statistics.median(cpu)
            r[f"{name}_runs"] = len(wall)
        r["ratio"] = r["onnxc_ms"] / r["ort_ms"]
        if "ov_ms" in r:
            r["ratio_ov"] = r["onnxc_ms"] / r["ov_ms"]
        if res.get("flops"):
            r["onnxc_gflops"] = res["flops"] / (r["onnxc_ms"] * 1e6)
            r["ort_gflops"] = res["flops"] / (r["ort_ms"] * 1e6)
        res["threads"][str(t)] = r
    one = res["threads"][str(threads[0])]
    # The single-thread columns keep their old names (docs/PERFORMANCE.md).
    for k in ("onnxc_ms", "onnxc_min_ms", "onnxc_cpu_ms", "ort_ms", "ort_min_ms", "ort_cpu_ms",
              "ratio", "onnxc_gflops", "ort_gflops"):
        if k in one:
            res[k] = one[k]
    res["runs"] = [one["onnxc_runs"], one["ort_runs"]]
    res["ratio_min"] = one["onnxc_min_ms"] / one["ort_min_ms"]
    res["ratio_cpu"] = one["onnxc_cpu_ms"] / one["ort_cpu_ms"] if one["ort_cpu_ms"] > 0 else None

    # Correctness against ORT on the same input; every thread count must
    # give the first one's bits (NaN matching any NaN).
    ref = sess.run(None, feeds)
    raw = np.fromfile(dumps[threads[0]], dtype=np.uint8)
    worst_abs, worst_rel, size_ok = compare_outputs(raw, ref)
    if not size_ok:
        res["error_note"] = f"output size mismatch: onnxc {raw.size} bytes"
        worst_rel = float("inf")
    res["max_abs_err"], res["rel_err"] = worst_abs, worst_rel
    res["correct"] = worst_rel <= REL_ERR_LIMIT
    res["bit_identical"] = all(same_bits(raw, np.fromfile(dumps[t], dtype=np.uint8), ref)
                               for t in threads[1:])
    if not args.no_ref_profile:
        res["ref_kernel_pct"], res["ref_kernel_ops"] = reference_kernel_share(
            onnxc, row, work, args.ref_profile_runs)
    if ("ov", threads[0]) in others:
        ov_out = others[("ov", threads[0])].run(None)
        res["ov_rel_err"] = max(
            float(np.max(np.abs(o.astype(np.float64) - r.astype(np.float64)))) /
            max(float(np.max(np.abs(r))), 1e-30) for o, r in zip(ov_out, ref))
    return res


REF_KERNEL_LIMIT_PCT = 2.0  # a timed model's reference-kernel nodes above this share fail the bench


def reference_kernel_share(onnxc, row, work, runs):
    """Profiles the model (`onnxc profile --trace`, one thread) and returns
    (% of the nodes' time spent in reference kernels, "Op xN, ..." of those
    nodes by time), or (None, error text)."""
    trace = os.path.join(work, "profile-trace.json")
    cmd = [onnxc, "profile", row["path"], "-q", "--runs", str(runs), "--trace", trace]
    for spec in (row["shape"] or "").split(";"):
        if spec:
            cmd += ["--input-shape", spec]
    ok, out = run(cmd, timeout=1800)
    if not ok:
        return None, "onnxc profile failed: " + " / ".join(out.strip().splitlines()[-2:])
    with open(trace) as f:
        events = [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X"]
    total = sum(e["dur"] for e in events)
    by_op = {}
    for e in events:
        if e.get("args", {}).get("kernel", "").startswith("reference"):
            t, n = by_op.get(e["cat"], (0.0, 0))
            by_op[e["cat"]] = (t + e["dur"], n + 1)
    ref = sum(t for t, _ in by_op.values())
    ops = ", ".join(f"{op} x{n}" for op, (t, n) in sorted(by_op.items(), key=lambda kv: -kv[1][0]))
    return (100.0 * ref / total if total > 0 else 0.0), ops


def ref_cell(r):
    """The 'reference kernels' column: share of time, the ops, FAIL above the limit."""
    pct = r.get("ref_kernel_pct")
    if pct is None:
        return one_line(r.get("ref_kernel_ops") or "?", 80)
    text = f"{pct:.1f}%" + (f" ({one_line(r['ref_kernel_ops'], 80)})" if r.get("ref_kernel_ops") else "")
    return f"**FAIL {text}**" if pct > REF_KERNEL_LIMIT_PCT else text


def compare_outputs(raw, ref):
    """(max abs error, max abs error / max |ref|, sizes agree) of the raw
    concatenated onnxc outputs against ORT's."""
    at, worst_abs, worst_rel = 0, 0.0, 0.0
    for r in ref:
        nbytes = r.size * r.itemsize
        got = raw[at:at + nbytes].view(r.dtype).reshape(r.shape)
        at += nbytes
        d = np.abs(got.astype(np.float64) - r.astype(np.float64))
        scale = float(np.max(np.abs(r))) if r.size else 0.0
        a = float(np.max(d)) if d.size else 0.0
        if not np.all(np.isfinite(got)):
            a = float("inf")
        worst_abs = max(worst_abs, a)
        worst_rel = max(worst_rel, a / scale if scale > 0 else a)
    return worst_abs, worst_rel, at == raw.size


def same_bits(a, b, ref):
    """Raw output dumps a and b hold the same bits, NaN matching any NaN."""
    if a.size != b.size:
        return False
    if np.array_equal(a, b):
        return True
    at = 0
    for r in ref:
        n = r.size * r.itemsize
        x, y = a[at:at + n].view(r.dtype), b[at:at + n].view(r.dtype)
        at += n
        diff = x.view(np.uint8).reshape(-1, r.itemsize) != y.view(np.uint8).reshape(-1, r.itemsize)
        bad = diff.any(axis=1)
        if np.issubdtype(r.dtype, np.floating):
            bad &= ~(np.isnan(x) & np.isnan(y))
        if bad.any():
            return False
    return True


# ---------------------------------------------------------------- report


def one_line(s, limit=400):
    s = " ".join(str(s).split()).replace("|", "\\|")
    return s if len(s) <= limit else s[:limit] + " ..."


def fmt_row(r):
    shape = ";".join(f"{k}={'x'.join(map(str, v))}" for k, v in r.get("input_shapes", {}).items())
    gfl = f"{r['flops'] / 1e9:.3f}" if r.get("flops") is not None else "?"
    if "onnxc_ms" not in r:
        err = one_line(r.get("error", "?"))
        return f"| {r['label']} | {shape or '-'} | {gfl} | **{err}** | | | | | | | | | | |"
    verdict = "ok" if r["correct"] else "**WRONG**"
    gf = f"{r['onnxc_gflops']:.1f}" if "onnxc_gflops" in r else "?"
    pct = f"{r['onnxc_peak_pct']:.1f}%" if "onnxc_peak_pct" in r else "?"
    ogf = f"{r['ort_gflops']:.1f}" if "ort_gflops" in r else "?"
    rcpu = f"{r['ratio_cpu']:.2f}" if r.get("ratio_cpu") else "?"
    return (f"| {r['label']} | {shape} | {gfl} | {r['onnxc_ms']:.3f} | {r['ort_ms']:.3f} | "
            f"**{r['ratio']:.2f}** | {r['ratio_min']:.2f} | {rcpu} | {gf} | {pct} | {ogf} | "
            f"{r['rel_err']:.1e} {verdict} | {r['runs'][0]}/{r['runs'][1]} | {ref_cell(r)} |")


HEADER = ("| model | input | GFLOP | onnxc ms | ORT ms | onnxc/ORT | min/min | CPU-time ratio "
          "| onnxc GFLOP/s | % FMA peak | ORT GFLOP/s | max abs err / max abs ORT "
          "| runs onnxc/ORT | reference kernels (% of 1T node time) |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|")


def threads_header(threads, with_ov):
    cols = ["model"]
    for t in threads:
        cols += [f"onnxc {t}T ms", f"ORT {t}T ms"] + ([f"OV {t}T ms"] if with_ov else [])
        cols += [f"onnxc/ORT {t}T"] + ([f"onnxc/OV {t}T"] if with_ov else [])
        cols += [f"% FMA peak {t}T"]
    for t in threads[1:]:
        cols += [f"onnxc {t}T speedup", f"ORT {t}T speedup"] + ([f"OV {t}T speedup"] if with_ov else [])
    cols += ["bits equal across T", "err vs ORT"] + (["OV err vs ORT"] if with_ov else [])
    return "| " + " | ".join(cols) + " |\n|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|"


def fmt_threads_row(r, threads, with_ov):
    if "threads" not in r:
        return f"| {r['label']} | **{one_line(r.get('error', '?'), 200)}** |"
    cells = [r["label"]]
    by = r["threads"]
    for t in threads:
        x = by[str(t)]
        cells += [f"{x['onnxc_ms']:.2f}", f"{x['ort_ms']:.2f}"]
        if with_ov:
            cells.append(f"{x['ov_ms']:.2f}" if "ov_ms" in x else "-")
        cells.append(f"**{x['ratio']:.2f}**")
        if with_ov:
            cells.append(f"**{x['ratio_ov']:.2f}**" if "ratio_ov" in x else "-")
        pct = x.get("onnxc_peak_pct")
        cells.append(f"{pct:.1f}%" if pct is not None else "?")
    one = by[str(threads[0])]
    for t in threads[1:]:
        x = by[str(t)]
        cells += [f"{one['onnxc_ms'] / x['onnxc_ms']:.2f}", f"{one['ort_ms'] / x['ort_ms']:.2f}"]
        if with_ov:
            cells.append(f"{one['ov_ms'] / x['ov_ms']:.2f}" if "ov_ms" in x and "ov_ms" in one else "-")
    cells.append("yes" if r.get("bit_identical") else "**NO**")
    cells.append(f"{r['rel_err']:.1e}" + ("" if r["correct"] else " **WRONG**"))
    if with_ov:
        cells.append(f"{r['ov_rel_err']:.1e}" if "ov_rel_err" in r else
                     one_line(r.get("ov_error", "-"), 80))
    return "| " + " | ".join(cells) + " |"


def machine_info(load_start):
    model, cores = platform.processor(), os.cpu_count()
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() == "Model name":
                model = v.strip()
    except OSError:
        pass
    return {"cpu": model, "logical_cpus": cores, "kernel": platform.release(),
            "loadavg_at_start": load_start}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=os.path.join(HERE, "models.txt"))
    ap.add_argument("--onnxc", default=os.path.join(ROOT, "build-bench", "onnxc"))
    ap.add_argument("--only", default=None, help="comma-separated substrings of labels")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-runs", type=int, default=20, help="timed runs per side, at least")
    ap.add_argument("--round-s", type=float, default=0.3, help="target seconds per side per round")
    ap.add_argument("--max-per-round", type=int, default=200)
    ap.add_argument("--max-side-s", type=float, default=240,
                    help="cap on one side's total timed seconds (slow models get fewer runs)")
    ap.add_argument("--warmup-s", type=float, default=0.3)
    ap.add_argument("--compile-timeout", type=int, default=1800)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights-file", action="store_true",
                    help="compile with --weights=FILE and time m_run_with_weights")
    ap.add_argument("--no-generate", action="store_true")
    ap.add_argument("--threads", default="1,2",
                    help="comma-separated thread counts for onnxc (PREFIX_run_parallel on "
                         "onnxc_pool), ORT (intra_op_num_threads) and OpenVINO; the first is "
                         "the single-thread table's")
    ap.add_argument("--no-openvino", action="store_true", help="leave OpenVINO out")
    ap.add_argument("--no-ref-profile", action="store_true",
                    help="skip the per-node profile that finds reference-kernel nodes")
    ap.add_argument("--ref-profile-runs", type=int, default=5)
    ap.add_argument("--out", default=None, help="JSON results file (default in bench/.cache)")
    args = ap.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    if not args.threads or min(args.threads) < 1:
        sys.exit("--threads wants positive thread counts")

    start = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    # The tree onnxc was built from (at start: colleagues may commit meanwhile).
    git_head = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h %s"],
                              stdout=subprocess.PIPE, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    if dirty:
        git_head += f" (+{len(dirty.splitlines())} uncommitted changed files)"
    entries = parse_models(args.models)
    if args.only:
        keys = args.only.split(",")
        def wanted(e):
            if any(k in e["label"] for k in keys):
                return True
            if "*" not in e["label"]:
                return False
            # A glob row with an exporter is only worth generating when a key
            # names it (e.g. "families") or matches a model it already made.
            if e["generator"] and any(k in e["path"] for k in keys):
                return True
            made = glob.glob(os.path.join(ROOT, e["path"]))
            return not e["generator"] or any(k in p for p in made for k in keys)

        entries = [e for e in entries if wanted(e)]
    gen = ensure_generated(entries, args.no_generate)
    rows = expand(entries, gen)
    if args.only:
        rows = [r for r in rows
                if any(k in r["label"] or k in r.get("pattern", "") for k in keys)]
    os.makedirs(os.path.join(CACHE, "work"), exist_ok=True)
    peak, peak_out = fma_peak(os.path.join(CACHE, "work"))
    log(f"FMA peak: {peak} GFLOP/s")

    results = []
    for row in rows:
        log(f"== {row['label']}")
        r = bench_model(row, args, args.onnxc)
        results.append(r)
        log("   " + fmt_row(r))
        with open(os.path.join(CACHE, "partial.json"), "w") as f:  # survives an interrupted run
            json.dump(results, f, indent=1)
        log(f"   compile {r.get('compile_s', '?')} s; wall ms onnxc/ORT "
            f"{r.get('onnxc_ms', 0):.3f}/{r.get('ort_ms', 0):.3f}")

    # Measured again at the end (max of both): the peak is a property of the
    # core, and a busy moment at the start would otherwise inflate the %.
    peak2, peak_out2 = fma_peak(os.path.join(CACHE, "work"))
    if peak2 and (not peak or peak2 > peak):
        peak, peak_out = peak2, peak_out2
    for r in results:
        if peak and "onnxc_gflops" in r:
            r["onnxc_peak_pct"] = 100 * r["onnxc_gflops"] / peak
            r["ort_peak_pct"] = 100 * r["ort_gflops"] / peak
        for t, x in r.get("threads", {}).items():  # against t cores' peak
            if peak and "onnxc_gflops" in x:
                x["onnxc_peak_pct"] = 100 * x["onnxc_gflops"] / (peak * min(int(t), os.cpu_count()))
    info = machine_info(load_start)
    meta = {"date_utc": start.strftime("%Y-%m-%d %H:%M UTC"), "machine": info,
            "onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
            "openvino": ov.__version__ if ov else None, "threads": args.threads,
            "fma_peak_gflops": peak, "fma_peak_output": peak_out,
            "command": " ".join(shlex.quote(a) for a in sys.argv),
            "onnxc_git": git_head,
            "loadavg_at_end": os.getloadavg(), "rounds": args.rounds}
    out = args.out or os.path.join(CACHE, f"results-{start.strftime('%Y%m%d-%H%M%S')}.json")
    with open(out, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)

    print(f"date: {meta['date_utc']}; CPU: {info['cpu']}, {info['logical_cpus']} logical CPUs; "
          f"onnxruntime {meta['onnxruntime']}; onnxc at {meta['onnxc_git']}")
    print(f"single-core FMA peak (bench/fma_peak.c): {peak} GFLOP/s; load average "
          f"start {info['loadavg_at_start'][0]:.2f}, end {meta['loadavg_at_end'][0]:.2f}")
    print()
    print(HEADER)
    for r in results:
        print(fmt_row(r))
    with_ov = any("ov_ms" in x for r in results for x in r.get("threads", {}).values())
    print(f"\nthreads {','.join(map(str, args.threads))} (onnxc: PREFIX_run_parallel on onnxc_pool; "
          f"ORT: intra_op_num_threads; OpenVINO {ov.__version__ if ov else '-'}: "
          f"INFERENCE_NUM_THREADS, f32, LATENCY, 1 stream); % FMA peak against T cores\n")
    print(threads_header(args.threads, with_ov))
    for r in results:
        print(fmt_threads_row(r, args.threads, with_ov))
    print("\ncompile (onnxc compile -O3, one process; peak RSS of the compiler):\n")
    print("| model | compile s | peak RSS MB | .o MB |" + (" weights MB |" if args.weights_file else ""))
    print("|---|---:|---:|---:|" + ("---:|" if args.weights_file else ""))
    for r in results:
        cells = [r["label"], r.get("compile_s", "-"), r.get("compile_peak_mb", "-"),
                 r.get("object_mb", "-")] + ([r.get("weights_mb", "-")] if args.weights_file else [])
        print("| " + " | ".join(str(c) for c in cells) + " |")
    ratios = [r["ratio"] for r in results if "ratio" in r]
    if ratios:
        gm = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"\ngeomean onnxc/ORT over {len(ratios)} timed models: {gm:.2f}; "
              f"worst {max(ratios):.2f}; failed or skipped: "
              f"{sum(1 for r in results if 'ratio' not in r)}; wrong: "
              f"{sum(1 for r in results if r.get('correct') is False)}")
    print(f"\nJSON: {os.path.relpath(out, ROOT)}")
    slow_ref = [r for r in results if (r.get("ref_kernel_pct") or 0) > REF_KERNEL_LIMIT_PCT]
    if slow_ref:
        print(f"\nFAIL: reference kernels take more than {REF_KERNEL_LIMIT_PCT:g}% of the node time of "
              + "; ".join(f"{r['label']} ({r['ref_kernel_pct']:.1f}%: {r['ref_kernel_ops']})"
                          for r in slow_ref), file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
