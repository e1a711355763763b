#!/usr/bin/env python3
"""Nsight Compute byte counters for the kernel ladder, written into a measurement file.

    python3 kernels/ncu_collect.py --bench build/attnlab-bench --sweep ncu \
        --kernels naive,tiled,mma --into measurements.json

For every (kernel, config) that `attnlab-bench --print-shapes` lists, runs one forward pass
(`attnlab-bench --profile`) under
    ncu --clock-control none --cache-control all --metrics dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,...
and sums the counters over that pass's launches (naive has three). --cache-control all flushes the
caches before every launch, so each launch starts with a cold L2: what the simulator's
cold_l2_per_kernel models. --clock-control none leaves the GPU's clocks as they are.
"""
import argparse
import csv
import io
import json
import subprocess
import sys

METRICS = ["dram__bytes_read.sum", "dram__bytes_write.sum", "lts__t_bytes.sum",
           # Where the L2 bytes come from: the SMs (what the simulator's hbm_* counts) and the fabric
           # between the H100's two L2 partitions (the same access counted again at the far side).
           "lts__t_sectors_srcunit_tex.sum", "lts__t_sectors_srcunit_ltcfabric.sum"]
OPTIONS = "--clock-control none --cache-control all"


def shape_args(c):
    a = ["--batch", str(c["batch"]), "--heads", str(c["heads"]), "--kv-heads", str(c["kv_heads"]),
         "--seq", str(c["seq_q"]), "--seq-kv", str(c["seq_kv"]), "--dim", str(c["head_dim"]), "--dtype", c["dtype"]]
    return a + (["--causal"] if c["causal"] else [])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", required=True)
    ap.add_argument("--sweep", default="ncu")
    ap.add_argument("--kernels", default="naive,tiled,mma")
    ap.add_argument("--into", required=True, help="measurement JSON to add the 'ncu' records to")
    ap.add_argument("--ncu", default="ncu")
    args = ap.parse_args()

    listing = subprocess.run([args.bench, "--print-shapes", "--sweep", args.sweep, "--kernels", args.kernels],
                             check=True, capture_output=True, text=True).stdout
    work = [json.loads(line) for line in listing.splitlines() if line.strip()]
    with open(args.into) as f:
        doc = json.load(f)
    records = doc.setdefault("ncu", [])
    for n, w in enumerate(work, 1):
        c = w["config"]
        cmd = [args.ncu, *OPTIONS.split(), "--metrics", ",".join(METRICS), "--csv", "--print-units", "base",
               args.bench, "--profile", "--quiet", "--kernels", w["kernel"], *shape_args(c)]
        print(f"[{n}/{len(work)}] {w['kernel']} {c}", file=sys.stderr, flush=True)
        p = subprocess.run(cmd, capture_output=True, text=True)
        rows = [line for line in p.stdout.splitlines() if line.startswith('"')]
        if p.returncode != 0 or not rows:
            print(f"  ncu failed (rc {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}", file=sys.stderr)
            continue
        totals = {m: 0.0 for m in METRICS}
        launches = {}
        for r in csv.DictReader(io.StringIO("\n".join(rows))):
            m = r["Metric Name"]
            if m not in totals:
                continue
            v = float(r["Metric Value"].replace(",", ""))
            totals[m] += v
            launches.setdefault(r["ID"], {"name": r["Kernel Name"][:120]})[m] = v
        records.append({"kernel": w["kernel"], "rung": w["rung"], "config": c, "launches": len(launches),
                        "metrics": totals, "options": OPTIONS, "per_launch": list(launches.values())})
        t = totals
        print(f"  DRAM read {t[METRICS[0]] / 1e6:.1f} MB, write {t[METRICS[1]] / 1e6:.1f} MB, "
              f"L2 {t[METRICS[2]] / 1e6:.1f} MB over {len(launches)} launches", file=sys.stderr, flush=True)
    doc["command"] = doc.get("command", "") + " ; python3 kernels/ncu_collect.py " + " ".join(sys.argv[1:])
    with open(args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
