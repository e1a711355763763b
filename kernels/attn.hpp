// The one entry point every rung shares, and the problem it solves.
//
//   O = softmax(Q Kᵀ · scale + mask) V        scale = 1/sqrt(d)
//
// Q, O: [batch, heads, seq_q, head_dim]; K, V: [batch, kv_heads, seq_kv, head_dim], all contiguous
// ("BHND", PyTorch's SDPA layout). GQA: query head h reads kv head h / group, group = heads/kv_heads.
// Causal masking is bottom-right aligned (FlashAttention's convention): query i sees key j when
// j <= i + (seq_kv - seq_q); with seq_q == seq_kv that is the usual j <= i.
//
// Every rung file (attn-naive.cu, attn-tiled.cu, attn-mma.cu, attn-hopper.cu) defines
//   cudaError_t attn_<rung>_forward(const AttnProblem& p, cudaStream_t stream);
// and the dispatch in harness-cuda.cu picks one by KernelId (kernel_choose.hpp says which and why).
#pragma once
#include <cstddef>
#include <cuda_runtime_api.h>

#include "kernel_choose.hpp"

namespace attnlab::kernels {

struct AttnProblem {
  AttnShape shape;
  const void* q = nullptr;  // device pointers, element type shape.dtype (bf16 or fp16)
  const void* k = nullptr;
  const void* v = nullptr;
  void* o = nullptr;
  float scale = 0;          // 1/sqrt(head_dim) unless the caller says otherwise
  void* workspace = nullptr;  // naive rungs keep S/P here (attn_workspace_bytes)
  size_t workspace_bytes = 0;
  // mma rung only (the others ignore these):
  // Per-row log-sum-exp of the scaled, masked scores, natural log: lse[b][h][i] =
  // ln Σ_j exp(scale·q_i·k_j) over the keys row i sees; −inf for a row that sees none (its O row
  // is then 0). Layout [batch][heads][seq_q], fp32. nullptr: not written. This is the softmax
  // statistic a caller needs to merge partial results over key blocks (ring attention, split-KV):
  // O = Σ_s exp(lse_s − lse) O_s with lse = ln Σ_s exp(lse_s).
  float* lse = nullptr;
  // Sliding window (attn-window.cpp): query i sees key j only when
  // i + off − window_left <= j <= i + off + window_right, off = seq_kv − seq_q; causal also caps
  // j <= i + off. Negative = unbounded on that side. Key tiles wholly outside are skipped.
  int window_left = -1;
  int window_right = -1;
};

cudaError_t attn_naive_forward(const AttnProblem& p, cudaStream_t stream);
cudaError_t attn_naive_cublas_forward(const AttnProblem& p, cudaStream_t stream);
cudaError_t attn_tiled_forward(const AttnProblem& p, cudaStream_t stream);
cudaError_t attn_mma_forward(const AttnProblem& p, cudaStream_t stream);
// attn-hopper.cu, sm_90a only (linked where nvcc >= 12 built it: DeviceCaps::hopper_rung); its
// default variant (ping-pong, persistent grid unless causal).
cudaError_t attn_hopper_forward(const AttnProblem& p, cudaStream_t stream);

// Bytes of device scratch a kernel needs for `s` (S and P for the naive rungs, 0 for flash rungs).
size_t attn_workspace_bytes(KernelId id, const AttnShape& s);
// Runs `id`; returns the first CUDA (or cuBLAS, mapped to cudaErrorUnknown) error.
cudaError_t attn_forward(KernelId id, const AttnProblem& p, cudaStream_t stream);
// Releases handles a rung keeps between calls (the cuBLAS handle). Safe to call twice.
void attn_release();

}  // namespace attnlab::kernels
