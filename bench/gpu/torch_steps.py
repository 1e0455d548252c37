#!/usr/bin/env python3
"""PyTorch fp32 figures for the GPU run, on the same steps and kernels as bench/run.ts.

Training steps: the small VGG (32x32, batch 32) and VGG16 (224x224, batch 32), full and frozen base,
and torchvision's VGG16 with only its head training (the recipe's transfer step),
built by bench/peers/torch_cpu.py's build_model (the same architecture as tfjs's and ours), SGD
momentum 0.9, cross-entropy; images/s from the median step, each step ending with a synchronize.
Kernels: matmul, conv2d forward / input gradient / weight gradient, batch norm, max-pool, with the
names and shape labels bench/run.ts uses. TF32 is off: these are fp32 figures, as ours are.

Layers (--layers-out FILE): each convolution and linear layer of VGG16 at the step's shapes
(224x224, batch 32), alone: its forward, its gradient for the layer below ("data"; none for the
first layer, which has no layer below), and its weight and bias gradients ("params"), named as
torchvision names them: `webgpu-transfer profile --model vgg16 --peer-layers FILE` puts ours beside them.

  python3 bench/gpu/torch_steps.py [--device cuda|cpu] [--smoke] [--out FILE]
                                   [--layers-out FILE [--layers-batch N] [--layers-size N]]

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
from torch_cpu import build_model, conv_label, step_name, step_variants  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--smoke", action="store_true", help="tiny: checks the script, not the speed")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=None)
    ap.add_argument("--layers-out", default=None, help="VGG16's layers one by one, as JSON")
    ap.add_argument("--layers-batch", type=int, default=None, help="their batch (default 32; 2 with --smoke)")
    ap.add_argument("--layers-size", type=int, default=None, help="their input size (default 224; 32 with --smoke)")
    ap.add_argument("--layers-only", action="store_true", help="no steps and no kernels: the layers alone")
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

    steps = [] if a.layers_only else [("smallvgg", 32, 32)] if a.smoke else [("smallvgg", 32, 32), ("vgg16", 32, 224), ("vgg16-torchvision", 32, 224)]
    for model_name, batch, size in steps:
        for frozen, head_only in step_variants(model_name):
            torch.manual_seed(1)
            model = build_model(model_name, frozen, size, 2, head_only).to(dev)
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
            add(step_name(model_name, frozen, head_only), f"{batch}x3x{size}x{size}, 2 classes", step, batch=batch, warmup=3)
            if cuda:
                out[-1]["notes"] = f"peak allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB"
            del model, opt, x, y

    if not a.layers_only:
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

    if a.layers_out:
        batch = a.layers_batch or (2 if a.smoke else 32)
        size = a.layers_size or (32 if a.smoke else 224)
        rows = layer_times(dev, batch, size, lambda fn: timed(fn)[0])
        with open(a.layers_out, "w") as f:
            f.write(json.dumps({"peer": f"PyTorch {torch.__version__}", "device": f"{name} ({a.device}, fp32, TF32 off)",
                                "model": "vgg16", "batch": batch, "size": size, "layers": rows}, indent=1) + "\n")
        print(f"PyTorch, VGG16's layers alone at {batch}x3x{size}x{size} (ms per call; data: the gradient for the layer below):", file=sys.stderr)
        print(f"  {'layer':<14}{'forward':>10}{'data':>10}{'params':>10}", file=sys.stderr)
        for r in rows:
            cells = "".join(f"{r[k]:>10.3f}" if r[k] is not None else f"{'-':>10}" for k in ("forwardMs", "dataMs", "paramsMs"))
            print(f"  {r['layer']:<14}{cells}", file=sys.stderr)

    if a.out:
        save()
        print(f"wrote {a.out}")
    elif not a.layers_only:
        print(json.dumps({"torchVersion": torch.__version__, "device": f"{name} ({a.device}, fp32, TF32 off)", "results": out}, indent=1))


VGG16_FEATURES = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def layer_times(dev, batch, size, time_ms):
    """VGG16's convolution and linear layers one at a time, at the shapes a step at `size` gives them."""
    conv_backward = torch.ops.aten.convolution_backward
    rows = []
    channels, side, index = 3, size, 0
    with torch.no_grad():
        for v in VGG16_FEATURES:
            if v == "M":
                side //= 2
                index += 1
                continue
            x = torch.randn(batch, channels, side, side, device=dev)
            w = torch.randn(v, channels, 3, 3, device=dev) * 0.05
            dy = torch.randn(batch, v, side, side, device=dev)
            # features.0's input is the batch: nothing below it wants a gradient.
            data = (lambda: conv_backward(dy, x, w, [v], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, False, False])) if index > 0 else None
            rows.append({
                "layer": f"features.{index}",
                "forwardMs": time_ms(lambda: F.conv2d(x, w, padding=1)),
                "dataMs": time_ms(data) if data else None,
                "paramsMs": time_ms(lambda: conv_backward(dy, x, w, [v], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [False, True, True])),
            })
            channels, index = v, index + 2  # the ReLU after it
        inputs = channels * 7 * 7  # torchvision's adaptive average pool makes any map 7x7 (the identity at 224)
        for i, outputs in enumerate([4096, 4096, 2]):
            x = torch.randn(batch, inputs, device=dev)
            w = torch.randn(outputs, inputs, device=dev) * 0.01
            b = torch.zeros(outputs, device=dev)
            dy = torch.randn(batch, outputs, device=dev)
            rows.append({
                "layer": f"classifier.{3 * i}",
                "forwardMs": time_ms(lambda: F.linear(x, w, b)),
                "dataMs": time_ms(lambda: dy @ w),
                "paramsMs": time_ms(lambda: (dy.t() @ x, dy.sum(0))),
            })
            inputs = outputs
    return rows


if __name__ == "__main__":
    main()
