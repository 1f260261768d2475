#!/usr/bin/env python3
"""Development tool, not part of the build: writes the numpy oracle fixtures that the Java loader tests read.

It produced src/test/resources/io/pgolf/data/loader/*.json with numpy 2.4.6 (Python 3.11). CI never runs it;
the committed JSON files are the oracle. Rerun it only to regenerate them:

    python3 dev/make_loader_fixtures.py [path/to/shared]

numpy.random is used as the reference implementation: PCG64 seeded through SeedSequence, and the Generator
methods integers, permutation, choice(p=...) and random, in the interleavings the training loader produces.
The loader below is the reference's ShuffledSequenceLoader with torch removed (it only records picks).
"""
import hashlib
import json
import lzma
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "src/test/resources/io/pgolf/data/loader"
U64 = (1 << 64) - 1


def u64s(values):
    return [str(int(v)) for v in values]


def pcg64_fixture():
    cases = []
    for seed in list(range(8)) + [123456789, (1 << 40) + 17, (1 << 63) - 1]:
        bit_generator = np.random.PCG64(seed)
        state = bit_generator.state["state"]
        cases.append({
            "seed": seed,
            "seedSequenceState32": [int(v) for v in np.random.SeedSequence(seed).generate_state(8, np.uint32)],
            "seedSequenceState64": u64s(np.random.SeedSequence(seed).generate_state(4, np.uint64)),
            "lcgState": [str(state["state"] >> 64), str(state["state"] & U64)],
            "lcgIncrement": [str(state["inc"] >> 64), str(state["inc"] & U64)],
            "raw": u64s(bit_generator.random_raw(16)),
        })
    return {"numpy": np.__version__, "cases": cases}


