#!/usr/bin/env bash
# Installs the system packages webgpu-transfer needs on a fresh Debian 12 machine:
#   - lavapipe (Mesa's software Vulkan driver) from bookworm-backports: the fastest software
#     WebGPU adapter here (Debian 12's stock Mesa 22.3 lavapipe is rejected by Dawn),
#   - Chromium: the browser test suite, and SwiftShader (shipped inside it) as a second adapter,
#   - Debian's PyTorch: the independent reference that writes the test fixtures.
# Idempotent: it skips what is already installed. Set WGT_SKIP_TORCH=1 / WGT_SKIP_CHROMIUM=1 to skip.
set -euo pipefail

need_root() { if [ "$(id -u)" -ne 0 ]; then echo "run as root (or with sudo): $0" >&2; exit 1; fi; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

packages=()
backports_file=/etc/apt/sources.list.d/bookworm-backports.sources
# The backports Mesa is the one Dawn accepts; the stock one lacks a Vulkan feature Dawn requires.
if ! [ -f /usr/share/vulkan/icd.d/lvp_icd.json ] || ! grep -q bookworm-backports "$backports_file" 2>/dev/null; then
  need_root
  if ! [ -f "$backports_file" ]; then
    # Reuse the archive this machine already reaches: copy the first stanza, change its suite.
    awk 'BEGIN{RS="";ORS="\n\n"} NR==1{print; exit}' /etc/apt/sources.list.d/debian.sources \
      | sed 's/^Suites:.*/Suites: bookworm-backports/' > "$backports_file"
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1
fi
if [ "${WGT_SKIP_CHROMIUM:-0}" != 1 ] && ! installed chromium; then packages+=(chromium); fi
if [ "${WGT_SKIP_TORCH:-0}" != 1 ] && ! installed python3-torchvision; then packages+=(python3-torch python3-torchvision python3-numpy); fi
if [ ${#packages[@]} -gt 0 ]; then
  need_root
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi
echo "system packages ready"
