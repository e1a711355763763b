#!/usr/bin/env python3
"""The FP8 rung's device-side helpers (run by kernels/fp8-device.sh), adding to a file written by
attnlab-attn-fp8 --json:

    python3 fp8_device.py torch --into h200-fp8.json
        PyTorch SDPA bf16 (flash, cuDNN) on the configs of the file's bf16 runs, timed as
        kernels/torch_reference.py times (events, warm-up, L2 flushed, median); what the installed
        PyTorch offers for FP8 attention (SDPA called with float8_e4m3fn tensors, per backend), and
        the FP8 GEMM ceiling torch._scaled_mm reaches (with a bf16 matmul beside it), into the
        top-level "torch_fp8" section.
    python3 fp8_device.py ncu --into h200-fp8.json ncu-N4096-d128-c0.csv ...
        Nsight Compute CSVs (--csv --print-units base) of one attn_fp8 launch each -> "ncu" records.
"""
import argparse
import json
import math
import os
import statistics
import sys


def cmd_torch(args):
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_reference as tr

    with open(args.into) as f:
        doc = json.load(f)
    props = torch.cuda.get_device_properties(0)
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    flush = torch.empty(2 * l2 // 4, dtype=torch.float32, device="cuda")
    gen = torch.Generator(device="cuda").manual_seed(20261202)
    configs = []
    for run in doc["runs"]:
        if run["config"]["dtype"] != "bf16":
            continue
        c = {k: run["config"][k] for k in tr.CONFIG_KEYS}
        if c not in configs:
            configs.append(c)
    refs = []
    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
    for c in configs:
        q, k, v = tr.make_inputs(c, gen)
        gqa = c["kv_heads"] != c["heads"]
        ref = tr.reference_rows(q, k, v, c["causal"])
        for name, be in backends.items():
            def fn():
                with sdpa_kernel(be):
                    return F.scaled_dot_product_attention(q, k, v, is_causal=c["causal"], enable_gqa=gqa)
            try:
                out = fn()
                torch.cuda.synchronize()
                ms = tr.time_backend(fn, args.repeats, 2, flush)
            except (RuntimeError, torch.OutOfMemoryError) as e:
                print(f"torch-{name} {c}: {str(e).strip().splitlines()[0][:200]}")
                continue
            err = (out[0, 0, : ref.shape[0]].double() - ref).abs().max().item()
            med = statistics.median(ms)
            refs.append({
                "kernel": f"torch-{name}", "rung": 0, "source": "torch", "backend": name,
                "config": dict(c, block_q=0, block_kv=0),
                "time_ms": {"median": med, "min": min(ms), "max": max(ms), "repeats": len(ms)},
                "tflops": tr.flops(c) / (med * 1e-3) / 1e12,
                "gbps": tr.min_bytes(c) / (med * 1e-3) / 1e9,
                "max_abs_error": err,
                "note": "bf16 SDPA; enable_gqa=True" if gqa else "bf16 SDPA",
            })
            print(f"torch-{name:<6} B{c['batch']} H{c['heads']}/{c['kv_heads']} N{c['seq_q']} d{c['head_dim']}"
                  f"{' causal' if c['causal'] else ''}: {med:.3f} ms {refs[-1]['tflops']:.1f} TFLOP/s", flush=True)
            del out
        del q, k, v
        torch.cuda.empty_cache()

    # What PyTorch offers for FP8 attention: SDPA with e4m3 inputs under each backend.
    probe = {}
    qf = torch.randn(1, 4, 256, 128, device="cuda").to(torch.float8_e4m3fn)
    for name, be in {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                     "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}.items():
        try:
            with sdpa_kernel(be):
                o = F.scaled_dot_product_attention(qf, qf, qf)
            torch.cuda.synchronize()
            probe[name] = f"ran (output {o.dtype})"
        except Exception as e:  # noqa: BLE001 - any refusal is the finding
            probe[name] = (type(e).__name__ + ": " + str(e).strip().splitlines()[0])[:240]
    fp8_ops = sorted(n for n in dir(torch.ops.aten) if "fp8" in n.lower() or ("scaled" in n and "attention" in n))
    print("SDPA with float8_e4m3fn inputs:", json.dumps(probe, indent=1))
    print("aten ops named fp8 / scaled*attention:", fp8_ops)

    # The FP8 GEMM ceiling: torch._scaled_mm e4m3 x e4m3 -> bf16, 8192^3, and bf16 matmul beside it.
    def bench(fn, reps=20):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        ts = []
        for _ in range(reps):
            s.record(); fn(); e.record(); e.synchronize()
            ts.append(s.elapsed_time(e))
        return statistics.median(ts)
    n = 8192
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    a8, b8 = a.to(torch.float8_e4m3fn), b.to(torch.float8_e4m3fn).t().contiguous().t()
    one = torch.ones((), device="cuda")
    gemm = {}
    try:
        ms = bench(lambda: torch._scaled_mm(a8, b8, scale_a=one, scale_b=one, out_dtype=torch.bfloat16))
        gemm["scaled_mm_e4m3_tflops"] = 2 * n**3 / (ms * 1e-3) / 1e12
    except Exception as e:  # noqa: BLE001
        gemm["scaled_mm_e4m3_error"] = str(e).strip().splitlines()[0][:240]
    ab, bb = a.bfloat16(), b.bfloat16()
    ms = bench(lambda: ab @ bb)
    gemm["matmul_bf16_tflops"] = 2 * n**3 / (ms * 1e-3) / 1e12
    print("GEMM ceilings (8192^3, median of 20, no L2 flush):", gemm)

    doc["references"] = refs
    doc["torch_version"] = torch.__version__
    doc["torch_fp8"] = {"sdpa_with_e4m3_inputs": probe, "aten_fp8_ops": fp8_ops, "gemm_8192": gemm}
    doc["command"] = doc.get("command", "") + " ; python3 kernels/fp8_device.py torch " + " ".join(sys.argv[2:])
    with open(args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return 0


def cmd_ncu(args):
    import csv
    import re
    with open(args.into) as f:
        doc = json.load(f)
    recs = doc.setdefault("ncu", [])
    for path in args.csv:
        m = re.search(r"N(\d+)-d(\d+)-c(\d)", os.path.basename(path))
        n, d, causal = int(m.group(1)), int(m.group(2)), m.group(3) == "1"
        lines = [l for l in open(path) if l.startswith('"')]
        metrics, kernels = {}, set()
        for row in csv.DictReader(lines):
            kernels.add(row["ID"])
            try:
                v = float(row["Metric Value"].replace(",", ""))
            except ValueError:  # "n/a": a counter this chip or ncu version does not offer
                continue
            metrics[row["Metric Name"]] = metrics.get(row["Metric Name"], 0.0) + v
        if not metrics:
            print(f"{path}: no rows", file=sys.stderr)
            continue
        recs.append({
            "kernel": "attn-fp8-hopper", "rung": 5,
            "config": {"batch": 8, "heads": 16, "kv_heads": 16, "seq_q": n, "seq_kv": n, "head_dim": d,
                       "causal": causal, "dtype": "fp8", "block_q": 128, "block_kv": 128},
            "launches": len(kernels), "options": "--clock-control none --cache-control all", "metrics": metrics,
            "note": "the attention kernel alone (ncu -k regex:attn_fp8); inputs e4m3 with block scales, V^T",
        })
        print(f"ncu N{n} d{d}{' causal' if causal else ''}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    doc["command"] = doc.get("command", "") + " ; ncu --clock-control none --cache-control all ... attnlab-attn-fp8 --profile"
    with open(args.into, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("torch")
    t.add_argument("--into", required=True)
    t.add_argument("--repeats", type=int, default=10)
    n = sub.add_parser("ncu")
    n.add_argument("--into", required=True)
    n.add_argument("csv", nargs="+")
    args = ap.parse_args()
    return cmd_torch(args) if args.cmd == "torch" else cmd_ncu(args)


if __name__ == "__main__":
    sys.exit(main())
