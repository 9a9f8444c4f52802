#!/usr/bin/env bash
# Installs what xauto needs on a fresh Debian/Ubuntu machine, then the npm packages (which
# builds the native addons, the in-repo ONNX models and the TypeScript). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: a C++ toolchain for the addons, Cyclone DDS 0.10 (ROS2 Humble's DDS) for
# ROS2 interop, chromium to render reports, iproute2 for the two-host network tests.
packages=(build-essential python3 cyclonedds-dev cyclonedds-tools iproute2 chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "[setup] apt-get install ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node's install script would otherwise try to download GPU libraries. npm >= 11.16
# skips it by itself (allowScripts in package.json); older npm needs this.
export ONNXRUNTIME_NODE_INSTALL=skip
echo "[setup] npm ci" >&2
npm ci --no-audit --no-fund