def generator_script():
    """Calls chosen so that 32-bit draws (with PCG64's buffered half word), 64-bit draws and no-draw calls interleave."""
    return [
        ["integers", 10], ["random"], ["integers", 2048], ["permutation", 7],
        ["choice", [0.25, 0.25, 0.5]], ["integers", 1], ["integers", (1 << 33) + 5], ["permutation", 1],
        ["permutation", 0], ["integers", 1 << 32], ["integers", (1 << 63) - 1], ["integers", 3],
        ["choice", [0.0, 0.5, 0.0, 0.5, 0.0]], ["permutation", 100], ["integers", 3], ["integers", 3],
        ["choice", list(np.array([3, 0, 5], dtype=np.float64) / 8.0)], ["integers", (1 << 31) + 1],
        ["choice", [1.0]], ["integers", 2047], ["random"], ["integers", 5],
        ["choice", list(np.array([7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=np.float64) / 18.0)],
        ["permutation", 2000],
    ]


def generator_fixture():
    cases = []
    for seed in range(4):
        rng = np.random.Generator(np.random.PCG64(seed))
        results = []
        for op in generator_script():
            if op[0] == "integers":
                results.append(str(int(rng.integers(op[1]))))
            elif op[0] == "random":
                results.append(float(rng.random()))
            elif op[0] == "permutation":
                results.append([int(v) for v in rng.permutation(op[1])])
            elif op[0] == "choice":
                results.append(int(rng.choice(len(op[1]), p=np.array(op[1], dtype=np.float64))))
        state = rng.bit_generator.state
        cases.append({
            "seed": seed,
            "results": results,
            "finalLcgState": [str(state["state"]["state"] >> 64), str(state["state"]["state"] & U64)],
            "finalHasUint32": int(state["has_uint32"]),
            "finalUinteger": int(state["uinteger"]),
        })
    script = [[op[0]] + ([str(op[1])] if op[0] == "integers" else op[1:]) for op in generator_script()]
    return {"numpy": np.__version__, "script": script, "cases": cases}


class ReferenceSampler:
    """The reference loader's sampling, line for line, over token counts instead of files."""

    def __init__(self, all_counts, seq_len, rank, world_size):
        self.seq_len = seq_len
        self.num_tokens = list(all_counts)[rank::world_size]
        self.rng = np.random.Generator(np.random.PCG64(rank))
        self.start_inds = [[] for _ in self.num_tokens]
        for si in range(len(self.num_tokens)):
            self._reset_shard(si)

    def _reset_shard(self, si):
        n = self.num_tokens[si]
        max_phase = min(self.seq_len - 1, max(0, n - self.seq_len - 1))
        phase = int(self.rng.integers(max_phase + 1)) if max_phase > 0 else 0
        num_seq = (n - 1 - phase) // self.seq_len
        self.start_inds[si] = (phase + self.rng.permutation(num_seq) * self.seq_len).tolist()

    def next_batch(self, bsz):
        remaining = np.array([len(s) for s in self.start_inds], dtype=np.float64)
        picks = []
        for _ in range(bsz):
            if remaining.sum() <= 0:
                for si in range(len(self.num_tokens)):
                    self._reset_shard(si)
                remaining = np.array([len(s) for s in self.start_inds], dtype=np.float64)
            si = int(self.rng.choice(len(self.num_tokens), p=remaining / remaining.sum()))
            start = self.start_inds[si].pop()
            remaining[si] -= 1
            picks.append((si, start))
        return picks


def sampled_picks(counts, seq_len, rank, world_size, rows, batches):
    sampler = ReferenceSampler(counts, seq_len, rank, world_size)
    return [pick for _ in range(batches) for pick in sampler.next_batch(rows)]


def picks_digest(picks):
    return hashlib.sha256("".join(f"{si},{start}\n" for si, start in picks).encode()).hexdigest()


def small_layout_fixture():
    counts = [100, 17, 16, 0, 18, 250, 40, 33, 1000]
    cases = []
    for world_size in (1, 2, 3):
        for rank in range(world_size):
            picks = sampled_picks(counts, 16, rank, world_size, rows=7, batches=40)
            cases.append({"worldSize": world_size, "rank": rank, "rows": 7,
                          "shard": [p[0] for p in picks], "start": [p[1] for p in picks]})
    return {"numpy": np.__version__, "seqLen": 16, "counts": counts, "cases": cases}


def shard_tokens(xz_file):
    data = lzma.decompress(xz_file.read_bytes())
    header = np.frombuffer(data[:1024], dtype="<i4")
    assert header[0] == 20240520 and header[1] == 1
    return np.frombuffer(data[1024:], dtype="<u2", count=int(header[2]))


def real_layout_fixture(shared):
    dataset = shared / "data/datasets/fineweb10B_sp8192"
    files = sorted(dataset.glob("fineweb_train_*.bin.xz"))
    tokens = [shard_tokens(f) for f in files]
    counts = [len(t) for t in tokens]
    seq_len, rows = 2048, 48
    cases = []
    for world_size, rank, batches in ((1, 0, 180), (2, 1, 90), (8, 3, 3)):
        picks = sampled_picks(counts, seq_len, rank, world_size, rows, batches)
        mine = tokens[rank::world_size]
        batch_digests = []
        for b in range(3):
            windows = [mine[si][start:start + seq_len + 1] for si, start in picks[b * rows:(b + 1) * rows]]
            batch_digests.append(hashlib.sha256(np.concatenate(windows).astype("<u2").tobytes()).hexdigest())
        cases.append({"worldSize": world_size, "rank": rank, "rows": rows, "picks": len(picks),
                      "firstShard": [p[0] for p in picks[:200]], "firstStart": [p[1] for p in picks[:200]],
                      "picksSha256": picks_digest(picks), "firstBatchesSha256": batch_digests})
    return {"numpy": np.__version__, "dataset": "fineweb10B_sp8192", "files": [f.name[:-3] for f in files],
            "counts": counts, "seqLen": seq_len,
            "digestFormat": "sha256 of lines 'shard,start\\n'; batch digest: sha256 of the rows' windows as uint16 LE",
            "cases": cases}


def write(name, payload):
    path = OUT / name
    path.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print(f"{path}: {path.stat().st_size} bytes")


def main():
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared"
    OUT.mkdir(parents=True, exist_ok=True)
    write("pcg64.json", pcg64_fixture())
    write("generator.json", generator_fixture())
    write("sampler_small.json", small_layout_fixture())
    write("sampler_sp8192.json", real_layout_fixture(shared))


if __name__ == "__main__":
    main()
