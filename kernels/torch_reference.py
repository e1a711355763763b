#!/usr/bin/env python3
"""PyTorch reference timings for the configs an attnlab-bench file measured, on the same GPU in
the same session, written into the same file (schema: assets/measurements/README.md).

    python3 kernels/torch_reference.py --into measurements.json [--repeats 10]

For every distinct config among the file's runs it times torch.nn.functional.scaled_dot_product_attention
under each SDPA backend: flash (FlashAttention-2), cudnn, efficient (memory-efficient / xformers-style)
and math (unfused, what attnlab's naive-cublas rung imitates). GQA configs (kv_heads < heads) and
decode configs (seq_q = 1) call SDPA with enable_gqa=True, so K/V are never repeated in memory.
Timing follows the bench: CUDA events, 2 warm-ups, the L2 flushed (a 2x-L2 buffer overwritten)
before every timed repeat, median/min/max; TFLOP/s = 4*B*H*Nq*Nkv*d (half when causal) / median.
A backend that refuses a config is listed under "reference_skips" with its reason, not timed.
attnlab itself never needs PyTorch; only this script does.
"""
import argparse
import json
import math
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {
    "flash": SDPBackend.FLASH_ATTENTION,
    "cudnn": SDPBackend.CUDNN_ATTENTION,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
    "math": SDPBackend.MATH,
}
CONFIG_KEYS = ("batch", "heads", "kv_heads", "seq_q", "seq_kv", "head_dim", "causal", "dtype")


def flops(c):
    f = 4.0 * c["batch"] * c["heads"] * c["seq_q"] * c["seq_kv"] * c["head_dim"]
    return f / 2 if c["causal"] else f


def min_bytes(c):
    q = c["batch"] * c["heads"] * c["seq_q"] * c["head_dim"]
    kv = c["batch"] * c["kv_heads"] * c["seq_kv"] * c["head_dim"]
    return 2.0 * (2 * q + 2 * kv)


def make_inputs(c, gen):
    dt = torch.bfloat16 if c["dtype"] == "bf16" else torch.float16
    b, h, hk, nq, nk, d = (c[k] for k in ("batch", "heads", "kv_heads", "seq_q", "seq_kv", "head_dim"))
    # Same distributions as the bench (kernels/harness.cpp): Q, K in [-2.5, 2.5), V in [-1, 1).
    q = (torch.rand(b, h, nq, d, generator=gen, device="cuda") * 5 - 2.5).to(dt)
    k = (torch.rand(b, hk, nk, d, generator=gen, device="cuda") * 5 - 2.5).to(dt)
    v = (torch.rand(b, hk, nk, d, generator=gen, device="cuda") * 2 - 1).to(dt)
    return q, k, v


