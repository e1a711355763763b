#!/usr/bin/env python3
"""Nsight Compute's byte counters of the whole backward, from backward-device.sh's CSV files into a
measurement file's "backward"/"ncu" records (one record per (kernel, config): the launches summed).

    python3 kernels/backward_ncu_merge.py --into assets/measurements/h200-backward.json \
        ncu-ours.csv [ncu-torch.csv]

Each CSV holds blocks that start with a line "# ours B4 H16 N4096 d64 --causal" (attn-bwd-mma;
"# ours-hopper ..." attn-bwd-hopper, "# torch-flash ..." PyTorch's) followed by `ncu --csv --print-units base` rows. A record replaces the file's record of the
same kernel and config; the others are kept. Ours carry the tiles of the variant that ran (block_q,
block_kv, from `--tiles d64=BQxBKV,d128=BQxBKV`), so that the simulator can model the same launch.
"""
import argparse
import csv
import json
import re
import sys

METRIC_KEYS = {"dram__bytes_read.sum": "dram_read_bytes", "dram__bytes_write.sum": "dram_write_bytes",
               "lts__t_bytes.sum": "l2_bytes", "gpu__time_duration.sum": "duration_ns"}
OURS = {"ours": "attn-bwd-mma", "ours-hopper": "attn-bwd-hopper"}  # our rungs' CSV tags -> kernel
SCALE = {"byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "nsecond": 1, "usecond": 1e3, "msecond": 1e6}


def parse_blocks(path):
    blocks, cur = [], None
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                m = re.match(r"# (\S+) B(\d+) H(\d+) N(\d+) d(\d+)\s*(--causal)?", line)
                if not m:
                    sys.exit(f"backward_ncu_merge.py: {path}: cannot read the header '{line.strip()}'")
                who, b, h, n, d, causal = m.groups()
                cur = {"who": who, "config": {"batch": int(b), "heads": int(h), "kv_heads": int(h), "seq_q": int(n),
                                              "seq_kv": int(n), "head_dim": int(d), "causal": bool(causal),
                                              "dtype": "bf16"}, "rows": []}
                blocks.append(cur)
            elif line.startswith('"') and cur is not None:
                cur["rows"].append(line)
    return blocks


def record(block, kernel):
    kernels = {}  # launch ID -> {name, metrics}
    for row in csv.reader(block["rows"]):
        if not row or row[0] == "ID":
            continue
        launch, name, metric, unit, value = row[0], row[4], row[-3], row[-2], row[-1]
        if metric not in METRIC_KEYS:
            continue
        if name.startswith("void unnamed>::attn_bwd"):  # ours: drop the parameter list, as the old records
            name = name.split("(")[0]
        k = kernels.setdefault(launch, {"name": name})
        k[METRIC_KEYS[metric]] = float(value.replace(",", "")) * SCALE.get(unit, 1)
    if not kernels:
        sys.exit(f"backward_ncu_merge.py: no ncu rows for {block['who']} {block['config']}")
    ks = [kernels[i] for i in sorted(kernels, key=int)]
    rec = {"kernel": kernel, "pass": "bwd", "config": block["config"]}
    for key in METRIC_KEYS.values():
        rec[key] = sum(k.get(key, 0.0) for k in ks)
    rec["kernels"] = ks
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--into", required=True)
    ap.add_argument("--tiles", default="", help="our tiles per d: d64=128x128,d128=64x128")
    ap.add_argument("csv", nargs="+")
    args = ap.parse_args()
    tiles = {}
    for item in filter(None, args.tiles.split(",")):
        d, t = item.split("=")
        bq, bkv = t.split("x")
        tiles[int(d.lstrip("d"))] = (int(bq), int(bkv))
    with open(args.into) as f:
        doc = json.load(f)
    new = []
    for path in args.csv:
        for block in parse_blocks(path):
            kernel = OURS.get(block["who"], block["who"])
            rec = record(block, kernel)
            if kernel == "attn-bwd-mma" and rec["config"]["head_dim"] in tiles:
                rec["config"]["block_q"], rec["config"]["block_kv"] = tiles[rec["config"]["head_dim"]]
            new.append(rec)

    def key(r):
        c = r["config"]
        return (r["kernel"], c["seq_q"], c["head_dim"], c["causal"], c["batch"], c["heads"])

    replaced = {key(r) for r in new}
    old = [r for r in doc["backward"].get("ncu", []) if key(r) not in replaced]
    doc["backward"]["ncu"] = sorted(old + new, key=lambda r: (r["config"]["head_dim"] == 64, r["config"]["seq_q"],
                                                             r["config"]["causal"], r["kernel"] not in OURS.values(),
                                                             r["kernel"]))
    with open(args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    for r in new:
        c = r["config"]
        print(f"{r['kernel']:<14} N{c['seq_q']} d{c['head_dim']}{' causal' if c['causal'] else '':<7} "
              f"DRAM {r['dram_read_bytes'] / 1e6:8.1f} + {r['dram_write_bytes'] / 1e6:7.1f} MB  "
              f"L2 {r['l2_bytes'] / 1e9:6.2f} GB  {r['duration_ns'] / 1e3:8.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
