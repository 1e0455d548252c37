#!/usr/bin/env bash
# The README's first command: installs everything webgpu-transfer needs on a fresh Debian 12
# machine (system packages, npm packages, the build) and runs the main job, the embedded
# transfer-learning demo. Extra arguments go to the demo (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/setup-system.sh
elif command -v sudo >/dev/null; then
  sudo --preserve-env=WGT_SKIP_TORCH,WGT_SKIP_CHROMIUM bash scripts/setup-system.sh
else
  echo "system packages need root: run 'bash scripts/setup-system.sh' as root first" >&2
  exit 1
fi
npm ci --no-audit --no-fund
npm run build
exec node dist/cli/main.js demo "$@"
