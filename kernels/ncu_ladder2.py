#!/usr/bin/env python3
"""Nsight Compute byte counters for Kernel ladder II (decode, sliding window, selective scan),
written into a measurement file as 'ncu' records beside kernels/ncu_collect.py's.

    python3 kernels/ncu_ladder2.py --bin build --into ncu-ladder2.json

Each binary runs in its one-forward mode (--profile / --check) under
    ncu --clock-control none --cache-control all --metrics <ncu_collect.METRICS> -k regex:<kernels>
and the launches are grouped, in launch order, into the records below (decode: split + combine).
The configs follow the binaries' sweeps; block_kv of a decode record is its split size (keys per
block), block_q the 16 query-head rows of its mma tile; 'attn-decode-paged' reads 16-token pages.
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ncu_collect import METRICS as BYTE_METRICS, OPTIONS  # noqa: E402

# The byte counters of kernels/ncu_collect.py, plus each launch's duration (under ncu's replay with
# flushed caches: a diagnostic, not a timing).
METRICS = BYTE_METRICS + ["gpu__time_duration.sum"]


def cfg(b, h, kvh, nq, nkv, d, causal, bq, bkv, **extra):
    c = {"batch": b, "heads": h, "kv_heads": kvh, "seq_q": nq, "seq_kv": nkv, "head_dim": d, "causal": causal,
         "dtype": "bf16", "block_q": bq, "block_kv": bkv}
    c.update(extra)
    return c


def profile(ncu, regex, cmd):
    full = [ncu, *OPTIONS.split(), "--metrics", ",".join(METRICS), "--csv", "--print-units", "base", "-k",
            f"regex:{regex}", *cmd]
    p = subprocess.run(full, capture_output=True, text=True)
    rows = [line for line in p.stdout.splitlines() if line.startswith('"')]
    if p.returncode != 0 or not rows:
        print(f"ncu failed (rc {p.returncode}): {' '.join(full)}\n{p.stdout[-1500:]}\n{p.stderr[-1500:]}", file=sys.stderr)
        return []
    launches = {}
    for r in csv.DictReader(io.StringIO("\n".join(rows))):
        if r["Metric Name"] in METRICS:
            launches.setdefault(int(r["ID"]), {"name": r["Kernel Name"][:120]})[r["Metric Name"]] = \
                float(r["Metric Value"].replace(",", ""))
    return [launches[k] for k in sorted(launches)]


def record(kernel, rung, config, launches):
    totals = {m: sum(l.get(m, 0.0) for l in launches) for m in METRICS}
    return {"kernel": kernel, "rung": rung, "config": config, "launches": len(launches), "metrics": totals,
            "options": OPTIONS, "per_launch": launches}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="folder holding attnlab-attn-decode, -attn-window, -scan-selective")
    ap.add_argument("--into", required=True)
    ap.add_argument("--ncu", default="ncu")
    ap.add_argument("--parts", default="decode,window,scan", help="which rungs to profile (comma-separated)")
    ap.add_argument("--scan-only", default="", help="scan variants whose name starts with this (the binary's --only)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    recs = []
    # Decode: the key sweep's four cases, chunk 1024, contiguous then paged; two launches each.
    chunk = 1024
    ls = [] if "decode" not in parts else profile(args.ncu, "decode_", [f"{args.bin}/attnlab-attn-decode", "--profile", "--sweep", "key",
                                       "--chunk", str(chunk)])
    cases = [(1, 32, 32, 32768), (1, 32, 8, 32768), (1, 32, 4, 32768), (1, 32, 1, 32768)]
    if len(ls) == 4 * len(cases):
        for i, (b, h, kvh, L) in enumerate(cases):
            for j, name in enumerate(["attn-decode", "attn-decode-paged"]):
                k = 4 * i + 2 * j
                recs.append(record(name, 5, cfg(b, h, kvh, 1, L, 128, False, 16, chunk), ls[k:k + 2]))
    elif "decode" in parts:
        print(f"decode: expected {4 * len(cases)} launches, got {len(ls)}", file=sys.stderr)
    # Window: N = 8192, 16384, 32768 (B = 32768 / N, H16 d128): causal full, causal W4096, full, W128.
    lens = [8192, 16384, 32768]
    ls = [] if "window" not in parts else profile(args.ncu, "attn_mma", [f"{args.bin}/attnlab-attn-window", "--profile", "--lens",
                                        ",".join(map(str, lens))])
    if len(ls) == 4 * len(lens):
        for i, n in enumerate(lens):
            b = max(1, 32768 // n)
            vs = [("attn-mma", True, {}), ("attn-window", True, {"window_left": 4095}),
                  ("attn-mma", False, {}), ("attn-window", False, {"window_left": 64, "window_right": 64})]
            for j, (name, causal, w) in enumerate(vs):
                recs.append(record(name, 3 if name == "attn-mma" else 6, cfg(b, 16, 16, n, n, 128, causal, 128, 64, **w),
                                   [ls[4 * i + j]]))
    elif "window" in parts:
        print(f"window: expected {4 * len(lens)} launches, got {len(ls)}", file=sys.stderr)
    # Scan: B2 D4096, L = 1024, 4096, 16384; the binary's variants in its order (check mode: one
    # launch each): name, block_q (steps per warp chunk or per tile), channels per warp.
    lens = [1024, 4096, 16384]
    variants = [("R1 I8", 256, 1), ("R1 I16", 512, 1), ("R2 I8", 256, 2), ("R4 I4", 128, 4),
                ("S4 R1 P0 smem", 64, 8), ("S4 R1 P1 smem", 64, 8), ("S4 R1 P0 shfl", 64, 8),
                ("S4 R2 P0 shfl", 64, 16), ("S4 R1 P0 shfl pk", 64, 8), ("S4 R1 P1 shfl pk", 64, 8)]
    variants = [v for v in variants if v[0].startswith(args.scan_only)]
    only = ["--only", args.scan_only] if args.scan_only else []
    ls = [] if "scan" not in parts else profile(args.ncu, "selective_scan", [
        f"{args.bin}/attnlab-scan-selective", "--check", "--batch", "2", "--channels", "4096", "--lens",
        ",".join(map(str, lens)), *only])
    if len(ls) == len(variants) * len(lens):
        for i, L in enumerate(lens):
            for j, (name, bq, r) in enumerate(variants):
                # scan records: heads = channels D, head_dim = state N, block_q = steps per warp chunk
                # (or tile), block_kv = channels per warp (see the scan's config_note)
                rec = record("scan-selective", 7, cfg(2, 4096, 4096, L, L, 16, True, bq, r),
                             [ls[len(variants) * i + j]])
                rec["variant"] = name
                recs.append(rec)
    elif "scan" in parts:
        print(f"scan: expected {len(variants) * len(lens)} launches, got {len(ls)}", file=sys.stderr)
    doc = {}
    if os.path.exists(args.into):
        with open(args.into) as f:
            doc = json.load(f)
    doc.setdefault("ncu", []).extend(recs)
    doc["command"] = (doc.get("command", "") + " ; python3 kernels/ncu_ladder2.py " + " ".join(sys.argv[1:])).strip(" ;")
    with open(args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    for r in recs:
        m = r["metrics"]
        c = r["config"]
        print(f"{r['kernel']:<18} B{c['batch']} H{c['heads']}/{c['kv_heads']} N{c['seq_kv']} d{c['head_dim']} "
              f"bq{c['block_q']} bkv{c['block_kv']}{' causal' if c['causal'] else ''}: DRAM R "
              f"{m['dram__bytes_read.sum'] / 1e6:.1f} W {m['dram__bytes_write.sum'] / 1e6:.1f} MB, L2 "
              f"{m['lts__t_bytes.sum'] / 1e6:.1f} MB (SM {m['lts__t_sectors_srcunit_tex.sum'] * 32 / 1e6:.1f}, fabric "
              f"{m['lts__t_sectors_srcunit_ltcfabric.sum'] * 32 / 1e6:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
