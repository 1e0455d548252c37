#!/usr/bin/env bash
# Runs the benchmarks on an NVIDIA machine that has neither Node.js nor network, from the pack
# that bench/gpu/pack.sh made. From the repository root:
#
#   bash bench/gpu/run-gpu.sh [--smoke] [--pack FILE] [-- extra options for bench/run.ts]
#
# What it does, each step printed with the time:
#   1. unpacks node, Dawn's dawn.node and the Vulkan loader into a temporary folder;
#   2. points the Vulkan loader at NVIDIA's driver manifest (nvidia_icd.json; made from
#      libGLX_nvidia.so.0 when the machine has the driver but no manifest);
#   3. prints the adapter, and stops if it is a software one (unless WGT_ALLOW_SOFTWARE=1);
#   4. PyTorch CUDA fp32 figures for the same steps and kernels, and VGG16's layers one by one (a
#      table in the log, torch-layers-cuda.json: beside step 6's layer table of ours), if python3
#      has torch with CUDA (bench/gpu/torch_steps.py);
#   5. the benchmark suite (bench/run.ts): training steps of the small VGG (32x32, batch 32) and of
#      VGG16 at 224x224 batch 32, full and frozen base, then the kernels, next to tfjs and PyTorch;
#      5c. VGG16's full step again with the bucket pool alone (WGT_MEMORY=pool), for its peak;
#      5d. VGG16's steps again with each convolution layer's tile, and direct or Winograd, timed
#          and chosen on this GPU (--tune-kernels, WGT_CONV_ALGORITHM=fastest), printing every
#          candidate's time per layer;
#      5e. VGG16's steps and the conv kernels again with the tiled convolution's previous
#          reduction order (WGT_CONV_ORDER=plain), to measure the 16-channel blocks against it;
#      5f. VGG16's steps and the conv kernels again with Winograd's F(2x2, 3x3) for every 3x3
#          stride-1 layer (WGT_CONV_ALGORITHM=winograd), to measure it against the direct kernels;
#      5g. step 5's figures against the last full run kept from a GPU (WGT_BASELINE, default
#          bench/reports/h200-2026-11-27/run4-final/bench.json), and 5e's and 5f's against step 5's
#          (bench/compare.ts: row by row, with each row's spread);
#   6. the profiler on VGG16 224x224 batch 32, frozen vs full, with its Chrome trace, each
#      kernel's GFLOP/s also as a share of this GPU's multiply-add ceiling (--ceiling), and the
#      step's time layer by layer (--layers), beside PyTorch's layers from step 4 (--peer-layers).
# Results go to $OUT (the device tool's output folder) or bench/results/gpu.
#
# Environment: WGT_VULKAN_ICD=<manifest> uses that Vulkan driver instead of NVIDIA's (the test here
# points it at lavapipe); WGT_ALLOW_SOFTWARE=1 runs on a software adapter; WGT_PYTHON (python3) and
# WGT_TORCH_DEVICE (cuda) pick PyTorch. WGT_SYSTEM_GL=1 (root, throwaway machines only): when no manifest
# gives an adapter, unpack the pack's GL libraries into / and try again. Time limits, in seconds:
# WGT_TORCH_TIMEOUT (120), WGT_BENCH_TIMEOUT (300; the bench saves its results after every
# benchmark, so a cut run keeps what it measured), WGT_TILE_TIMEOUT (60, each of 5b, 5c, 5e, 5f),
# WGT_TUNE_TIMEOUT (120), WGT_PROFILE_TIMEOUT (90). They add up to more than the device tool's
# 600 s per command, so the whole run also keeps to WGT_RUN_BUDGET (570 s; 1800 with --smoke,
# which runs on software adapters): each step's limit is cut to what is left of it, keeping the
# profile's for step 6, and a step with under 15 s left is skipped and says so. WGT_GPU_TIMEOUT
# (60): one wait on the GPU longer than this fails (GpuTimeoutError), so that a hung kernel costs
# a minute of the device's time, not the rest of its step's limit.
# --smoke keeps every step tiny (checks the recipe, not the speed).
set -uo pipefail
cd "$(dirname "$0")/../.."
PACK=bench/gpu/out/wgt-gpu-pack.tar.xz
SMOKE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --pack) PACK=$2; shift ;;
    --) shift; break ;;
    *) echo "run-gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
