#!/usr/bin/env python3
"""PyTorch's backward beside ours: SDPA's FlashAttention-2 and cuDNN backends, timed on the configs
an attnlab-attn-bwd-mma --time --json file measured, on the same GPU in the same session, written
into that file under "backward"/"references".

    python3 kernels/torch_backward_reference.py --into h200-backward.json [--repeats 10]
    python3 kernels/torch_backward_reference.py --profile --backend flash --dim 128 [--causal]

Three passes per backend and config, as the attnlab program times them: "fwd" (SDPA forward),
"bwd" (torch.autograd.grad of the saved graph: the backend's backward kernels alone) and
"fwd+bwd" (a forward and its backward: one training step of the attention). Timing: CUDA events,
2 warm-ups, the L2 flushed (a 2x-L2 buffer overwritten) before every timed repeat, median.
TFLOP/s: forward 4*B*H*Nq*Nkv*d (half when causal), backward 2.5x that, step 3.5x.
--profile runs one backward of one backend and exits (for ncu: its kernels are the whole backward).
"""
import argparse
import json
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
MULT = {"fwd": 1.0, "bwd": 2.5, "fwd+bwd": 3.5}
KEYS = ("batch", "heads", "kv_heads", "seq_q", "seq_kv", "head_dim", "causal", "dtype")


def fwd_flops(c):
    f = 4.0 * c["batch"] * c["heads"] * c["seq_q"] * c["seq_kv"] * c["head_dim"]
    return f / 2 if c["causal"] else f


def make(c, gen):
    dt = torch.bfloat16 if c["dtype"] == "bf16" else torch.float16
    b, h, hk, nq, nk, d = (c[k] for k in ("batch", "heads", "kv_heads", "seq_q", "seq_kv", "head_dim"))
    # The attnlab program's distributions: Q, K in [-2.5, 2.5), V and dO in [-1, 1).
    q = (torch.rand(b, h, nq, d, generator=gen, device="cuda") * 5 - 2.5).to(dt).requires_grad_()
    k = (torch.rand(b, hk, nk, d, generator=gen, device="cuda") * 5 - 2.5).to(dt).requires_grad_()
    v = (torch.rand(b, hk, nk, d, generator=gen, device="cuda") * 2 - 1).to(dt).requires_grad_()
    do = (torch.rand(b, h, nq, d, generator=gen, device="cuda") * 2 - 1).to(dt)
    return q, k, v, do


def time_fn(fn, repeats, warmup, flush):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ms = []
    for r in range(repeats):
        flush.fill_(r)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        ms.append(start.elapsed_time(stop))
    return ms


def passes(c, backend, q, k, v, do):
    gqa = c["kv_heads"] != c["heads"]

    def fwd():
        with sdpa_kernel(BACKENDS[backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=c["causal"], enable_gqa=gqa)

    out = fwd()  # the saved graph the "bwd" pass differentiates again and again

    def bwd():
        return torch.autograd.grad(out, (q, k, v), do, retain_graph=True)

    def step():
        return torch.autograd.grad(fwd(), (q, k, v), do)

    return {"fwd": lambda: fwd(), "bwd": bwd, "fwd+bwd": step}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--into", help="attnlab-attn-bwd-mma --json file: read configs, add references")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--backends", default="flash,cudnn")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--backend", default="flash", choices=sorted(BACKENDS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--seq", type=int, default=4096)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--causal", action="store_true")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("torch_backward_reference.py: no CUDA device visible to PyTorch", file=sys.stderr)
        return 77
    gen = torch.Generator(device="cuda").manual_seed(20261202)

    if args.profile:
        c = dict(batch=args.batch, heads=args.heads, kv_heads=args.heads, seq_q=args.seq, seq_kv=args.seq,
                 head_dim=args.dim, causal=args.causal, dtype="bf16")
        q, k, v, do = make(c, gen)
        p = passes(c, args.backend, q, k, v, do)
        torch.cuda.synchronize()
        torch.cuda.cudart().cudaProfilerStart()
        p["bwd"]()
        torch.cuda.synchronize()
        torch.cuda.cudart().cudaProfilerStop()
        return 0

    if not args.into:
        ap.error("--into is required unless --profile")
    with open(args.into) as f:
        doc = json.load(f)
    props = torch.cuda.get_device_properties(0)
    flush = torch.empty(2 * getattr(props, "L2_cache_size", 50 << 20) // 4, dtype=torch.float32, device="cuda")
    configs = []
    for run in doc["backward"]["runs"]:
        c = {k: run["config"][k] for k in KEYS}
        if c not in configs:
            configs.append(c)
    refs, skips = [], []
    for c in configs:
        q, k, v, do = make(c, gen)
        for name in [b for b in args.backends.split(",") if b]:
            try:
                for pname, fn in passes(c, name, q, k, v, do).items():
                    ms = time_fn(fn, args.repeats, args.warmup, flush)
                    med = statistics.median(ms)
                    refs.append({"kernel": f"torch-{name}", "rung": 0, "source": "torch", "backend": name,
                                 "pass": pname, "config": dict(c, block_q=0, block_kv=0),
                                 "time_ms": {"median": med, "min": min(ms), "max": max(ms), "repeats": len(ms)},
                                 "tflops": MULT[pname] * fwd_flops(c) / (med * 1e-3) / 1e12})
            except (RuntimeError, torch.OutOfMemoryError) as e:
                skips.append({"backend": name, "config": c, "reason": (str(e).strip().splitlines() or ["?"])[0][:200]})
            torch.cuda.empty_cache()
        del q, k, v, do
        torch.cuda.empty_cache()
    doc["backward"]["references"] = refs
    doc["backward"]["reference_skips"] = skips
    doc["torch_version"] = torch.__version__
    doc["command"] = doc.get("command", "") + " ; python3 kernels/torch_backward_reference.py " + " ".join(sys.argv[1:])
    with open(args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    by = {}
    for r in refs:
        by[(tuple(r["config"][k] for k in KEYS), r["backend"], r["pass"])] = r
    print(f"{'pass':<8} {'kernel':<16} {'config':<26} {'ours':>7} {'flash':>7} {'x':>5} {'cudnn':>7} {'x':>5}   (TFLOP/s)")
    for run in doc["backward"]["runs"] + [r for r in doc["runs"]]:
        c = run["config"]
        key = tuple(c[k] for k in KEYS)
        pname = run.get("pass", "fwd")
        lab = f"N{c['seq_q']} d{c['head_dim']}{' causal' if c['causal'] else ''}"
        cols = []
        for b in ("flash", "cudnn"):
            r = by.get((key, b, pname))
            cols.append(f"{r['tflops']:7.1f} {run['tflops'] / r['tflops']:5.2f}" if r else f"{'-':>7} {'-':>5}")
        print(f"{pname:<8} {run.get('kernel', '')[:16]:<16} {lab:<26} {run['tflops']:7.1f} {cols[0]} {cols[1]}")
    for s in skips:
        print(f"skipped torch-{s['backend']} {s['config']}: {s['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
