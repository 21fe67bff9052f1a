"""
Robustness sweep: exports many torchvision classifiers (random weights,
non-trivial BatchNorm/LayerNorm statistics, batch 1) at opset 13 and 17,
compiles each with onnxc, links it into bench/harness.c, runs it once and
compares the output with ONNX Runtime (run in the bench venv, which has ORT
but no torch).  Not a test: a tool for finding what breaks on real exports.
Usage (Debian's python, which has torch 1.13 / torchvision 0.14):
  /usr/bin/python3 examples/export/sweep_torchvision.py [export|run|all]
      [--out /tmp/sweep] [--onnxc build-sweep/onnxc] [--opsets 13,17] [MODEL ...]
MODEL is a torchvision name or timm/<name> (needs timm); --opsets 0 uses the
dynamo exporter (a torch >= 2 python with onnxscript).
Writes OUT/<model>_op<N>/{model.onnx,input_0.npy,...} (_dyn for dynamo) and
OUT/report.md (--report NAME.md; results cached in NAME.json).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
VENV_PY = os.path.join(ROOT, "bench", ".venv", "bin", "python")
TOL = 1e-4
COMPILE_TIMEOUT = 180

MODELS = [
    "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v2",
    "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_v2_s",
    "convnext_tiny", "regnet_y_400mf", "regnet_x_400mf", "densenet121", "squeezenet1_1",
    "shufflenet_v2_x1_0", "mnasnet1_0", "googlenet", "inception_v3", "vgg11_bn", "alexnet",
    "vit_b_32", "swin_s", "swin_b",
]
OPSETS = (13, 17)

# ORT side, run by the venv's python: reference output + one timed run.
ORT_SCRIPT = r"""
import sys, time, numpy as np, onnxruntime as ort
path, inp, out = sys.argv[1:4]
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
x = np.load(inp)
feed = {s.get_inputs()[0].name: x}
s.run(None, feed)
t = time.perf_counter(); ys = s.run(None, feed); t = time.perf_counter() - t
np.save(out, np.concatenate([np.asarray(y, np.float32).ravel() for y in ys]))
print(t * 1e3)
"""


def case_name(name, opset):
    # "timm/<name>" models come from timm; opset 0 means the dynamo exporter.
    return name.replace("/", "_") + (f"_op{opset}" if opset else "_dyn")


def zoo_model(kind):
    """Small single-pattern modules (3x32x32 input) for ops the big models miss."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Zoo(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.gn = nn.GroupNorm(2, 8)
            self.inorm = nn.InstanceNorm2d(8, affine=True)
            self.prelu = nn.PReLU(8)
            self.deconv = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
            self.ln = nn.LayerNorm(8)
            self.q = nn.Linear(8, 24)

        def forward(self, x):
            y = self.conv(x)
            if kind == "chunk":
                a, b = torch.chunk(y, 2, dim=1)
                return torch.cat([b * torch.sigmoid(a), a], 1)
            if kind == "groupnorm":
                return self.gn(y)
            if kind == "instnorm":
                return self.inorm(y)
            if kind == "prelu_leaky":
                return F.leaky_relu(self.prelu(y), 0.1)
            if kind == "reflectpad":
                return F.pad(y, (1, 2, 2, 1), mode="reflect")
            if kind == "replpad":
                return F.pad(y, (1, 2, 2, 1), mode="replicate")
            if kind == "bilinear":
                return F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
            if kind == "bilinear_ac":
                return F.interpolate(y, size=(45, 45), mode="bilinear", align_corners=True)
            if kind == "bicubic":
                return F.interpolate(y, scale_factor=1.5, mode="bicubic", align_corners=False)
            if kind == "nearest":
                return F.interpolate(y, scale_factor=2, mode="nearest")
            if kind == "antialias":
                return F.interpolate(y, size=(13, 13), mode="bilinear", antialias=True)
            if kind == "pixelshuffle":
                return F.pixel_unshuffle(F.pixel_shuffle(y, 2), 4)
            if kind == "adaptive":
                return F.adaptive_avg_pool2d(y, 5) + F.adaptive_max_pool2d(y, 5)
            if kind == "ceilpool":
                return F.max_pool2d(y, 3, 2, ceil_mode=True) + F.avg_pool2d(y, 3, 2, ceil_mode=True, count_include_pad=False)
            if kind == "deconv":
                return self.deconv(y)
            if kind == "roll":
                return torch.roll(y, shifts=(3, -2), dims=(2, 3))
            if kind == "einsum":
                t = y.flatten(2).transpose(1, 2)
                return torch.einsum("bnc,bmc->bnm", t, t)
            if kind == "sdpa":
                t = self.q(self.ln(y.flatten(2).transpose(1, 2)))
                q, k, v = t.reshape(1, -1, 3, 2, 4).permute(2, 0, 3, 1, 4)
                return F.scaled_dot_product_attention(q, k, v)
            if kind == "acts":
                return F.softplus(y) + F.mish(y) + F.gelu(y, approximate="tanh") + F.hardtanh(y) + F.elu(y) + F.selu(y) + F.silu(y)
            if kind == "reduce":
                return y.amax(dim=(2, 3)) + y.var(dim=(2, 3)) + y.norm(dim=1).mean() + y.logsumexp(1).sum()
            if kind == "cumsum_topk":
                return torch.cumsum(y, 2) + torch.topk(y.flatten(1), 5).values.sum() + y.argmax(1, keepdim=True)
            raise ValueError(kind)

    return Zoo(), 32


