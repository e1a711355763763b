// Which kernel runs a given attention problem, and why. Plain C++ (no CUDA): the bench, the
// dashboard and the tests include it, so a learner without a GPU can still ask "what would run,
// and for what reason?".
//
// The ladder (one file per rung, each teaching one idea):
//   rung 1  attn-naive.cu   naive         S = QKᵀ to memory, softmax, O = PV: three kernels
//           attn-naive.cu   naive-cublas  the same with cuBLAS GEMMs: what a framework does
//   rung 2  attn-tiled.cu   tiled         FlashAttention on CUDA cores: tiles in shared memory,
//                                         online softmax (m, l), O written once
//   rung 3  attn-mma.cu     mma           FlashAttention-2 on tensor cores: mma.sync, ldmatrix,
//                                         cp.async double buffering, 1/l applied at the end
//   rung 4  attn-hopper.cu  hopper        FlashAttention-3 ideas on sm_90a: wgmma, TMA, warp
//                                         specialization (its own sm_90a executable, attnlab-attn-hopper)
// Rungs 5-7 (decode, window, scan) are separate problems with their own binaries.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace attnlab::kernels {

enum class ElemType { bf16, fp16 };
inline std::string_view elem_name(ElemType t) { return t == ElemType::bf16 ? "bf16" : "fp16"; }

// The problem's shape (no pointers): what kernel_choose and the reference need.
struct AttnShape {
  int batch = 1;
  int heads = 1;
  int kv_heads = 1;  // divides heads (GQA); kv_head = head / (heads / kv_heads)
  int seq_q = 1;
  int seq_kv = 1;
  int head_dim = 64;
  bool causal = false;
  ElemType dtype = ElemType::bf16;
  int group() const { return kv_heads > 0 ? heads / kv_heads : 0; }
};
inline AttnShape attn_shape(int batch, int heads, int kv_heads, int seq_q, int seq_kv, int head_dim, bool causal,
                            ElemType dtype) {
  AttnShape s;
  s.batch = batch, s.heads = heads, s.kv_heads = kv_heads, s.seq_q = seq_q, s.seq_kv = seq_kv;
  s.head_dim = head_dim, s.causal = causal, s.dtype = dtype;
  return s;
}

enum class KernelId { none, naive, naive_cublas, tiled, mma, hopper };

// What the bench and the measurement files say about each kernel. block_q/block_kv are the
// tile sizes (Br, Bc) in the simulator's vocabulary; score_dtype is how S/P reach memory.
struct KernelInfo {
  KernelId id;
  const char* name;   // "attn-mma": the name in measurement files
  int rung;
  int block_q;        // Br (0: no query tile)
  int block_kv;       // Bc
  const char* score_dtype;  // "fp32", "input" (= the input dtype) or "" (S never leaves the chip)
  const char* idea;
};

inline const KernelInfo& kernel_info(KernelId id) {
  static const KernelInfo table[] = {
      {KernelId::none, "none", 0, 0, 0, "", "no kernel fits"},
      {KernelId::naive, "attn-naive", 1, 128, 128, "fp32",
       "three kernels: S = QK^T (fp32) to memory, row softmax in place, O = PV"},
      {KernelId::naive_cublas, "attn-naive-cublas", 1, 0, 0, "input",
       "cuBLAS GEMMs + a softmax kernel, S and P in the input dtype: what a framework does"},
      {KernelId::tiled, "attn-tiled", 2, 32, 32, "",
       "FlashAttention on CUDA cores: Qi, Kj, Vj tiles in shared memory, online softmax (m, l)"},
      {KernelId::mma, "attn-mma", 3, 128, 64, "",
       "FlashAttention-2 on tensor cores: mma.sync m16n8k16, ldmatrix, cp.async double buffering"},
      {KernelId::hopper, "attn-hopper", 4, 128, 128, "",
       "FlashAttention-3 ideas on sm_90a: wgmma, TMA loads on mbarriers, producer/consumer warpgroups"},
  };
  for (const auto& k : table)
    if (k.id == id) return k;
  return table[0];
}

