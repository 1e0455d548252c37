#!/usr/bin/python3
"""PyTorch-on-CPU scale reference for the peer benchmarks (same shapes as bench/peers/tfjs.ts).

Prints one JSON object on stdout: {"torchVersion", "threads", "cpu", "results": [...]}, each result
shaped like tfjs.ts's PeerResult (name, shape, flops|bytes, medianMs, minMs, gflops|gbps|imagesPerSec,
samples, error?). Progress goes to stderr. Uses only torch / torch.nn (no torchvision).

  /usr/bin/python3 bench/peers/torch_cpu.py [--reps N] [--train-reps N] [--threads N]
                                            [--skip-vgg16] [--skip-fc] [--only REGEX]
"""
import argparse
import json
import os
import platform
import re
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # torch.ts turns this into null
    print(json.dumps({"error": f"torch not importable: {e}"}))
    sys.exit(3)


def timeit(fn, warmup, reps, budget_s):
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
        if time.perf_counter() - start > budget_s:
            break
    return samples


def result(name, shape, samples, flops=None, bytes_=None, batch=None, notes=None):
    med = statistics.median(samples)
    r = {"name": name, "shape": shape, "medianMs": med, "minMs": min(samples), "samples": len(samples)}
    if flops is not None:
        r["flops"] = flops
        r["gflops"] = flops / (med * 1e6)
    if bytes_ is not None:
        r["bytes"] = bytes_
        r["gbps"] = bytes_ / (med * 1e6)
    if batch is not None:
        r["batch"] = batch
        r["imagesPerSec"] = batch * 1000.0 / med
    if notes:
        r["notes"] = notes
    return r