ZOO = ["chunk", "groupnorm", "instnorm", "prelu_leaky", "reflectpad", "replpad", "bilinear",
       "bilinear_ac", "bicubic", "nearest", "antialias", "pixelshuffle", "adaptive", "ceilpool",
       "deconv", "roll", "einsum", "sdpa", "acts", "reduce", "cumsum_topk"]


def build_model(name):
    import torchvision
    if name.startswith("zoo/"):
        return zoo_model(name[4:])
    if name.startswith("timm/"):
        import timm
        model = timm.create_model(name[5:], pretrained=False)
        hw = model.default_cfg.get("input_size", (3, 224, 224))[1]
        return model, hw
    kw = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kw["aux_logits"] = False
        kw["init_weights"] = True
    return getattr(torchvision.models, name)(**kw), (299 if name == "inception_v3" else 224)


def export_one(name, opset, out_root):
    import torch
    sys.path.insert(0, HERE)
    from common import randomize_norms
    case_dir = os.path.join(out_root, case_name(name, opset))
    path = os.path.join(case_dir, "model.onnx")
    if os.path.exists(path):
        return True, "cached"
    os.makedirs(case_dir, exist_ok=True)
    seed = sum(map(ord, name))
    torch.manual_seed(seed)
    try:
        model, hw = build_model(name)
    except Exception as e:  # noqa: BLE001 - record any constructor failure
        return False, f"build: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
    randomize_norms(model, torch.Generator().manual_seed(seed + 1))
    model.eval()
    x = torch.randn((1, 3, hw, hw), generator=torch.Generator().manual_seed(seed + 2))
    try:
        if opset:
            kw = {"dynamo": False} if int(torch.__version__.split(".")[0]) >= 2 else {}
            torch.onnx.export(model, (x,), path, opset_version=opset, do_constant_folding=True,
                              input_names=["x"], output_names=["y"], **kw)
        else:
            torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                              dynamo=True, external_data=False)
    except Exception as e:  # noqa: BLE001 - record any exporter failure
        return False, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    np.save(os.path.join(case_dir, "input_0.npy"), x.numpy().astype(np.float32))
    return True, "ok"


def run_cmd(cmd, timeout, cwd=None):
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
        return p.returncode == 0, p.stdout, time.perf_counter() - t
    except subprocess.TimeoutExpired:
        return False, f"TIMEOUT after {timeout}s", time.perf_counter() - t


