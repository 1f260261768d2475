#!/usr/bin/env bash
# On the GPU machine: profiles pgolf's own kernels (pg_*) inside `pgolf bench train` with Nsight Compute, each
# kernel alone at the GPU's own clocks, and writes one CSV row per metric to OUT_CSV: time, DRAM bytes read and
# written, DRAM and SM throughput in % of peak, registers. LAUNCH_SKIP (default 2500) skips the warm-up's launches;
# LAUNCH_COUNT (default 700, about 30 layer passes forward and backward) are profiled. Summarize the CSV here with
# dev/device/kernel-table.py. Usage: bash dev/device/kernel-profile.sh OUT_CSV
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:?usage: kernel-profile.sh OUT_CSV}"
ncu="$(command -v ncu || echo /usr/local/cuda/bin/ncu)"
if [[ ! -x "$ncu" ]]; then
  echo "kernel-profile.sh: Nsight Compute (ncu) not found on PATH or in /usr/local/cuda/bin" >&2
  exit 2
fi
"$ncu" --target-processes all --clock-control none -k 'regex:^pg_' \
  --launch-skip "${LAUNCH_SKIP:-2500}" --launch-count "${LAUNCH_COUNT:-700}" --csv \
  --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread \
  bash "$root/dev/device/run.sh" bench train --backend cuda --record-steps 1 > "$out.tmp"
mv "$out.tmp" "$out"
