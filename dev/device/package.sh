#!/usr/bin/env bash
# Packs what a GPU machine without Java needs to run pgolf into .device/ (git-ignored; name it in the device
# tool's `carry`): pgolf.jar, its runtime libraries (JCuda's natives cut to the driver binding, zstd-jni's to
# linux-amd64, to stay inside the 64 MiB a call may carry) and a jlink'd Java 25 runtime as jre.tar.xz.
# The runtime is rebuilt only when missing. With --data sp1024|sp8192 it also copies that variant's xz-compressed
# shards and tokenizer from ../shared/data (11-14 MB), which run.sh unpacks into /tmp/pgolf-data on the device.
# With --fixtures the PyTorch fixtures go along (6 MB, for pgolf gpu-parity --fixtures .device/fixtures); both
# together exceed what one call may carry. With --baseline REV the jar of commit REV goes along as baseline.jar
# (built in a temporary worktree; it runs on this build's libraries), for dev/device/compare.sh.
# Then on the device: bash dev/device/run.sh <pgolf arguments>.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
variant=""
fixtures=""
baseline=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) variant="${2:?--data needs sp1024 or sp8192}"; shift 2 ;;
    --fixtures) fixtures=1; shift ;;
    --baseline) baseline="${2:?--baseline needs a commit}"; shift 2 ;;
    *) echo "package.sh: unknown argument $1 (use --data sp1024|sp8192, --fixtures, --baseline REV)" >&2; exit 2 ;;
  esac
done
jdk="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
out="$root/.device"
export JAVA_HOME="$jdk"

(cd "$root" && mvn -B -q -DskipTests package)
if [[ ! -f "$root/target/classes/io/pgolf/gpu/cuda/kernels/kernels.list" ]]; then
  echo "package.sh: the build compiled no CUDA kernels (no nvcc?); a GPU run would fail" >&2
  exit 1
fi

mkdir -p "$out/lib"
rm -f "$out"/lib/*.jar
cp "$root/target/pgolf.jar" "$out/pgolf.jar"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for jar in "$root"/target/lib/*.jar; do
  name="$(basename "$jar")"
  case "$name" in
    jcuda-natives-*)
      mkdir -p "$work/jcuda" && (cd "$work/jcuda" && unzip -q "$jar" 'lib/libJCudaDriver-*' 'META-INF/*' && zip -qr "$out/lib/$name" .) ;;
    zstd-jni-*)
      mkdir -p "$work/zstd" && (cd "$work/zstd" && unzip -q "$jar" -x 'aix/*' 'darwin/*' 'freebsd/*' 'linux/aarch64/*' \
        'linux/arm/*' 'linux/i386/*' 'linux/loongarch64/*' 'linux/mips64/*' 'linux/ppc64/*' 'linux/ppc64le/*' \
        'linux/riscv64/*' 'linux/s390x/*' 'win/*' && zip -qr "$out/lib/$name" .) ;;
    *) cp "$jar" "$out/lib/" ;;
  esac
done

if [[ ! -f "$out/jre.tar.xz" ]]; then
  echo "package.sh: linking a Java runtime (a minute) ..." >&2
  "$jdk/bin/jlink" --add-modules java.base,java.desktop,java.management,java.naming,java.sql,jdk.incubator.vector,jdk.jfr,jdk.unsupported \
    --strip-debug --no-header-files --no-man-pages --output "$work/jre" 2>/dev/null
  tar -C "$work/jre" -cf - . | xz -T0 -9 > "$out/jre.tar.xz.tmp"
  mv "$out/jre.tar.xz.tmp" "$out/jre.tar.xz"
fi
rm -rf "$out/data" "$out/fixtures" "$out/baseline.jar"
if [[ -n "$baseline" ]]; then
  git -C "$root" worktree add -q --detach "$work/baseline" "$baseline"
  if ! (cd "$work/baseline" && mvn -B -q -DskipTests package); then
    git -C "$root" worktree remove --force "$work/baseline"
    echo "package.sh: the baseline $baseline does not build" >&2
    exit 1
  fi
  cp "$work/baseline/target/pgolf.jar" "$out/baseline.jar.tmp"
  mv "$out/baseline.jar.tmp" "$out/baseline.jar"
  git -C "$root" worktree remove --force "$work/baseline"
fi
if [[ -n "$fixtures" ]]; then
  cp -r "$root/../shared/fixtures" "$out/fixtures"
fi
if [[ -n "$variant" ]]; then
  shared="$root/../shared/data"
  vocab="${variant#sp}"
  mkdir -p "$out/data/datasets/fineweb10B_$variant" "$out/data/tokenizers"
  cp "$shared/datasets/fineweb10B_$variant"/*.bin.xz "$out/data/datasets/fineweb10B_$variant/"
  cp "$shared/tokenizers/fineweb_${vocab}_bpe.model" "$out/data/tokenizers/"
fi
du -sh "$out" >&2
