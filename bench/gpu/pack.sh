#!/usr/bin/env bash
# Packs what a GPU machine without Node.js and without network needs to run the benchmarks, into
# one file under 64 MiB: bench/gpu/out/wgt-gpu-pack.tar.xz (bench/gpu/out/ is git-ignored).
#
#   bash bench/gpu/pack.sh            (from the repository root, after npm install)
#
# Inside the pack:
#   node.xz                      this machine's node binary (Linux x86-64), xz-compressed
#   app/run.mjs, app/cli.mjs     bench/run.ts and the CLI bundled with esbuild: tfjs, wgsl_reflect
#                                and the engine inside; sharp replaced by a stub (nothing here decodes)
#   app/compare.mjs              bench/compare.ts, the same way
#   node_modules/webgpu/         the `webgpu` package's JS and its dist/linux-x64/dawn.node (xz)
#   lib/libvulkan.so.1           the Vulkan loader from Debian's libvulkan1 (the target may lack one)
#   gl/*.deb                     glvnd's GL dispatch libraries, which NVIDIA's Vulkan driver needs
#   MANIFEST                     commit, date, sizes; COMMIT sourced by run-gpu.sh
# bench/gpu/run-gpu.sh unpacks it and runs everything; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=bench/gpu/out
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$OUT" "$STAGE/app" "$STAGE/lib" "$STAGE/node_modules/webgpu/dist/linux-x64"

echo "pack: bundling bench/run.ts and src/cli/main.ts"
cat > "$STAGE/sharp-stub.mjs" <<'EOF'
// The GPU pack decodes no image: sharp (native libvips) stays behind.
const sharp = () => { throw new Error('sharp is not in the GPU pack'); };
export default sharp;
EOF
npx esbuild bench/run.ts bench/compare.ts src/cli/main.ts --bundle --platform=node --format=esm --target=node20 \
  --outdir="$STAGE/app" --entry-names='[name]' --external:webgpu --alias:sharp="$STAGE/sharp-stub.mjs" \
  --banner:js="import { createRequire as __wgtRequire } from 'node:module'; const require = __wgtRequire(import.meta.url);" \
  --log-level=warning
mv "$STAGE/app/main.js" "$STAGE/app/cli.mjs"
mv "$STAGE/app/run.js" "$STAGE/app/run.mjs"
mv "$STAGE/app/compare.js" "$STAGE/app/compare.mjs"

echo "pack: node $(node --version) and Dawn's binding"
# xz -9 of the two binaries takes minutes: kept in $OUT/cache, keyed by their checksums.
compressed() { # source, destination
  local key
  key=$(sha256sum "$1" | cut -c1-16)
  mkdir -p "$OUT/cache"
  if [ ! -f "$OUT/cache/$key.xz" ]; then
    xz -9 -T2 -c "$1" > "$OUT/cache/$key.xz.part"
    mv -f "$OUT/cache/$key.xz.part" "$OUT/cache/$key.xz"
  fi
  cp "$OUT/cache/$key.xz" "$2"
}
compressed "$(command -v node)" "$STAGE/node.xz"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$STAGE/node_modules/webgpu/"
compressed node_modules/webgpu/dist/linux-x64/dawn.node "$STAGE/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

echo "pack: the Vulkan loader (libvulkan1)"
DEB_DIR=$(mktemp -d)
if (cd "$DEB_DIR" && apt-get download libvulkan1 >/dev/null 2>&1); then
  dpkg-deb -x "$DEB_DIR"/libvulkan1_*.deb "$DEB_DIR/x"
  LOADER=$(find "$DEB_DIR/x" -name 'libvulkan.so.1.*' -type f | head -n1)
  SOURCE="Debian package $(basename "$DEB_DIR"/libvulkan1_*.deb)"
else
  LOADER=$(readlink -f /usr/lib/x86_64-linux-gnu/libvulkan.so.1)
  SOURCE="installed $(dpkg-query -W -f='libvulkan1 ${Version}' libvulkan1 2>/dev/null || echo "$LOADER")"
fi
cp "$LOADER" "$STAGE/lib/libvulkan.so.1"
rm -rf "$DEB_DIR"

echo "pack: the GL dispatch libraries (libglvnd0, libegl1, libgl1, libglx0, libopengl0, libgles2)"
# NVIDIA's Vulkan driver is libGLX_nvidia.so.0, which leans on glvnd's dispatch libraries; the GPU
# machines here mount the driver without them, and its vk_icdGetInstanceProcAddr then returns null.
mkdir -p "$STAGE/gl"
(cd "$STAGE/gl" && apt-get download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 >/dev/null 2>&1) \
  || echo "pack: apt-get download failed: the pack has no GL dispatch libraries" >&2

COMMIT=$(git rev-parse --short=12 HEAD)
DIRTY=$([ -n "$(git status --porcelain -- src bench)" ] && echo 1 || echo 0)
cat > "$STAGE/MANIFEST" <<EOF
COMMIT=$COMMIT
DIRTY=$DIRTY
PACKED="$(date -u +%Y-%m-%dT%H:%MZ)"
NODE_VERSION=$(node --version)
VULKAN_LOADER="$SOURCE"
EOF
(cd "$STAGE" && find . -type f -printf '%s\t%p\n' | sort -k2 >> MANIFEST)

tar -C "$STAGE" -cf - MANIFEST node.xz app lib gl node_modules | xz -1 -T2 > "$OUT/wgt-gpu-pack.tar.xz"
SIZE=$(stat -c %s "$OUT/wgt-gpu-pack.tar.xz")
echo "pack: $OUT/wgt-gpu-pack.tar.xz, $((SIZE / 1024 / 1024)) MiB (commit $COMMIT$([ "$DIRTY" = 1 ] && echo ', uncommitted changes'))"
if [ "$SIZE" -gt $((60 * 1024 * 1024)) ]; then
  echo "pack: larger than 60 MiB: it will not travel with the 64 MiB allowance" >&2
  exit 1
fi