// The rungs attnlab-bench (and attn_forward) can run: "attn-mma" or "mma". The Hopper rung is among
// them when it was built (sm_90a objects linked in: DeviceCaps::hopper_rung) and runs on sm_90 only.
inline KernelId kernel_from_name(std::string_view name) {
  for (KernelId id : {KernelId::naive, KernelId::naive_cublas, KernelId::tiled, KernelId::mma, KernelId::hopper})
    if (name == kernel_info(id).name || name == std::string(kernel_info(id).name).substr(5)) return id;
  return KernelId::none;
}

// What the device offers (from cudaGetDeviceProperties; the dashboard fills it from a preset).
struct DeviceCaps {
  int cc_major = 9;
  int cc_minor = 0;
  std::int64_t smem_per_block_optin = 227 * 1024;
  // The Hopper rung can be launched (an sm_90a build of attn-hopper.cu is linked into attn_forward's
  // dispatch): device_caps() sets it where it was built; the dashboard's presets leave it off.
  bool hopper_rung = false;
};

struct KernelChoice {
  KernelId id = KernelId::none;
  std::string reason;
};

// Rows of Qi that each of the mma rung's 4 warps owns (Br = 4 × this = 128) at both head sizes. The
// rung began with 16 (Br = 64); 32 halves the K/V tiles each query row waits for (every tile loaded
// serves twice the rows). No side-by-side timing of the two is recorded; the shipped figures are
// those of 32 (assets/measurements/h100-ladder.json).
constexpr int mma_rows_per_warp(int /*head_dim*/) { return 32; }

// The tile sizes (Br, Bc) a kernel uses for a head size: the simulator's block_q / block_kv.
struct KernelTiles {
  int block_q, block_kv;
};
inline KernelTiles kernel_tiles(KernelId id, int head_dim) {
  if (id == KernelId::mma) return {4 * mma_rows_per_warp(head_dim), 64};
  const KernelInfo& k = kernel_info(id);
  return {k.block_q, k.block_kv};
}

// Shared memory the tensor-core rung asks for (bf16/fp16): two stages of Kj and Vj (Bc×d each),
// plus Qi (Br×d) when its fragments do not stay in registers (32 rows per warp at d = 128).
// d = 128: 64 KiB + 32 KiB; d = 64: 32 KiB.
inline std::int64_t mma_smem_bytes(int head_dim) {
  const int rows = mma_rows_per_warp(head_dim);
  const bool q_in_regs = head_dim <= 64;
  return std::int64_t(4 * 64) * head_dim * 2 + (q_in_regs ? 0 : std::int64_t(4 * rows) * head_dim * 2);
}

// Why no kernel can run `s` at all, whatever the device ("" = the shape is valid). The programs
// call this before touching a GPU, so bad input fails the same way on every machine.
inline std::string shape_problem(const AttnShape& s) {
  if (s.batch < 1 || s.heads < 1 || s.kv_heads < 1 || s.seq_q < 1 || s.seq_kv < 1)
    return "every size must be at least 1";
  if (s.heads % s.kv_heads != 0)
    return "kv_heads must divide heads (GQA shares one K/V head among heads/kv_heads query heads)";
  if (s.causal && s.seq_q > s.seq_kv)
    return "causal with seq_q > seq_kv leaves the first queries no key to attend to (bottom-right mask)";
  return "";
}

// The Hopper rung's d128 pipeline keeps 160 KiB of tiles in shared memory (Q + 2 stages of K, V).
inline constexpr std::int64_t hopper_smem_bytes = 160 * 1024;