def check_one(case_dir, onnxc):
    res = {}
    model = os.path.join(case_dir, "model.onnx")
    if not os.path.exists(os.path.join(case_dir, "input_0.npy")):
        return {"error": "not exported"}
    inp = np.load(os.path.join(case_dir, "input_0.npy")).astype(np.float32)
    inp.tofile(os.path.join(case_dir, "input.bin"))
    ok, out, _ = run_cmd([VENV_PY, "-c", ORT_SCRIPT, model, os.path.join(case_dir, "input_0.npy"),
                          os.path.join(case_dir, "ref.npy")], 600)
    if not ok:
        res["error"] = "ORT failed: " + out.strip().splitlines()[-1][:200]
        return res
    res["ort_ms"] = float(out.strip().splitlines()[-1])
    ok, out, secs = run_cmd([onnxc, "compile", model, "-o", os.path.join(case_dir, "m.o"),
                             "--header", os.path.join(case_dir, "m.h"), "--name", "m", "-O2"],
                            COMPILE_TIMEOUT)
    res["compile_s"] = round(secs, 1)
    if not ok:
        res["error"] = "compile: " + " / ".join(out.strip().splitlines()[-2:])[:300]
        return res
    exe = os.path.join(case_dir, "harness")
    # The harness runs the model through the runtime's thread pool.
    ok, out, _ = run_cmd(["cc", "-O2", "-march=native", "-I" + case_dir,
                          "-I" + os.path.join(ROOT, "runtime"),
                          "-DMODEL_HEADER=\"m.h\"", os.path.join(ROOT, "bench", "harness.c"),
                          os.path.join(ROOT, "runtime", "onnxc_pool.c"),
                          os.path.join(case_dir, "m.o"), "-pthread", "-lm", "-o", exe], 300)
    if not ok:
        res["error"] = "link: " + out.strip()[-300:]
        return res
    outbin = os.path.join(case_dir, "out.bin")
    ok, out, _ = run_cmd([exe, "-w", "0", "-n", "1", "-o", outbin,
                          os.path.join(case_dir, "input.bin")], 600)
    if not ok:
        res["error"] = "run: " + out.strip()[-300:]
        return res
    words = out.split()
    res["onnxc_ms"] = (float(words[words.index("median") + 1]) if "median" in words else None)
    ref = np.load(os.path.join(case_dir, "ref.npy"))
    got = np.fromfile(outbin, dtype=np.float32)
    if got.size != ref.size:
        res["error"] = f"output size {got.size} != ORT {ref.size}"
        return res
    res["rel_err"] = float(np.max(np.abs(got - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
    return res


def fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", nargs="?", default="all", choices=["export", "run", "all"])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--out", default="/tmp/sweep")
    ap.add_argument("--onnxc", default=os.path.join(ROOT, "build-sweep", "onnxc"))
    ap.add_argument("--opsets", default="13,17",
                    help="TorchScript exporter opsets; 0 = the dynamo exporter (torch >= 2)")
    ap.add_argument("--report", default="report.md")
    args = ap.parse_args()
    models = args.models or MODELS
    if models == ["zoo"]:
        models = ["zoo/" + k for k in ZOO]
    opsets = [int(o) for o in args.opsets.split(",")]
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, args.report.replace(".md", ".json"))
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}
    for name in models:
        for opset in opsets:
            case = case_name(name, opset)
            r = results.get(case, {})
            if args.stage in ("export", "all"):
                ok, msg = export_one(name, opset, args.out)
                r["export"] = "ok" if ok else msg
                print(f"{case}: export {msg}", flush=True)
            if args.stage in ("run", "all") and r.get("export", "ok") == "ok":
                for k in ("error", "rel_err", "compile_s", "onnxc_ms", "ort_ms"):
                    r.pop(k, None)
                r.update(check_one(os.path.join(args.out, case), args.onnxc))
                print(f"{case}: {json.dumps(r)}", flush=True)
            results[case] = r
            with open(results_path, "w") as f:
                json.dump(results, f, indent=1)
    with open(os.path.join(args.out, args.report), "w") as f:
        f.write("| case | export | compile s | max err/max ref | onnxc ms | ORT ms | status |\n")
        f.write("|---|---|---|---|---|---|---|\n")
        for case, r in results.items():
            err = r.get("rel_err")
            status = r.get("error") or ("OK" if err is not None and err <= TOL else
                                        "WRONG" if err is not None else "?")
            f.write(f"| {case} | {r.get('export', '?')} | {fmt(r.get('compile_s'), '.1f')} | "
                    f"{fmt(err, '.2e')} | {fmt(r.get('onnxc_ms'), '.2f')} | "
                    f"{fmt(r.get('ort_ms'), '.2f')} | {status} |\n")


if __name__ == "__main__":
    main()
