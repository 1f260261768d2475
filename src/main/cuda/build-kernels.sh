#!/usr/bin/env bash
# Compiles every src/main/cuda/*.cu into a fatbin (Hopper machine code, sm_90a, plus compute_90 PTX that the driver
# compiles for other GPUs of compute capability 9.0 and newer) under DEST, and lists them in DEST/kernels.list, which
# io.pgolf.gpu.cuda.KernelModules reads. A fatbin is rebuilt only when its .cu or any header is newer. Without nvcc
# this prints a note and exits 0: everything else still builds, and a GPU run says the kernels are missing.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:?usage: build-kernels.sh DEST_DIR}"

nvcc_bin="${NVCC:-}"
if [[ -z "$nvcc_bin" ]]; then
  for candidate in "$(command -v nvcc || true)" /usr/local/cuda/bin/nvcc; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then nvcc_bin="$candidate"; break; fi
  done
fi
if [[ -z "$nvcc_bin" ]]; then
  echo "[pgolf] NOTE: nvcc not found (set NVCC or put it on PATH): the CUDA kernels are NOT compiled; the CPU backend" \
       "builds and runs, a GPU run will stop with 'kernels missing'." >&2
  exit 0
fi

mkdir -p "$dest"
newest_header="$(find "$src" -name '*.cuh' -printf '%T@\n' | sort -n | tail -1)"
list="$dest/kernels.list.tmp"
: > "$list"
for cu in "$src"/*.cu; do
  name="$(basename "$cu" .cu)"
  out="$dest/$name.fatbin"
  echo "$name.fatbin" >> "$list"
  if [[ -f "$out" && "$out" -nt "$cu" ]] && awk -v h="${newest_header:-0}" -v o="$(stat -c %Y "$out")" 'BEGIN{exit !(o >= h)}'; then
    continue
  fi
  echo "[pgolf] nvcc $name.cu" >&2
  "$nvcc_bin" -fatbin -O3 -std=c++17 --expt-relaxed-constexpr -Werror all-warnings -I "$src" \
    -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90 \
    -o "$out.tmp" "$cu"
  mv "$out.tmp" "$out"
done
mv "$list" "$dest/kernels.list"
