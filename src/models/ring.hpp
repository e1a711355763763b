// Ring attention (Liu, Zaharia & Abbeel 2023, arXiv 2310.01889): P devices in a ring, the sequence
// of N tokens split into P blocks of n = N/P. Each device keeps its query block and, for P steps,
// computes blockwise attention against one K/V block while it passes that block to the next device
// and receives the next from the previous one. Communication is free when a step's compute takes
// longer than its transfer:
//   compute per step  4 b H n^2 d FLOPs            (QK^T and PV of one block pair, forward)
//   transfer per step 2 b n Hkv d s bytes          (one K and one V block, s bytes per value)
//   hidden when n >= Hkv s F / (2 H B)             (= F/B for MHA in 16 bits: the paper's condition)
// With a link latency a (the time of an empty message; the paper leaves it out) a transfer takes
// a + bytes / B and the condition becomes 4 b H d n^2 / F >= a + 2 b Hkv d s n / B, a quadratic in
// n. Measured through NCCL between two H200s, a is about 20-25 us: it decides the small blocks.
// Per device memory (one layer, forward): Q, O, K, V and the incoming K, V: for MHA 6 b n h values,
// the paper's 6bch, plus the softmax statistics (row max and sum, fp32).
// Forward pass of one attention layer only; the backward pass also sends dK, dV around the ring.
//
// Causal layouts. With contiguous blocks (device i holds tokens [i n, (i+1) n)) the causal mask
// leaves device 0 one diagonal block and device P-1 all P blocks: the pass waits for the last device
// and reaches about half the ideal speed. Two known layouts give every device the same work:
//   zigzag  (ring-flash-attention): 2P chunks of n/2; device i holds chunks i and 2P-1-i, an early
//           and a late one, so every block pair it meets is half visible;
//   striped (Brandon et al. 2023, arXiv 2311.09431): token t on device t mod P; a block pair is
//           n(n+1)/2 or n(n-1)/2 visible pairs, never 0 or n^2.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "hw/dtype.hpp"
#include "util/checked.hpp"

namespace attnlab {

enum class RingLayout { contiguous, zigzag, striped };
inline constexpr RingLayout kRingLayouts[] = {RingLayout::contiguous, RingLayout::zigzag, RingLayout::striped};
std::string_view ring_layout_name(RingLayout l);
// "contiguous", "zigzag" or "striped"; anything else: InputError naming --layout and the choices.
RingLayout ring_layout_parse(std::string_view name);

struct RingConfig {
  u64 seq = 0;       // N, tokens in the whole sequence
  u64 devices = 0;   // P
  u64 batch = 1;
  u64 heads = 0, kv_heads = 0, head_dim = 0;
  DType dtype = DType::bf16;
  bool causal = false;
  double flops_per_s = 0;      // the device's matrix throughput for dtype
  double efficiency = 1.0;     // fraction of flops_per_s attention reaches (1 = peak, as the paper's analysis)
  double link_bytes_per_s = 0; // one direction
  double link_latency_s = 0;   // fixed cost of one transfer (0: bandwidth only, as the paper)
  RingLayout layout = RingLayout::contiguous;  // which tokens each device holds (matters when causal)
};
// Throws InputError naming --seq, --devices, --kv-heads ... (zigzag needs N divisible by 2P,
// striped by P: every device then holds the same number of tokens).
void ring_validate(const RingConfig& c);
// Visible (query, key) pairs between the tokens device q_dev holds and those device kv_dev holds,
// as a fraction of a full n x n block pair (n = ceil(N / P)): 1 without a mask; causal, by layout.
double ring_block_work(const RingConfig& c, u64 q_dev, u64 kv_dev);
// What N must be a multiple of for `layout` over `devices`: 1, 2P (zigzag) or P (striped).
u64 ring_layout_granule(RingLayout layout, u64 devices);

struct RingMemory {
  u128 q = 0, o = 0;          // the device's query block and its output accumulator
  u128 kv_own = 0;            // the K and V block being computed on
  u128 kv_incoming = 0;       // the K and V block arriving from the previous device
  u128 softmax_stats = 0;     // row max m and row sum l, fp32, per query row and head
  u128 total = 0;
  u128 per_token = 0;         // total / block tokens: memory grows linearly with n
};

struct RingResult {
  RingConfig config;
  u64 block = 0;               // n = ceil(N / P) tokens per device
  RingMemory memory;           // per device
  u128 kv_bytes_per_step = 0;  // one K and one V block
  u128 kv_bytes_per_device = 0;  // over the P - 1 transfers of a pass
  u128 flops_per_block = 0;    // one full (unmasked) block pair
  u128 flops_total = 0;        // all devices, the whole pass (causal: only unmasked pairs)
  double compute_s = 0;        // one full block pair
  double transfer_s = 0;       // one K/V block over the link (latency + bytes / bandwidth)
  bool hidden = false;         // compute_s >= transfer_s: transfers hide behind compute
  u64 min_block = 0;           // smallest n for which transfers hide
  double pass_s = 0;           // the whole pass, from the timeline
  double no_overlap_s = 0;     // the same steps if each waited for its transfer
  double ideal_s = 0;          // flops_total / (P F e): perfect balance, free communication
  double efficiency = 0;       // ideal_s / pass_s: how much of the ideal the schedule reaches
  double busiest_work = 0;     // block pairs of work of the busiest device over the pass
  double idlest_work = 0;      // ... and of the least busy one (equal when balanced)
};
RingResult ring_analyze(const RingConfig& c);
// Per-device memory of one block of n tokens (same formulas as ring_analyze).
RingMemory ring_memory(const RingConfig& c, u64 block);
// Smallest n with 4 b H n^2 d / F >= a + 2 b n Hkv d s / B (a = link_latency_s).
u64 ring_min_block(const RingConfig& c);
// Longest N that fits `budget_bytes` per device with P devices: P x floor(budget / per_token).
u64 ring_max_context(const RingConfig& c, u64 devices, u128 budget_bytes);

// ---- Per-step timeline (what the dashboard animates) ------------------------------------------
struct RingEvent {
  u64 step = 0, device = 0;
  u64 kv_block = 0;           // whose K/V block this device computes on: (device - step) mod P
  double work = 1.0;          // 1 full block, about 0.5 on the causal diagonal, 0 fully masked
  double compute_start = 0, compute_end = 0;
  bool sends = false;         // the last step forwards nothing
  double send_start = 0, send_end = 0;
  double wait_s = 0;          // idle before compute_start, waiting for the block to arrive
};
struct RingTimeline {
  std::vector<RingEvent> events;  // step-major: events[step * P + device]
  double total_s = 0;
};
// The schedule is simulated device by device, step by step (P x P device-steps): ring_analyze and
// ring_timeline refuse more than kRingScheduleMaxDevices with an InputError (at 65536 it took
// minutes, and the timeline's 2^32 events ended as std::bad_alloc). ring_analyze keeps one step.
inline constexpr u64 kRingScheduleMaxDevices = 4096;
RingTimeline ring_timeline(const RingConfig& c);

}  // namespace attnlab