RUN_BUDGET=${WGT_RUN_BUDGET:-$([ "$SMOKE" = 1 ] && echo 1800 || echo 570)}
PROFILE_LIMIT=${WGT_PROFILE_TIMEOUT:-90}
RESULTS=${OUT:-bench/results/gpu}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
WORK=$(mktemp -d /tmp/wgt-gpu.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
step() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }
# Runs the rest of the line under `timeout` with its own limit ($1), cut so that the run stays
# within WGT_RUN_BUDGET with $2 seconds kept for the steps after it. With under 15 s left it skips
# the step (exit 124, as one cut by timeout) and says so on fd 3, the script's own output, which
# the steps' filters do not read.
exec 3>&1
within_budget() {
  local seconds=$1 left=$((RUN_BUDGET - SECONDS - $2))
  shift 2
  [ "$left" -lt "$seconds" ] && seconds=$left
  if [ "$seconds" -lt 15 ]; then
    echo "run-gpu.sh: skipped, $((RUN_BUDGET - SECONDS)) s left of WGT_RUN_BUDGET=$RUN_BUDGET" >&3
    return 124
  fi
  timeout "$seconds" "$@"
}
die() { echo "run-gpu.sh: $*" >&2; exit 1; }

# xz is not everywhere; Python's lzma module reads the same format.
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}

step "1. unpack $PACK"
[ -f "$PACK" ] || die "no pack at $PACK: run bench/gpu/pack.sh first (and carry bench/gpu/out)"
unxz_to "$PACK" "$WORK/pack.tar" && tar -C "$WORK" -xf "$WORK/pack.tar" && rm "$WORK/pack.tar" || die "cannot unpack $PACK"
unxz_to "$WORK/node.xz" "$WORK/node" && rm "$WORK/node.xz" && chmod +x "$WORK/node"
DAWN="$WORK/node_modules/webgpu/dist/linux-x64/dawn.node"
unxz_to "$DAWN.xz" "$DAWN" && rm "$DAWN.xz"
NODE="$WORK/node"
"$NODE" --version || die "the packed node does not run here"
# shellcheck disable=SC1091
. <(grep -E '^(COMMIT|DIRTY|PACKED|NODE_VERSION)=' "$WORK/MANIFEST")
export WGT_COMMIT="$COMMIT" WGT_DIRTY="$DIRTY"
export WGT_GPU_TIMEOUT=${WGT_GPU_TIMEOUT:-60}
echo "pack of commit $COMMIT$([ "$DIRTY" = 1 ] && echo ' (with uncommitted changes)'), made $PACKED"

step "2. Vulkan driver"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
# Candidate manifests, tried in turn until Dawn reports a hardware adapter: WGT_VULKAN_ICD, the
# usual places (/usr/local/nvidia/share/...: where the device machines here mount the driver),
# and one made here for libGLX_nvidia.so.0 (the driver's Vulkan ICD) by absolute path, for
# containers that mount the library without a manifest or outside the loader's search path.
CANDIDATES=()
if [ -n "${WGT_VULKAN_ICD:-}" ]; then
  CANDIDATES=("$WGT_VULKAN_ICD")
