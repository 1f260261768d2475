#!/usr/bin/env python3
"""Sums up a CSV of dev/device/kernel-profile.sh per kernel: calls, total and per-call time, DRAM bytes moved per
call, the bandwidth that makes, DRAM and SM throughput (% of peak, time-weighted) and registers; slowest first.
Usage: python3 dev/device/kernel-table.py NCU_CSV"""
import collections
import csv
import sys


def main(path):
    with open(path) as f:
        rows = list(csv.reader(line for line in f if line.startswith('"')))
    if not rows:
        sys.exit(f"{path}: no Nsight Compute rows (lines starting with a quote)")
    header, rows = rows[0], rows[1:]
    col = {name: header.index(name) for name in ("ID", "Kernel Name", "Metric Name", "Metric Value")}
    launches = collections.defaultdict(dict)
    for r in rows:
        launch = launches[int(r[col["ID"]])]
        launch["name"] = r[col["Kernel Name"]]
        launch[r[col["Metric Name"]]] = float(r[col["Metric Value"]].replace(",", ""))
    kernels = collections.defaultdict(lambda: collections.Counter())
    for launch in launches.values():
        k = kernels[launch["name"]]
        t = launch["gpu__time_duration.sum"]
        k["calls"] += 1
        k["ns"] += t
        k["bytes"] += launch["dram__bytes_read.sum"] + launch["dram__bytes_write.sum"]
        k["dram"] += launch["dram__throughput.avg.pct_of_peak_sustained_elapsed"] * t
        k["sm"] += launch["sm__throughput.avg.pct_of_peak_sustained_elapsed"] * t
        k["regs"] = launch["launch__registers_per_thread"]
    total = sum(k["ns"] for k in kernels.values())
    print(f"{len(launches)} launches, {total / 1e6:.3f} ms of kernel time")
    print(f"{'kernel':50s} {'calls':>5s} {'ms':>8s} {'ms/call':>8s} {'GB/call':>8s} {'TB/s':>6s} {'DRAM%':>6s}"
          f" {'SM%':>5s} {'regs':>4s}")
    for name, k in sorted(kernels.items(), key=lambda item: -item[1]["ns"]):
        ns = k["ns"]
        print(f"{name:50s} {k['calls']:5d} {ns / 1e6:8.3f} {ns / k['calls'] / 1e6:8.3f}"
              f" {k['bytes'] / k['calls'] / 1e9:8.3f} {k['bytes'] / ns / 1e3:6.2f} {k['dram'] / ns:6.1f}"
              f" {k['sm'] / ns:5.1f} {k['regs']:4.0f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
