#!/usr/bin/env python3
"""PyTorch SDPA decode references for an attnlab-attn-decode measurement file, on the same GPU in the
same session, written into the same file (schema: assets/measurements/README.md).

    python3 kernels/torch_decode_reference.py --into decode.json [--repeats 20]

For every distinct decode config among the file's runs (seq_q = 1) it times
F.scaled_dot_product_attention(q, k, v, enable_gqa=True) with PyTorch's own dispatch ("default")
and forced to each backend (flash, cudnn, efficient, math); a backend that refuses is skipped with
its reason. Timing, inputs and the L2 flush come from kernels/torch_reference.py (imported, not
copied). It prints ours vs PyTorch's best as GB/s, % of the file's copy bandwidth and a ratio.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import torch_reference as tr  # noqa: E402

BACKENDS = dict(tr.BACKENDS)


class ReadFlush:
    """Empties L2 by reading a 2x-L2 buffer (a sum), so that the timed call finds no dirty lines to
    write back; quacks like the tensor whose fill_ kernels/torch_reference.py calls."""

    def __init__(self, buf):
        buf.fill_(1.0)
        self.buf, self.sink = buf, torch.empty((), dtype=torch.float32, device="cuda")
        for _ in range(2):  # the fill's dirty lines leave L2 here, outside any timing
            torch.sum(self.buf, dim=0, out=self.sink)
        torch.cuda.synchronize()

    def fill_(self, _r):
        torch.sum(self.buf, dim=0, out=self.sink)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--into", required=True)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--backends", default="default,flash,cudnn,efficient,math")
    ap.add_argument("--flush", choices=["match", "read", "write"], default="match",
                    help="how L2 is emptied before each repeat: write (fill a 2x-L2 buffer, as torch_reference.py), "
                         "read (sum it: leaves no dirty lines to write back during the timed call), or match "
                         "(what the file's own runs used, from its flush_note; write when it has none)")
    args = ap.parse_args()
    with open(args.into) as f:
        doc = json.load(f)
    if not torch.cuda.is_available():
        print("torch_decode_reference.py: no CUDA device visible to PyTorch", file=sys.stderr)
        return 77
    props = torch.cuda.get_device_properties(0)
    configs = []
    for run in doc["runs"]:
        c = {k: run["config"][k] for k in tr.CONFIG_KEYS}
        if c not in configs:
            configs.append(c)
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    flush = torch.empty(2 * l2 // 4, dtype=torch.float32, device="cuda")
    mode = args.flush
    if mode == "match":
        mode = "read" if "by reading" in doc.get("flush_note", "") else "write"
    if mode == "read":
        flush = ReadFlush(flush)
    doc["torch_flush"] = mode
    gen = torch.Generator(device="cuda").manual_seed(20261124)
    refs, skips = [], []
    for c in configs:
        q, k, v = tr.make_inputs(c, gen)
        ref = tr.reference_rows(q, k, v, False, rows=1)
        for name in [b for b in args.backends.split(",") if b]:
            def fn():
                if name == "default":
                    return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                with sdpa_kernel(BACKENDS[name]):
                    return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
            try:
                out = fn()
                torch.cuda.synchronize()
                ms = tr.time_backend(fn, args.repeats, args.warmup, flush)
            except (RuntimeError, torch.OutOfMemoryError) as e:
                reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
                skips.append({"backend": name, "config": c, "reason": reason})
                torch.cuda.empty_cache()
                continue
            err = (out[0, 0, :1].double() - ref).abs().max().item()
            med = statistics.median(ms)
            refs.append({
                "kernel": f"torch-{name}", "rung": 0, "source": "torch", "backend": name,
                "config": dict(c, block_q=0, block_kv=0),
                "time_ms": {"median": med, "min": min(ms), "max": max(ms), "repeats": len(ms)},
                "tflops": tr.flops(c) / (med * 1e-3) / 1e12,
                "gbps": tr.min_bytes(c) / (med * 1e-3) / 1e9,
                "max_abs_error": err,
                "note": "enable_gqa=True" + ("; PyTorch's own dispatch" if name == "default" else "")
                        + f"; L2 emptied by {mode} before each repeat",
            })
            del out
        del q, k, v
        torch.cuda.empty_cache()
    doc.setdefault("references", [])
    doc["references"] += refs
    doc["reference_skips"] = doc.get("reference_skips", []) + skips
    doc["torch_version"] = torch.__version__
    doc["command"] = doc.get("command", "") + " ; python3 kernels/torch_decode_reference.py " + " ".join(sys.argv[1:])
    with open(args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    copy = doc.get("copy_bandwidth_gbps", 0)
    best = {}
    for r in refs:
        key = tuple(r["config"][k] for k in tr.CONFIG_KEYS)
        if key not in best or r["time_ms"]["median"] < best[key]["time_ms"]["median"]:
            best[key] = r
    print(f"{'kernel':<20} {'config':<20} {'ms':>8} {'GB/s':>7} {'%copy':>6} {'torch best':>16} {'GB/s':>7} {'speed-up':>8}")
    for run in doc["runs"]:
        c = run["config"]
        key = tuple(c[k] for k in tr.CONFIG_KEYS)
        lab = f"H{c['heads']}/{c['kv_heads']} L{c['seq_kv']}"
        t = best.get(key)
        ts = f"{t['kernel']:>16} {t['gbps']:7.0f} {t['time_ms']['median'] / run['time_ms']['median']:8.2f}" if t else ""
        pc = 100 * run["gbps"] / copy if copy else 0
        print(f"{run['kernel']:<20} {lab:<20} {run['time_ms']['median']:8.4f} {run['gbps']:7.0f} {pc:5.1f}% {ts}")
    for r in refs:
        c = r["config"]
        print(f"{r['kernel']:<20} H{c['heads']}/{c['kv_heads']} L{c['seq_kv']:<10} {r['time_ms']['median']:8.4f} {r['gbps']:7.0f} err {r['max_abs_error']:.2e}")
    for s in skips:
        print(f"skipped torch-{s['backend']} H{s['config']['heads']}/{s['config']['kv_heads']}: {s['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
