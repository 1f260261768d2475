#!/usr/bin/env bash
# A/B on one device machine: runs `pgolf ARGS` with the baseline's jar and this build's, alternating, ROUNDS times
# each, so that both are measured on the same GPU (fresh machines differ by 1-2%). Needs a package made with
# `package.sh --baseline REV`. Usage on the device: bash dev/device/compare.sh ROUNDS pgolf-arguments...
# e.g. bash dev/device/compare.sh 2 bench train --backend cuda --record-steps 3
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pkg="$root/.device"
rounds="${1:?usage: compare.sh ROUNDS pgolf-arguments...}"
shift
if [[ ! -f "$pkg/baseline.jar" ]]; then
  echo "compare.sh: no $pkg/baseline.jar; package with dev/device/package.sh --baseline REV" >&2
  exit 2
fi
for round in $(seq 1 "$rounds"); do
  for build in baseline pgolf; do
    echo "== $build ($build.jar), round $round of $rounds"
    PGOLF_JAR="$pkg/$build.jar" bash "$root/dev/device/run.sh" "$@"
  done
done