else
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
           /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /usr/local/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    [ -f "$f" ] && CANDIDATES+=("$f")
  done
  GLX=$( { ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ {print $NF}'; find /usr/local/nvidia /usr/lib /usr/lib64 -name 'libGLX_nvidia.so.0' 2>/dev/null; } | head -n1)
  if [ -n "$GLX" ]; then
    printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$GLX" > "$WORK/nvidia_icd.json"
    CANDIDATES+=("$WORK/nvidia_icd.json")
  fi
fi
# glvnd's dispatch libraries (libGLdispatch and friends), unpacked beside the loader: without them
# NVIDIA's ICD loads but hands the loader no vkCreateInstance.
for deb in "$WORK"/gl/*.deb; do [ -f "$deb" ] && dpkg-deb -x "$deb" "$WORK/gl/root"; done
# The packed loader first; the driver's own folders so that a manifest naming a bare library resolves.
LIBS="$WORK/lib"
[ -d "$WORK/gl/root/usr/lib/x86_64-linux-gnu" ] && LIBS="$LIBS:$WORK/gl/root/usr/lib/x86_64-linux-gnu"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && LIBS="$LIBS:$d"; done
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export XDG_RUNTIME_DIR="$WORK"
unset WGT_ADAPTER
# Without a WebGPU adapter the PyTorch figures are still worth having: only steps 5-6 are skipped.
WEBGPU=0
step "3. adapter"
if [ ${#CANDIDATES[@]} -eq 0 ]; then
  echo "run-gpu.sh: no NVIDIA Vulkan driver: neither nvidia_icd.json nor libGLX_nvidia.so.0 (a container started with NVIDIA_DRIVER_CAPABILITIES=compute,utility lacks 'graphics')" >&2
fi
try_adapters() {
for ICD in ${CANDIDATES[@]+"${CANDIDATES[@]}"}; do
  echo "Vulkan ICD: $ICD"; cat "$ICD"
  export VK_ICD_FILENAMES="$ICD" VK_DRIVER_FILES="$ICD"
  if ! VK_LOADER_DEBUG=error "$NODE" "$WORK/app/cli.mjs" info --json > "$RESULTS/adapter.json"; then
    echo "run-gpu.sh: no WebGPU adapter through $ICD" >&2
  elif ! "$NODE" -e 'const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`${a.description || a.device} [${a.vendor}/${a.architecture}] software=${a.isSoftware}; maxStorageBufferBindingSize ${a.limits.maxStorageBufferBindingSize}, maxBufferSize ${a.limits.maxBufferSize}; features ${a.features.join(" ")}`); process.exit(a.isSoftware && process.env.WGT_ALLOW_SOFTWARE !== "1" ? 3 : 0)' "$RESULTS/adapter.json"; then
    echo "run-gpu.sh: the adapter through $ICD is a software one: Dawn did not reach the NVIDIA driver" >&2
  else
    WEBGPU=1
    return 0
  fi
done
return 1
}
if ! try_adapters && [ "${WGT_SYSTEM_GL:-0}" = 1 ] && [ "$(id -u)" = 0 ]; then
  # The device machines' own recipe: the packages unpacked into / and the linker cache rebuilt.
  # Only for a throwaway machine (WGT_SYSTEM_GL=1): it writes to the system's library folders.
  echo "run-gpu.sh: WGT_SYSTEM_GL=1: unpacking the GL dispatch libraries and the loader into / and retrying"
  for deb in "$WORK"/gl/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  LD_LIBRARY_PATH=$(echo "$LD_LIBRARY_PATH" | sed "s#$WORK/lib:##")
  try_adapters || true
fi

if [ "$SMOKE" = 1 ]; then
  BENCH=(--quick --only 'train\.smallvgg\.frozen|maxpool2x2 4x128' --reps 1 --train-reps 1)
  PROFILE=(--model vgg16 --size 32 --batch 2 --steps 1 --warmup 1)
  TORCH=(--smoke)
else
  BENCH=(--vgg16-size 224 --vgg16-batch 32 --train-reps 3 --reps 3)
  PROFILE=(--model vgg16 --size 224 --batch 32 --steps 2)
  TORCH=()
fi

TORCH_DEVICE=${WGT_TORCH_DEVICE:-cuda}
step "4. PyTorch ($TORCH_DEVICE, fp32)"
TORCH_JSON=()
PY=${WGT_PYTHON:-python3}
if command -v "$PY" >/dev/null && "$PY" -c 'import sys, torch; sys.exit(0 if sys.argv[1] != "cuda" or torch.cuda.is_available() else 1)' "$TORCH_DEVICE" 2>/dev/null; then
  if within_budget "${WGT_TORCH_TIMEOUT:-120}" "$PROFILE_LIMIT" "$PY" bench/gpu/torch_steps.py --device "$TORCH_DEVICE" ${TORCH[@]+"${TORCH[@]}"} --out "$RESULTS/torch-$TORCH_DEVICE.json" --layers-out "$RESULTS/torch-layers-$TORCH_DEVICE.json"; then
    TORCH_JSON=(--torch-json "$RESULTS/torch-$TORCH_DEVICE.json")
  else
    echo "PyTorch run failed: no PyTorch column"
  fi
else
  echo "$PY with torch ($TORCH_DEVICE): not here, no PyTorch column"
fi

if [ "$WEBGPU" = 0 ]; then
  step "5-6. skipped: no WebGPU adapter on the NVIDIA driver"
  ls -la "$RESULTS"
  exit 1
fi

step "5. benchmarks: bench/run.ts ${BENCH[*]} $*"
within_budget "${WGT_BENCH_TIMEOUT:-300}" "$PROFILE_LIMIT" "$NODE" "$WORK/app/run.mjs" "${BENCH[@]}" ${TORCH_JSON[@]+"${TORCH_JSON[@]}"} --out "$RESULTS" "$@" 2>&1 | grep -v 'artificially reduced' \
  || echo "run-gpu.sh: the benchmark stopped early (exit ${PIPESTATUS[0]}); what it wrote is in $RESULTS"

# A variant of the engine measured again, ours only, its progress lines to the log (WGT_TILE_TIMEOUT
# each): variant "<step title>" <folder> <--only regex> VAR=value...
variant() {
  local title=$1 folder=$2 only=$3
  shift 3
  step "$title"
  within_budget "${WGT_TILE_TIMEOUT:-60}" "$PROFILE_LIMIT" env "$@" "$NODE" "$WORK/app/run.mjs" "${BENCH[@]}" --no-tfjs --only "$only" --out "$RESULTS/$folder" 2>&1 \
    | grep -E '^\[[0-9]+ s\]' || echo "run-gpu.sh: $folder stopped early (its time limit, or an error above)"
}

# WGT_CONV_TILES="64x64 128x128": the VGG16 steps and conv kernels again with each tiled-conv tile
# forced, to measure the choice chooseConvTile makes.
for tile in ${WGT_CONV_TILES:-}; do
  variant "5b. conv tile $tile: VGG16 steps and conv2d kernels, ours only" "tile-$tile" 'train\.vgg16\.|conv2d' WGT_CONV_TILE="$tile"
done

# The VGG16 full step again with the bucket pool alone (WGT_MEMORY=pool): its peak beside the
# planned one of step 5, on the same GPU (WGT_POOL_COMPARE=0 skips it).
if [ "${WGT_POOL_COMPARE:-1}" = 1 ]; then
  variant "5c. VGG16 full step with the bucket pool (WGT_MEMORY=pool), ours only" bucket-pool 'train\.vgg16\.full' WGT_MEMORY=pool
fi

# The VGG16 steps again, each convolution layer with the tile measured fastest for it on this GPU
# (--tune-kernels; WGT_TUNE=0 skips it): the per-layer timings of every tile, and the step's speed.
if [ "${WGT_TUNE:-1}" = 1 ]; then
  step "5d. VGG16 steps with the convolution tiles and algorithms tuned per layer (--tune-kernels, WGT_CONV_ALGORITHM=fastest), ours only"
  within_budget "${WGT_TUNE_TIMEOUT:-120}" "$PROFILE_LIMIT" env WGT_CONV_ALGORITHM=fastest "$NODE" "$WORK/app/run.mjs" "${BENCH[@]}" --no-tfjs --tune-kernels --only 'train\.vgg16\.' --out "$RESULTS/tuned" 2>&1 \
    | grep -E '^\[[0-9]+ s\]' || echo "run-gpu.sh: the tuned run stopped early (time limit or error); what it wrote is in $RESULTS/tuned"
  sed -n '/^| train/p; /^Convolution tiles tuned/,/^$/p; /^- /p' "$RESULTS"/tuned/*.md 2>/dev/null | grep -v '^- adapter\|^- webgpu-transfer\|^- configuration'
fi

# The VGG16 steps and conv kernels again in the tiled convolution's plain reduction order
# (channel, tap) instead of 16-channel blocks: the A/B of that change on this GPU (WGT_ORDER_COMPARE=0 skips it).
if [ "${WGT_ORDER_COMPARE:-1}" = 1 ]; then
  variant "5e. VGG16 steps and conv2d kernels in the plain reduction order (WGT_CONV_ORDER=plain), ours only" plain-order 'train\.vgg16\.|conv2d' WGT_CONV_ORDER=plain
fi

# The same with Winograd's F(2x2, 3x3) for every 3x3 stride-1 layer: its A/B against step 5's
# direct kernels (WGT_WINOGRAD_COMPARE=0 skips it).
if [ "${WGT_WINOGRAD_COMPARE:-1}" = 1 ]; then
  variant "5f. VGG16 steps and conv2d kernels with Winograd F(2x2, 3x3) (WGT_CONV_ALGORITHM=winograd), ours only" winograd 'train\.vgg16\.|conv2d' WGT_CONV_ALGORITHM=winograd
fi

# What moved: this run against the last full one kept from a GPU, and the variants against this
# run (bench/compare.ts; a few seconds in all).
step "5g. compared, row by row"
newest() { ls -t "$1"/bench-*.json 2>/dev/null | head -n 1; }
compare() { # title, before.json, after.json
  [ -n "$2" ] && [ -n "$3" ] || return 0
  echo; echo "-- $1"
  within_budget 20 "$PROFILE_LIMIT" "$NODE" "$WORK/app/compare.mjs" "$2" "$3" || echo "run-gpu.sh: the comparison failed"
}
BASELINE=${WGT_BASELINE:-bench/reports/h200-2026-11-27/run4-final/bench.json}
MAIN_JSON=$(newest "$RESULTS")
[ -f "$BASELINE" ] && compare "this run against $BASELINE" "$BASELINE" "$MAIN_JSON"
for folder in plain-order winograd; do
  compare "$folder against this run's step 5" "$MAIN_JSON" "$(newest "$RESULTS/$folder")"
done

# Beside PyTorch's layers of step 4, where it timed them (at the profile's batch and size).
PEER=()
[ -f "$RESULTS/torch-layers-$TORCH_DEVICE.json" ] && PEER=(--peer-layers "$RESULTS/torch-layers-$TORCH_DEVICE.json")
step "6. profile: ${PROFILE[*]} --compare-frozen --ceiling --layers ${PEER[*]+"${PEER[*]}"}"
within_budget "$PROFILE_LIMIT" 0 "$NODE" "$WORK/app/cli.mjs" profile "${PROFILE[@]}" --compare-frozen --ceiling --layers ${PEER[@]+"${PEER[@]}"} --trace "$RESULTS/trace.json" 2>&1 | grep -v 'artificially reduced' \
  | tee "$RESULTS/profile.txt"

step "done: $RESULTS"
ls -la "$RESULTS"
