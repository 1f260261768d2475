#!/usr/bin/env bash
# Runs pgolf on the GPU machine from what package.sh put in .device/: unpacks the Java runtime once into /tmp, and
# the carried shards, if any, into /tmp/pgolf-data (datasets/fineweb10B_spN/*.bin, tokenizers/). PGOLF_JAR picks
# another jar than .device/pgolf.jar (compare.sh runs the baseline's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pkg="$root/.device"
jre=/tmp/pgolf-jre
if [[ ! -x "$jre/bin/java" ]]; then
  mkdir -p "$jre.tmp" && tar -C "$jre.tmp" -xJf "$pkg/jre.tar.xz" && mv "$jre.tmp" "$jre"
fi
if [[ -d "$pkg/data" && ! -d /tmp/pgolf-data ]]; then
  cp -r "$pkg/data" /tmp/pgolf-data.tmp && find /tmp/pgolf-data.tmp -name '*.xz' -exec xz -d {} + && mv /tmp/pgolf-data.tmp /tmp/pgolf-data
fi
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
exec "$jre/bin/java" ${PGOLF_JAVA_OPTS:--Xmx32g} --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow -cp "${PGOLF_JAR:-$pkg/pgolf.jar}:$pkg/lib/*" io.pgolf.deploy.PgolfCli "$@"