def failed(name, shape, e, **extra):
    r = {"name": name, "shape": shape, "medianMs": None, "minMs": None, "samples": 0,
         "error": f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"}
    r.update(extra)
    return r


_cfg = torch.__config__.show()
_m = re.search(r"BLAS_INFO=(\w+)", _cfg)
BLAS_INFO = _m.group(1) if _m else "?"

CONV_SHAPES = [(4, 64, 56, 56, 64, 3), (4, 128, 28, 28, 128, 3), (4, 512, 14, 14, 512, 3)]
ACT_SHAPES = [(4, 64, 224, 224), (4, 64, 56, 56), (4, 128, 28, 28), (4, 512, 14, 14)]


def conv_label(n, cin, h, w, cout, k):
    return f"{n}x{cin}x{h}x{w} -> {cout}, {k}x{k} p{k // 2}"


def step_name(model, frozen, head_only=False):
    """The step's name in bench/run.ts (bench/train-step.ts stepName)."""
    return f"train.{model}.{'headOnly' if head_only else 'frozenBase' if frozen else 'full'}"


def build_model(model, frozen, size, classes, head_only=False):
    """smallvgg and vgg16 as the peers build them (frozen: the convolutions); vgg16-torchvision as
    torchvision does (adaptive average pool to 7x7, dropout), head_only: all but its last layer frozen."""
    if model == "smallvgg":
        cfg, dense = [32, 32, "M", 64, 64, "M", 128, 128, "M"], [256]
    else:
        cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
        dense = [4096, 4096]
    torchvision = model == "vgg16-torchvision"
    layers, c, s = [], 3, size
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            s //= 2
        else:
            conv = nn.Conv2d(c, v, 3, padding=1)
            if frozen:
                for p in conv.parameters():
                    p.requires_grad_(False)
            layers += [conv, nn.ReLU(inplace=True)]
            c = v
    if torchvision:
        layers.append(nn.AdaptiveAvgPool2d(7))
        s = 7
    layers.append(nn.Flatten())
    f = c * s * s
    for u in dense:
        layers += [nn.Linear(f, u), nn.ReLU(inplace=True)] + ([nn.Dropout(0.5)] if torchvision else [])
        f = u
    layers.append(nn.Linear(f, classes))  # CrossEntropyLoss = softmax + categorical cross-entropy
    if head_only:
        for p in nn.Sequential(*layers[:-1]).parameters():
            p.requires_grad_(False)
    return nn.Sequential(*layers)


def step_variants(model):
    """(frozen, head_only) of the steps bench/run.ts races: torchvision's VGG16 full and head only."""
    return [(False, False), (True, True)] if model == "vgg16-torchvision" else [(False, False), (True, False)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--train-reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--skip-vgg16", action="store_true")
    ap.add_argument("--skip-fc", action="store_true")
    ap.add_argument("--only", default=None)
    ap.add_argument("--vgg16-size", type=int, default=64)
    ap.add_argument("--vgg16-batch", type=int, default=4)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    only = re.compile(a.only, re.I) if a.only else None
    out = []

    def want(name, shape):
        return only is None or only.search(f"{name} {shape}")

    def add(r):
        out.append(r)
        rate = r.get("error") or next(
            (f"{r[k]:.2f} {u}" for k, u in (("imagesPerSec", "img/s"), ("gflops", "GFLOP/s"), ("gbps", "GB/s")) if k in r), "")
        print(f"  torch {r['name']} {r['shape']}: {r['medianMs'] if r['medianMs'] is None else round(r['medianMs'], 2)} ms {rate}",
              file=sys.stderr, flush=True)

    reps, budget = a.reps, 20.0
    with torch.no_grad():
        mm = [(s, s, s) for s in (256, 512, 1024)] + ([] if a.skip_fc else [(4, 25088, 4096)])
        for m, k, n in mm:
            shape = f"{m}x{k} @ {k}x{n}"
            if not want("matmul", shape):
                continue
            try:
                A, B = torch.randn(m, k), torch.randn(k, n)
                add(result("matmul", shape, timeit(lambda: torch.mm(A, B), 2, reps, budget), flops=2 * m * k * n,
                           notes=f"torch.mm, BLAS_INFO={BLAS_INFO}"))
                # Debian's torch links the generic (reference) BLAS: also time the same product through
                # oneDNN, as a 1x1 convolution: C^T[N,M] = conv(A^T as [1,K,M,1], B^T as [N,K,1,1]).
                x = A.t().reshape(1, k, m, 1).contiguous()
                w = B.t().reshape(n, k, 1, 1).contiguous()
                err = (F.conv2d(x, w).reshape(n, m).t() - torch.mm(A, B)).abs().max().item()
                add(result("matmul.onednn", shape, timeit(lambda: F.conv2d(x, w), 2, reps, budget), flops=2 * m * k * n,
                           notes=f"oneDNN 1x1 conv; max abs diff vs torch.mm {err:.1e}"))
                del A, B, x, w
            except Exception as e:  # noqa: BLE001
                add(failed("matmul", shape, e))
        for (n, cin, h, w, cout, k) in CONV_SHAPES:
            x, wt, dy = torch.randn(n, cin, h, w), torch.randn(cout, cin, k, k) * 0.05, torch.randn(n, cout, h, w)
            flops = 2 * n * h * w * cout * cin * k * k
            passes = {
                "forward": lambda: F.conv2d(x, wt, padding=k // 2),
                "inputGrad": lambda: torch.ops.aten.convolution_backward(
                    dy, x, wt, None, [1, 1], [k // 2, k // 2], [1, 1], False, [0, 0], 1, [True, False, False]),
                "filterGrad": lambda: torch.ops.aten.convolution_backward(
                    dy, x, wt, None, [1, 1], [k // 2, k // 2], [1, 1], False, [0, 0], 1, [False, True, False]),
            }
            for p, fn in passes.items():
                shape = conv_label(n, cin, h, w, cout, k)
                if not want(f"conv2d.{p}", shape):
                    continue
                try:
                    add(result(f"conv2d.{p}", shape, timeit(fn, 2, reps, budget), flops=flops))
                except Exception as e:  # noqa: BLE001
                    add(failed(f"conv2d.{p}", shape, e))
        for (n, c, h, w) in ACT_SHAPES:
            shape = f"{n}x{c}x{h}x{w}"
            x = torch.randn(n, c, h, w)
            g, b = torch.ones(c), torch.zeros(c)
            if want("batchnorm.train", shape):
                add(result("batchnorm.train", shape,
                           timeit(lambda: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5), 2, reps, budget),
                           bytes_=3 * x.numel() * 4, notes="bytes = 3|x|"))
            if want("maxpool2x2", shape):
                add(result("maxpool2x2", shape, timeit(lambda: F.max_pool2d(x, 2, 2), 2, reps, budget),
                           bytes_=x.numel() * 4 * 1.25))

    specs = [("smallvgg", 32, 32), ("vgg16", a.vgg16_batch, a.vgg16_size), ("vgg16-torchvision", a.vgg16_batch, a.vgg16_size)]
    for model_name, batch, size in specs:
        if model_name != "smallvgg" and a.skip_vgg16:
            continue
        for frozen, head_only in step_variants(model_name):
            name = step_name(model_name, frozen, head_only)
            shape = f"{batch}x3x{size}x{size}, 2 classes"
            if not want(name, shape):
                continue
            try:
                torch.manual_seed(1)
                model = build_model(model_name, frozen, size, 2, head_only)
                params = [p for p in model.parameters() if p.requires_grad]
                opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
                x = torch.randn(batch, 3, size, size)
                y = torch.arange(batch) % 2
                loss_fn = nn.CrossEntropyLoss()
                last = {}

                def step():
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(model(x), y)
                    loss.backward()
                    opt.step()
                    last["loss"] = loss.item()

                samples = timeit(step, 1, a.train_reps, 120.0)
                total = sum(p.numel() for p in model.parameters())
                r = result(name, shape, samples, batch=batch,
                           notes=f"params {total}, trainable {sum(p.numel() for p in params)}")
                r["check"] = f"loss {last['loss']:.4f}"
                add(r)
                del model, opt
            except Exception as e:  # noqa: BLE001
                add(failed(name, shape, e, batch=batch, imagesPerSec=None))

    print(json.dumps({
        "torchVersion": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpuCount": os.cpu_count(),
        "blas": BLAS_INFO,
        "loadAvgAtEnd": list(os.getloadavg()),
        "results": out,
    }))


if __name__ == "__main__":
    main()
