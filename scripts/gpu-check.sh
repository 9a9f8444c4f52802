#!/usr/bin/env bash
# The first thing to run on a machine with an NVIDIA GPU: builds native/device with its CUDA
# backend, checks that the CUDA backend is chosen, runs the GPU tests on it (kernel corpus
# against references, idempotency brute force, preemption, device tensors, perception
# equivalence, fanout release of device tensors, CUDA-specific tests, onnxruntime's CUDA EP) and
# the device benchmarks (stages, preempt, preempt-pipeline: the perception launch beside a
# background device job, preemption on vs off), then prints a summary. Exit status: 0 when
# everything passed.
#   bash scripts/gpu-check.sh            (XAUTO_CUDA_ARCH='compute_90,code=sm_90' to pick targets)
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
status=0
step() { printf '\n== %s\n' "$1"; }

step "GPU"
nvidia-smi -L 2>/dev/null || echo "nvidia-smi not found (the driver may still be present)"

step "build native/device with CUDA"
node scripts/build-native.mjs device 2>&1 | tee "$out/build.log"
build=$([ "${PIPESTATUS[0]}" -eq 0 ] && echo ok || echo FAILED)
grep -q 'CUDA kernels compiled' "$out/build.log" || build="$build (without CUDA: see above)"
backend=$(node -e "const a=require('./native/device/build/Release/xauto_device.node'); console.log(a.backendNote)" 2>/dev/null)
echo "device: $backend"
case "$backend" in cuda*) ;; *) status=1 ;; esac

step "GPU tests on the CUDA backend"
XAUTO_REQUIRE_CUDA=1 npx ava --serial test/gpu-*.test.ts test/perception-equivalence.test.ts 2>&1 | tee "$out/tests.log"
tests=$([ "${PIPESTATUS[0]}" -eq 0 ] && echo ok || echo FAILED)
[ "$tests" = ok ] || status=1

step "device benchmarks"
npm run -s bench -- stages 2>&1 | tee "$out/stages.log"
npm run -s bench -- preempt 2>&1 | tee "$out/preempt.log"
npm run -s bench -- preempt-pipeline 2>&1 | tee "$out/preempt-pipeline.log"

step "summary"
echo "build:     $build"
echo "backend:   $backend"
echo "tests:     $tests ($(grep -Eo '[0-9]+ tests? passed' "$out/tests.log" | tail -1), $(grep -Eo '[0-9]+ tests? failed' "$out/tests.log" | tail -1 || true))"
echo "stages:    $(tail -n 1 "$out/stages.log")"
echo "preempt:   $(tail -n 1 "$out/preempt.log")"
echo "pipeline:  $(tail -n 1 "$out/preempt-pipeline.log")"
echo "logs:      $out"
exit "$status"
