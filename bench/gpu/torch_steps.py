#!/usr/bin/env python3
"""PyTorch fp32 figures for the GPU run, on the same steps and kernels as bench/run.ts.

Training steps: the small VGG (32x32, batch 32) and VGG16 (224x224, batch 32), full and frozen base,
built by bench/peers/torch_cpu.py's build_model (the same architecture as tfjs's and ours), SGD
momentum 0.9, cross-entropy; images/s from the median step, each step ending with a synchronize.
Kernels: matmul, conv2d forward / input gradient / weight gradient, batch norm, max-pool, with the
names and shape labels bench/run.ts uses. TF32 is off: these are fp32 figures, as ours are.

  python3 bench/gpu/torch_steps.py [--device cuda|cpu] [--smoke] [--out FILE]

Writes {"torchVersion", "device", "results": [...]} (read by `bench/run.ts --torch-json FILE`).
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch_cpu import build_model, conv_label  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--smoke", action="store_true", help="tiny: checks the script, not the speed")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    reps = 1 if a.smoke else a.reps
    out = []
    name = torch.cuda.get_device_name(dev) if cuda else "CPU"

    def save():
        if a.out:
            report = {"torchVersion": torch.__version__, "device": f"{name} ({a.device}, fp32, TF32 off)", "results": out}
            with open(a.out, "w") as f:
                f.write(json.dumps(report, indent=1) + "\n")

    def timed(fn, warmup=2):
        for _ in range(warmup):
            fn()
        sync()
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            sync()
            samples.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(samples), len(samples)

    def add(name, shape, fn, flops=None, bytes_=None, batch=None, warmup=2):
        try:
            ms, n = timed(fn, warmup)
            r = {"name": name, "shape": shape, "medianMs": ms, "minMs": ms, "samples": n}
            if flops:
                r["gflops"] = flops / (ms * 1e6)
            if bytes_:
                r["gbps"] = bytes_ / (ms * 1e6)
            if batch:
                r["batch"] = batch
                r["imagesPerSec"] = batch * 1000.0 / ms
        except Exception as e:  # noqa: BLE001
            r = {"name": name, "shape": shape, "medianMs": None, "minMs": None, "samples": 0, "error": f"{type(e).__name__}: {e}"[:300]}
        out.append(r)
        save()  # after every result: a run cut by a time limit keeps what it measured
        print(f"  torch {name} {shape}: {r.get('imagesPerSec') or r.get('gflops') or r.get('gbps') or r.get('error')}", file=sys.stderr, flush=True)

    steps = [("smallvgg", 32, 32)] if a.smoke else [("smallvgg", 32, 32), ("vgg16", 32, 224)]
    for model_name, batch, size in steps:
        for frozen in (False, True):
            torch.manual_seed(1)
            model = build_model(model_name, frozen, size, 2).to(dev)
            opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
            x = torch.randn(batch, 3, size, size, device=dev)
            y = torch.arange(batch, device=dev) % 2
            loss_fn = nn.CrossEntropyLoss()

            def step():
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()

            if cuda:
                torch.cuda.reset_peak_memory_stats()
            add(f"train.{model_name}.{'frozenBase' if frozen else 'full'}", f"{batch}x3x{size}x{size}, 2 classes", step, batch=batch, warmup=3)
            if cuda:
                out[-1]["notes"] = f"peak allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB"
            del model, opt, x, y

    with torch.no_grad():
        for m, k, n in [(512, 512, 512)] if a.smoke else [(1024, 1024, 1024), (2048, 2048, 2048), (4, 25088, 4096)]:
            A, B = torch.randn(m, k, device=dev), torch.randn(k, n, device=dev)
            add("matmul", f"{m}x{k} @ {k}x{n}", lambda: torch.mm(A, B), flops=2 * m * k * n)
        conv_shapes = [(4, 128, 28, 28, 128, 3)] if a.smoke else [(4, 64, 224, 224, 64, 3), (4, 64, 56, 56, 64, 3), (4, 128, 28, 28, 128, 3), (4, 512, 14, 14, 512, 3)]
        for (n, cin, h, w, cout, k) in conv_shapes:
            x = torch.randn(n, cin, h, w, device=dev)
            wt = torch.randn(cout, cin, k, k, device=dev) * 0.05
            dy = torch.randn(n, cout, h, w, device=dev)
            flops = 2 * n * h * w * cout * cin * k * k
            shape = conv_label(n, cin, h, w, cout, k)
            add("conv2d.forward", shape, lambda: F.conv2d(x, wt, padding=k // 2), flops=flops)
            add("conv2d.inputGrad", shape, lambda: torch.ops.aten.convolution_backward(
                dy, x, wt, None, [1, 1], [k // 2, k // 2], [1, 1], False, [0, 0], 1, [True, False, False]), flops=flops)
            add("conv2d.filterGrad", shape, lambda: torch.ops.aten.convolution_backward(
                dy, x, wt, None, [1, 1], [k // 2, k // 2], [1, 1], False, [0, 0], 1, [False, True, False]), flops=flops)
        for (n, c, h, w) in [(4, 128, 28, 28)] if a.smoke else [(4, 64, 224, 224), (4, 64, 56, 56), (4, 128, 28, 28), (4, 512, 14, 14)]:
            x = torch.randn(n, c, h, w, device=dev)
            g, b = torch.ones(c, device=dev), torch.zeros(c, device=dev)
            shape = f"{n}x{c}x{h}x{w}"
            add("batchnorm.train", shape, lambda: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5), bytes_=3 * x.numel() * 4)
            add("maxpool2x2", shape, lambda: F.max_pool2d(x, 2, 2), bytes_=x.numel() * 4 * 1.25)

    if a.out:
        save()
        print(f"wrote {a.out}")
    else:
        print(json.dumps({"torchVersion": torch.__version__, "device": f"{name} ({a.device}, fp32, TF32 off)", "results": out}, indent=1))


if __name__ == "__main__":
    main()