def reference_rows(q, k, v, causal, rows=128):
    """fp64 O for the first `rows` query rows of batch 0, head 0 (top-left mask = bottom-right when Nq = Nkv)."""
    group = q.shape[1] // k.shape[1]
    qq = q[0, 0, :rows].double()
    kk = k[0, 0 // group].double()
    vv = v[0, 0 // group].double()
    s = qq @ kk.T / math.sqrt(q.shape[-1])
    if causal:
        off = k.shape[2] - q.shape[2]
        i = torch.arange(qq.shape[0], device=q.device)[:, None]
        j = torch.arange(kk.shape[0], device=q.device)[None, :]
        s = s.masked_fill(j > i + off, float("-inf"))
    return torch.softmax(s, dim=-1) @ vv


def time_backend(fn, repeats, warmup, flush):
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ms = []
    for r in range(repeats):
        flush.fill_(r)  # overwrite 2x the L2 so each repeat starts cold, as in the bench
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        ms.append(start.elapsed_time(stop))
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--into", required=True, help="attnlab-bench JSON file to read configs from and add references to")
    ap.add_argument("--out", help="write here instead of overwriting --into")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--backends", default="flash,cudnn,efficient,math")
    args = ap.parse_args()

    with open(args.into) as f:
        doc = json.load(f)
    if not torch.cuda.is_available():
        print("torch_reference.py: no CUDA device visible to PyTorch", file=sys.stderr)
        return 77
    props = torch.cuda.get_device_properties(0)
    if props.name != doc["device"]["name"]:
        print(f"warning: file measured on {doc['device']['name']}, this GPU is {props.name}", file=sys.stderr)

    configs = []
    for run in doc["runs"]:
        c = {k: run["config"][k] for k in CONFIG_KEYS}
        if c not in configs:
            configs.append(c)
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    flush = torch.empty(2 * l2 // 4, dtype=torch.float32, device="cuda")
    gen = torch.Generator(device="cuda").manual_seed(20261123)

    refs, skips = [], []
    names = [b for b in args.backends.split(",") if b]
    total = len(configs) * len(names)
    done = 0
    for c in configs:
        q, k, v = make_inputs(c, gen)
        gqa = c["kv_heads"] != c["heads"]
        ref = reference_rows(q, k, v, c["causal"])
        for name in names:
            done += 1
            label = f"torch-{name:<10} B{c['batch']} H{c['heads']}/{c['kv_heads']} Nq{c['seq_q']} Nkv{c['seq_kv']} d{c['head_dim']}{' causal' if c['causal'] else ''}"
            print(f"[{done:>3}/{total}] {label}", file=sys.stderr, flush=True)
            if c["causal"] and c["seq_q"] != c["seq_kv"]:
                skips.append({"backend": name, "config": c, "reason": "torch's is_causal is top-left aligned; attnlab's mask is bottom-right"})
                continue

            def fn():
                with sdpa_kernel(BACKENDS[name]):
                    return F.scaled_dot_product_attention(q, k, v, is_causal=c["causal"], enable_gqa=gqa)

            try:
                out = fn()
                torch.cuda.synchronize()
                ms = time_backend(fn, args.repeats, args.warmup, flush)
            except (RuntimeError, torch.OutOfMemoryError) as e:
                reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
                skips.append({"backend": name, "config": c, "reason": reason})
                torch.cuda.empty_cache()
                continue
            err = (out[0, 0, : ref.shape[0]].double() - ref).abs().max().item()
            med = statistics.median(ms)
            refs.append({
                "kernel": f"torch-{name}", "rung": 0, "source": "torch", "backend": name,
                "config": dict(c, block_q=0, block_kv=0),
                "time_ms": {"median": med, "min": min(ms), "max": max(ms), "repeats": len(ms)},
                "tflops": flops(c) / (med * 1e-3) / 1e12,
                "gbps": min_bytes(c) / (med * 1e-3) / 1e9,
                "max_abs_error": err,
                "note": "enable_gqa=True" if gqa else "",
            })
            del out
        del q, k, v
        torch.cuda.empty_cache()

    doc["references"] = refs
    doc["reference_skips"] = skips
    doc["torch_version"] = torch.__version__
    doc["command"] = doc.get("command", "") + " ; python3 kernels/torch_reference.py " + " ".join(sys.argv[1:])
    with open(args.out or args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    # The comparison table: every attnlab run against torch's flash and cuDNN on the same config.
    by_cfg = {}
    for r in refs:
        by_cfg.setdefault(tuple(r["config"][k] for k in CONFIG_KEYS), {})[r["backend"]] = r
    print(f"{'kernel':<18} {'config':<36} {'ms':>8} {'TFLOP/s':>8} {'flash':>8} {'ratio':>6} {'cudnn':>8} {'ratio':>6}")
    for run in doc["runs"]:
        c = run["config"]
        key = tuple(c[k] for k in CONFIG_KEYS)
        lab = f"B{c['batch']} H{c['heads']}/{c['kv_heads']} N{c['seq_q']}/{c['seq_kv']} d{c['head_dim']}{' c' if c['causal'] else ''}"
        fl = by_cfg.get(key, {}).get("flash")
        cu = by_cfg.get(key, {}).get("cudnn")
        fl_s = f"{fl['tflops']:8.1f} {run['tflops'] / fl['tflops']:6.2f}" if fl else f"{'-':>8} {'-':>6}"
        cu_s = f"{cu['tflops']:8.1f} {run['tflops'] / cu['tflops']:6.2f}" if cu else f"{'-':>8} {'-':>6}"
        print(f"{run['kernel']:<18} {lab:<36} {run['time_ms']['median']:8.3f} {run['tflops']:8.1f} {fl_s} {cu_s}")
    for s in skips:
        print(f"skipped torch-{s['backend']} {s['config']}: {s['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
