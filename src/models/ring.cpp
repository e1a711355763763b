#include "models/ring.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "util/units.hpp"

namespace attnlab {

namespace {

// Bits one device holds per token of its block: Q and O (H heads), K and V plus, in a ring of more
// than one device, the incoming K and V (Hkv heads each), in the element type; the softmax
// statistics m and l in fp32.
u128 value_bits_per_token(const RingConfig& c, u64 devices) {
  const u64 kv_buffers = devices > 1 ? 4 : 2;
  return cprod("ring memory", c.batch, c.head_dim, 2 * c.heads + kv_buffers * c.kv_heads, dtype_bits(c.dtype));
}
u128 stats_bits_per_token(const RingConfig& c) { return cprod("ring memory", c.batch, c.heads, 2, 32); }
}  // namespace

std::string_view ring_layout_name(RingLayout l) {
  switch (l) {
    case RingLayout::contiguous: return "contiguous";
    case RingLayout::zigzag: return "zigzag";
    case RingLayout::striped: return "striped";
  }
  return "?";
}

RingLayout ring_layout_parse(std::string_view name) {
  for (RingLayout l : kRingLayouts)
    if (ring_layout_name(l) == name) return l;
  throw InputError(fmt::format("--layout must be contiguous, zigzag or striped (got '{}')", name));
}

u64 ring_layout_granule(RingLayout layout, u64 devices) {
  return layout == RingLayout::zigzag ? 2 * devices : layout == RingLayout::striped ? devices : 1;
}

void ring_validate(const RingConfig& c) {
  auto range = [](u64 v, const char* opt, u64 lo, u64 hi) {
    if (v < lo || v > hi) throw InputError(fmt::format("{} must be between {} and {} (got {})", opt, lo, hi, v));
  };
  range(c.seq, "--seq", 1, 1ull << 36);
  range(c.devices, "--devices", 1, 65536);
  range(c.batch, "--batch", 1, 1u << 20);
  range(c.heads, "--heads", 1, 65536);
  range(c.kv_heads, "--kv-heads", 1, 65536);
  range(c.head_dim, "--head-dim", 1, 65536);
  if (c.heads % c.kv_heads != 0)
    throw InputError(fmt::format("--kv-heads must divide --heads ({} heads, got {} KV heads)", c.heads, c.kv_heads));
  if (c.devices > c.seq)
    throw InputError(fmt::format("--devices must be at most --seq: each device needs a block of at least one token "
                                 "({} devices, {} tokens)", c.devices, c.seq));
  if (c.layout == RingLayout::zigzag && c.seq % ring_layout_granule(c.layout, c.devices) != 0)
    throw InputError(fmt::format("--layout zigzag splits the sequence into 2 x --devices chunks: --seq must be a "
                                 "multiple of {} (got {})", 2 * c.devices, c.seq));
  if (c.layout == RingLayout::striped && c.seq % ring_layout_granule(c.layout, c.devices) != 0)
    throw InputError(fmt::format("--layout striped deals the tokens round-robin: --seq must be a multiple of "
                                 "--devices {} (got {})", c.devices, c.seq));
  if (!(c.flops_per_s > 0)) throw InputError("the GPU has no throughput for this dtype");
  if (!(c.link_bytes_per_s > 0) || !std::isfinite(c.link_bytes_per_s))
    throw InputError(fmt::format("--link-gbps must be > 0 (got {})", c.link_bytes_per_s / 1e9));
  if (!(c.link_latency_s >= 0) || c.link_latency_s > 1)
    throw InputError(fmt::format("--link-latency-us must be between 0 and 1000000 (got {})", c.link_latency_s * 1e6));
  if (!(c.efficiency > 0) || c.efficiency > 1)
    throw InputError(fmt::format("--efficiency must be in (0, 1] (got {})", c.efficiency));
}

RingMemory ring_memory(const RingConfig& c, u64 block) {
  RingMemory m;
  const u128 bits = dtype_bits(c.dtype);
  const u128 q_elems = cprod("ring memory", c.batch, block, c.heads, c.head_dim);
  const u128 kv_elems = cprod("ring memory", 2, c.batch, block, c.kv_heads, c.head_dim);
  m.q = bits_to_bytes(cmul(q_elems, bits));
  m.o = m.q;
  m.kv_own = bits_to_bytes(cmul(kv_elems, bits));
  m.kv_incoming = c.devices > 1 ? m.kv_own : 0;  // one device has nothing arriving
  m.softmax_stats = cprod("ring memory", c.batch, block, c.heads, 2, 4);
  m.total = cadd(cadd(cadd(m.q, m.o), cadd(m.kv_own, m.kv_incoming)), m.softmax_stats, "ring memory");
  m.per_token = bits_to_bytes(cadd(value_bits_per_token(c, c.devices), stats_bits_per_token(c)));
  return m;
}

namespace {
// The smallest whole block >= n. A relative tolerance so that an exact quotient
// (312e12 / 300e9 = 1040) is not pushed up by rounding. A block of 2^64 tokens or more (a link of
// 1e-300 GB/s) cannot be cast to u64 (undefined behaviour, 0 on x86): say that no block hides it.
u64 ring_block_from_double(double n, const RingConfig& c) {
  const double need = std::max(1.0, std::ceil(n * (1 - 1e-12)));
  if (!(need < 18446744073709551616.0))  // 2^64; also catches NaN
    throw InputError(fmt::format("--link-gbps {:g} is too slow for this GPU: no block of fewer than 2^64 tokens "
                                 "hides the transfers", c.link_bytes_per_s / 1e9));
  return static_cast<u64>(need);
}
}  // namespace

u64 ring_min_block(const RingConfig& c) {
  const double s = dtype_bits(c.dtype) / 8.0;
  if (c.link_latency_s > 0) {
    // A n^2 - C n - a >= 0 with A = 4 b H d / (F e), C = 2 b Hkv d s / B: the positive root.
    const double A = 4.0 * double(c.batch) * double(c.heads) * double(c.head_dim) / (c.flops_per_s * c.efficiency);
    const double C = 2.0 * double(c.batch) * double(c.kv_heads) * double(c.head_dim) * s / c.link_bytes_per_s;
    const double n = (C + std::sqrt(C * C + 4.0 * A * c.link_latency_s)) / (2.0 * A);
    return ring_block_from_double(n, c);
  }
  // 4 b H n^2 d / (F e) >= 2 b n Hkv d s / B  <=>  n >= Hkv s F e / (2 H B), s = bytes per value.
  const double n = static_cast<double>(c.kv_heads) * s * c.flops_per_s * c.efficiency /
                   (2.0 * static_cast<double>(c.heads) * c.link_bytes_per_s);
  return ring_block_from_double(n, c);
}

u64 ring_max_context(const RingConfig& c, u64 devices, u128 budget_bytes) {
  const u128 per_token_bits = cadd(value_bits_per_token(c, devices), stats_bits_per_token(c));
  const u128 block = cmul(budget_bytes, 8, "memory budget") / per_token_bits;
  return to_u64(cmul(block, devices, "longest context"), "longest context");
}

namespace {
// Causal pairs (k <= q) between the query tokens [q0, q1) and the key tokens [k0, k1).
double causal_pairs(double q0, double q1, double k0, double k1) {
  // Queries below k0 see nothing; queries in [k0, k1) see q - k0 + 1 keys; queries from k1 on see all.
  const double a = std::max(q0, k0), b = std::min(q1, k1);
  double pairs = 0;
  if (b > a) pairs += (b - a) * ((a - k0 + 1) + (b - 1 - k0 + 1)) / 2.0;  // arithmetic series
  const double full_from = std::max(q0, k1);
  if (q1 > full_from) pairs += (q1 - full_from) * (k1 - k0);
  return pairs;
}
}  // namespace

double ring_block_work(const RingConfig& c, u64 q_dev, u64 kv_dev) {
  if (!c.causal) return 1.0;
  const u64 P = c.devices;
  const double n = static_cast<double>(ceil_div(c.seq, P));
  switch (c.layout) {
    case RingLayout::contiguous:
      // On the diagonal a query attends to itself and the earlier keys of its block: n(n+1)/2 of n^2.
      return kv_dev < q_dev ? 1.0 : kv_dev == q_dev ? (n + 1.0) / (2.0 * n) : 0.0;
    case RingLayout::zigzag: {
      const double h = n / 2;  // chunk length: N / 2P
      const double qa[2] = {double(q_dev) * h, double(2 * P - 1 - q_dev) * h};
      const double ka[2] = {double(kv_dev) * h, double(2 * P - 1 - kv_dev) * h};
      double pairs = 0;
      for (double q : qa)
        for (double k : ka) pairs += causal_pairs(q, q + h, k, k + h);
      return pairs / (n * n);
    }
    case RingLayout::striped:
      // Device i holds tokens i + P a: key j + P b is visible to query i + P a when b <= a (j <= i)
      // or b < a (j > i).
      return (kv_dev <= q_dev ? n * (n + 1) / 2 : n * (n - 1) / 2) / (n * n);
  }
  return 1.0;
}

namespace {
// The step-by-step schedule, one step (P events) at a time: `visit(step_events)` sees each step's
// row. Only the previous row is kept, so ring_analyze needs O(P) memory, not the P x P table.
template <typename Visit>
double ring_schedule(const RingConfig& c, Visit&& visit) {
  const u64 P = c.devices;
  // P x P device-steps: 16.8 million at 4096 devices (a fraction of a second); 65536 devices took
  // over a minute, and the whole table (2^32 events) did not fit in memory.
  if (P > kRingScheduleMaxDevices)
    throw InputError(fmt::format("--devices {}: the ring schedule is simulated step by step (P x P = {} device-steps); "
                                 "at most {} devices", P, format_count(u128{P} * P), kRingScheduleMaxDevices));
  const u64 n = to_u64(ceil_div(c.seq, P), "block");
  const double full = to_double(cprod("ring FLOPs", 4, c.batch, c.heads, n, n, c.head_dim)) /
                      (c.flops_per_s * c.efficiency);
  const double transfer = to_double(bits_to_bytes(cprod("ring transfer", 2, c.batch, n, c.kv_heads, c.head_dim,
                                                        dtype_bits(c.dtype)))) / c.link_bytes_per_s +
                          c.link_latency_s;
  std::vector<RingEvent> prev(P), cur(P);
  double total = 0;
  for (u64 s = 0; s < P; ++s) {
    // Compute: waits for this device's previous step and for the block to have arrived.
    for (u64 i = 0; i < P; ++i) {
      RingEvent& e = cur[i];
      e = RingEvent{};
      e.step = s;
      e.device = i;
      e.kv_block = (i + P - s) % P;
      e.work = ring_block_work(c, i, e.kv_block);
      double prev_end = s == 0 ? 0.0 : prev[i].compute_end;
      double arrived = s == 0 ? 0.0 : prev[(i + P - 1) % P].send_end;
      e.compute_start = std::max(prev_end, arrived);
      e.wait_s = e.compute_start - prev_end;
      e.compute_end = e.compute_start + e.work * full;
      total = std::max(total, e.compute_end);
    }
    // Send: forward the block to the next device, once it is here, the link is free, and the next
    // device has started its step s (so its second buffer is free: double buffering).
    if (s + 1 < P) {
      for (u64 i = 0; i < P; ++i) {
        RingEvent& e = cur[i];
        double have = s == 0 ? 0.0 : prev[(i + P - 1) % P].send_end;
        double link_free = s == 0 ? 0.0 : prev[i].send_end;
        double receiver_ready = cur[(i + 1) % P].compute_start;
        e.sends = true;
        e.send_start = std::max({have, link_free, receiver_ready});
        e.send_end = e.send_start + transfer;
      }
    }
    visit(static_cast<const std::vector<RingEvent>&>(cur));
    std::swap(prev, cur);
  }
  return total;
}
}  // namespace

RingTimeline ring_timeline(const RingConfig& c) {
  ring_validate(c);
  const u64 P = c.devices;
  RingTimeline t;
  if (P <= kRingScheduleMaxDevices) t.events.reserve(P * P);
  t.total_s = ring_schedule(c, [&](const std::vector<RingEvent>& row) { t.events.insert(t.events.end(), row.begin(), row.end()); });
  return t;
}

RingResult ring_analyze(const RingConfig& c) {
  ring_validate(c);
  RingResult r;
  r.config = c;
  const u64 P = c.devices;
  r.block = to_u64(ceil_div(c.seq, P), "block");
  const u64 n = r.block;
  r.memory = ring_memory(c, n);
  r.kv_bytes_per_step = bits_to_bytes(cprod("ring transfer", 2, c.batch, n, c.kv_heads, c.head_dim, dtype_bits(c.dtype)));
  r.kv_bytes_per_device = cmul(r.kv_bytes_per_step, P - 1, "ring transfer");
  r.flops_per_block = cprod("ring FLOPs", 4, c.batch, c.heads, n, n, c.head_dim);
  if (c.causal) {
    // P(P-1)/2 full pairs below the diagonal, P diagonal pairs of 2 b H d n (n + 1) FLOPs.
    const u128 diag = cprod("ring FLOPs", 2, c.batch, c.heads, c.head_dim, n, n + 1);
    r.flops_total = cadd(cmul(r.flops_per_block, u128{P} * (P - 1) / 2), cmul(diag, P), "ring FLOPs");
  } else {
    r.flops_total = cmul(r.flops_per_block, u128{P} * P, "ring FLOPs");
  }
  const double F = c.flops_per_s * c.efficiency;
  r.compute_s = to_double(r.flops_per_block) / F;
  r.transfer_s = to_double(r.kv_bytes_per_step) / c.link_bytes_per_s + c.link_latency_s;
  r.hidden = P == 1 || r.compute_s >= r.transfer_s;
  r.min_block = ring_min_block(c);
  u64 step = 0;
  std::vector<double> device_work(P, 0.0);
  r.pass_s = ring_schedule(c, [&](const std::vector<RingEvent>& row) {
    double worst = 0;
    for (const auto& e : row) {
      worst = std::max(worst, e.work);
      device_work[e.device] += e.work;
    }
    r.no_overlap_s += worst * r.compute_s + (step + 1 < P ? r.transfer_s : 0.0);
    ++step;
  });
  r.ideal_s = to_double(r.flops_total) / (static_cast<double>(P) * F);
  r.efficiency = r.pass_s > 0 ? r.ideal_s / r.pass_s : 1.0;
  r.busiest_work = *std::max_element(device_work.begin(), device_work.end());
  r.idlest_work = *std::min_element(device_work.begin(), device_work.end());
  return r;
}

}  // namespace attnlab
