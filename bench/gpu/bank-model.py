#!/usr/bin/env python3
"""Counts workgroup-memory requests of the tiled conv2d kernel for one warp, before and after the
conflict-free layout (src/kernels/conv2d-implicit-gemm.ts). A model of NVIDIA's shared memory, not
a measurement: 32 banks of 4 bytes; a warp's 4-byte accesses are served together, its 16-byte
accesses 8 invocations at a time; invocations reading the same word share it. The index formulas
are the kernel's: workgroup 16x16, flat = 16*y + x, a warp = 32 consecutive flat indices.

    python3 bench/gpu/bank-model.py
"""


def requests(addresses, width):
    """Serialised requests for one warp access: per phase, the most distinct words on one bank."""
    per_phase = 32 // (width // 4) if width > 4 else 32
    total = 0
    for start in range(0, 32, per_phase):
        banks = {}
        for a in addresses[start:start + per_phase]:
            for w in range(width // 4):
                word = a // 4 + w
                banks.setdefault(word % 32, set()).add(word)
        total += max(len(words) for words in banks.values())
    return total


def tile(channels, pixels, depth, padded):
    w_row = channels // 4 + (1 if padded else 0)  # vec4s per row k of the weight tile
    staging = 0
    loads = 0
    for warp in range(8):
        flats = range(32 * warp, 32 * warp + 32)
        # The weight tile: element e -> (channel e / depth, k e % depth), stored at [k][channel].
        for step in range(channels * depth // 256):
            staging += requests([((e % depth) * w_row * 4 + e // depth) * 4 for e in (f + 256 * step for f in flats)], 4)
        # The source tile: pixel column flat % pixels at rows k = flat / pixels + (256 / pixels) j.
        for j in range(depth // (256 // pixels)):
            staging += requests([((f // pixels + (256 // pixels) * j) * pixels + f % pixels) * 4 for f in flats], 4)
        # One step k of the inner loop: each invocation's channel quads, then its pixel quads.
        xs, ys = [f % 16 for f in flats], [f // 16 for f in flats]
        cq, pq = channels // 64, pixels // 64
        for q in range(cq):
            loads += requests([(y + 16 * q if padded else y * cq + q) * 16 for y in ys], 16)
        for q in range(pq):
            loads += requests([(x + 16 * q if padded else x * pq + q) * 16 for x in xs], 16)
    return staging / 8, loads / 8, (channels // 16) * (pixels // 16)


print("tile          staging stores per step (before, after)  loads per k (before, after)  FMA instructions per k")
for t in [(64, 64, 16), (128, 128, 16), (64, 128, 16), (128, 64, 16), (64, 64, 32)]:
    s0, l0, fma = tile(*t, padded=False)
    s1, l1, _ = tile(*t, padded=True)
    print(f"{t[0]}x{t[1]}x{t[2]:<8} {s0:>6.0f} {s1:>6.0f}                            {l0:>4.0f} {l1:>4.0f}                   {fma}")