// Why kernel `id` cannot run the (valid) shape `s` on `dev` ("" = it can). Capability only: which
// kernel is worth running is kernel_choose's business, and it falls back along these same rules.
inline std::string kernel_unsupported(KernelId id, const AttnShape& s, const DeviceCaps& dev) {
  // Everything here is built for sm_80 and newer: bf16 mma.sync m16n8k16 and cp.async need Ampere.
  if (dev.cc_major < 8)
    return "needs compute capability 8.0 or newer (bf16 tensor cores, cp.async); the build targets sm_80+";
  if (id == KernelId::none) return "no kernel";
  if (id == KernelId::naive || id == KernelId::naive_cublas) return "";
  // The flash rungs are compiled for d = 64 and 128 only (templates: the tile loops unroll over d);
  // the naive rung's GEMMs take any d.
  if (s.head_dim != 64 && s.head_dim != 128)
    return "head_dim " + std::to_string(s.head_dim) + " is not 64 or 128: only the naive kernels are compiled for other sizes";
  if (id == KernelId::tiled) return "";
  // The tensor-core rung wants Qi plus two stages of Kj and Vj in shared memory.
  if (id == KernelId::mma && dev.smem_per_block_optin < mma_smem_bytes(s.head_dim))
    return "the device gives a block " + std::to_string(dev.smem_per_block_optin / 1024) +
           " KiB of shared memory; the mma rung needs " + std::to_string(mma_smem_bytes(s.head_dim) / 1024) + " KiB";
  if (id == KernelId::hopper) {
    if (!dev.hopper_rung) return "the Hopper rung is not built into this program (it needs nvcc 12+ and an sm_90a target)";
    if (dev.cc_major != 9 || dev.cc_minor != 0) return "the Hopper rung needs compute capability 9.0 (wgmma, TMA: sm_90a)";
    if (dev.smem_per_block_optin < hopper_smem_bytes) return "the Hopper rung needs 160 KiB of shared memory per block";
  }
  return "";
}

// One function, one reason per branch (the dashboard shows the reason next to the choice).
inline KernelChoice kernel_choose(const AttnShape& s, const DeviceCaps& dev) {
  // Shapes no kernel can run: refuse with the rule that is broken.
  if (std::string why = shape_problem(s); !why.empty()) return {KernelId::none, why};
  if (dev.cc_major < 8) return {KernelId::none, kernel_unsupported(KernelId::naive, s, dev)};
  // Head sizes the flash rungs are not compiled for: the naive rung, slowly but correctly.
  if (std::string why = kernel_unsupported(KernelId::tiled, s, dev); !why.empty()) return {KernelId::naive, why};
  // A part that cannot give a block the mma rung's shared memory falls back to the CUDA-core flash
  // kernel (≈48 KiB).
  if (std::string why = kernel_unsupported(KernelId::mma, s, dev); !why.empty()) return {KernelId::tiled, why};
  // Hopper (sm_90) with the sm_90a rung built in: wgmma + TMA + warp specialization. Measured on the
  // H100 (assets/measurements/hopper-h100.json, B8 H16 N4096): 659 TFLOP/s at d128 and 442 at d64
  // against the mma rung's 284 and 286, i.e. 1.5-2.3x, and >= 1.0x PyTorch's flash backend. Prefill
  // only: decode-sized seq_q leaves its 128-row tile idle like the mma rung's.
  if (s.seq_q >= 16 && kernel_unsupported(KernelId::hopper, s, dev).empty())
    return {KernelId::hopper,
            "sm_90 with the Hopper rung built (sm_90a): wgmma + TMA + warp specialization, 1.5-2.3x the mma rung "
            "measured on the H100"};
  // Decode (one query row) wastes 127 of the mma rung's 128 rows. The decode rung (attn-decode.cu:
  // split-KV, GQA heads as the mma rows, paged KV) is its own program with its own entry point;
  // through this dispatch the mma rung still runs it, correctly but slowly.
  if (s.seq_q < 16)
    return {KernelId::mma, "decode-sized seq_q: the decode rung (attnlab-attn-decode) is built for this; in this "
                           "dispatch the mma rung runs it (most of its 128-row tile idles)"};
  return {KernelId::mma, "tensor cores available and d in {64, 128}: the FlashAttention-2 rung is the fastest we have"};
}

}  // namespace attnlab::kernels
