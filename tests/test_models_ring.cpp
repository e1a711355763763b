// Ring attention: memory, traffic and FLOPs worked out by hand, the paper's n >= F/B condition, and
// the timeline in its compute-bound and link-bound limits.
#include <doctest/doctest.h>

#include "hw/link.hpp"
#include "models/ring.hpp"

using namespace attnlab;

namespace {
RingConfig mha(u64 seq, u64 devices) {
  RingConfig c;
  c.seq = seq;
  c.devices = devices;
  c.heads = 32;
  c.kv_heads = 32;
  c.head_dim = 128;
  c.dtype = DType::fp16;
  c.flops_per_s = 312e12;      // A100, fp16 tensor cores
  c.link_bytes_per_s = 300e9;  // NVLink 3, one direction
  return c;
}
RingConfig llama3_8b(u64 seq, u64 devices) {
  RingConfig c = mha(seq, devices);
  c.kv_heads = 8;
  c.dtype = DType::bf16;
  c.flops_per_s = 989.4e12;
  c.link_bytes_per_s = 450e9;
  return c;
}
}  // namespace

TEST_CASE("link presets carry per-direction bandwidth") {
  CHECK(link_find("nvlink4").bytes_per_s == 450e9);
  CHECK(link_find("nvlink3").bytes_per_s == 300e9);
  CHECK(link_find("pcie4").bytes_per_s == doctest::Approx(31.5076923e9));  // 16 GT/s x 16 x 128/130 / 8
  CHECK(link_find("pcie5").bytes_per_s == doctest::Approx(63.0153846e9));
  CHECK(link_find("ib-ndr").bytes_per_s == 50e9);
  CHECK(link_find("ib-hdr").bytes_per_s == 25e9);
  CHECK(link_find("IB-EDR").bytes_per_s == 12.5e9);
  for (const auto& l : link_presets()) CHECK(!l.source.empty());
  CHECK_THROWS_WITH(link_find("nvlink9"), doctest::Contains("--link: unknown link 'nvlink9' (known: nvlink4, nvlink3"));
}

TEST_CASE("the smallest block that hides the transfer: n >= F/B for MHA in 16 bits (Ring Attention, section 3)") {
  SUBCASE("A100 over NVLink: 312 TFLOP/s / 300 GB/s = 1040 tokens") { CHECK(ring_min_block(mha(8192, 8)) == 1040); }
  SUBCASE("A100 over InfiniBand at 12.5 GB/s: 24,960 tokens") {
    RingConfig c = mha(8192, 8);
    c.link_bytes_per_s = 12.5e9;
    CHECK(ring_min_block(c) == 24960);
  }
  SUBCASE("GQA sends Hkv/H as much: Llama 3 8B on H100 NVLink 4 -> 8 x 2 x 989.4e12 / (2 x 32 x 450e9) = 549.7") {
    CHECK(ring_min_block(llama3_8b(8192, 8)) == 550);
  }
  SUBCASE("a slower kernel hides transfers sooner: half the efficiency, half the block") {
    RingConfig c = mha(8192, 8);
    c.efficiency = 0.5;
    CHECK(ring_min_block(c) == 520);
  }
}

TEST_CASE("per-device memory: 6 b n h values for MHA (the paper's 6bch) plus fp32 softmax statistics") {
  SUBCASE("MHA, n = 1024, h = 32 x 128, fp16") {
    RingResult r = ring_analyze(mha(8192, 8));
    CHECK(r.block == 1024);
    CHECK(r.memory.q == 8388608);            // 1024 x 32 x 128 x 2
    CHECK(r.memory.o == 8388608);
    CHECK(r.memory.kv_own == 16777216);      // 2 x 1024 x 32 x 128 x 2
    CHECK(r.memory.kv_incoming == 16777216);
    CHECK(r.memory.softmax_stats == 262144); // 2 x 1024 x 32 x 4
    CHECK(r.memory.total == 6ull * 1024 * 4096 * 2 + 262144);
  }
  SUBCASE("Llama 3 8B (GQA 32/8), 1M tokens over 8 devices") {
    RingResult r = ring_analyze(llama3_8b(1 << 20, 8));
    CHECK(r.block == 131072);
    CHECK(r.memory.q == 1ull << 30);
    CHECK(r.memory.kv_own == 512ull << 20);
    CHECK(r.kv_bytes_per_step == 512ull << 20);
    CHECK(r.kv_bytes_per_device == 7 * (512ull << 20));
    CHECK(r.flops_per_block == u128{1} << 48);  // 4 x 32 x 131072^2 x 128
    CHECK(r.flops_total == u128{1} << 54);      // 64 block pairs
    CHECK(r.hidden);
  }
  SUBCASE("one device has nothing arriving") {
    RingResult r = ring_analyze(mha(1024, 1));
    CHECK(r.memory.kv_incoming == 0);
    CHECK(r.memory.total == 4ull * 1024 * 4096 * 2 + 262144);
  }
}

TEST_CASE("causal FLOPs: below-diagonal pairs in full, the diagonal at n(n+1)/2") {
  RingConfig c = mha(16, 4);
  c.heads = c.kv_heads = c.head_dim = 1;
  c.causal = true;
  // 16 tokens: 136 causal (query, key) pairs x 4 FLOPs (QK^T and PV, d = 1).
  CHECK(ring_analyze(c).flops_total == 544);
  c.causal = false;
  CHECK(ring_analyze(c).flops_total == 16 * 16 * 4);
}

TEST_CASE("the ring timeline") {
  SUBCASE("compute-bound: P steps of compute back to back, every device on block (i - s) mod P") {
    RingConfig c = llama3_8b(1 << 20, 8);
    RingTimeline t = ring_timeline(c);
    RingResult r = ring_analyze(c);
    REQUIRE(t.events.size() == 64);
    CHECK(t.total_s == doctest::Approx(8 * r.compute_s));
    CHECK(t.events[1 * 8 + 0].kv_block == 7);
    CHECK(t.events[3 * 8 + 5].kv_block == 2);
    CHECK(t.events[7 * 8 + 0].kv_block == 1);
    CHECK_FALSE(t.events[7 * 8 + 3].sends);  // the last step forwards nothing
    for (const auto& e : t.events) CHECK(e.wait_s == doctest::Approx(0.0));
    CHECK(r.pass_s == doctest::Approx(t.total_s));
  }
  SUBCASE("link-bound: each step waits for its block, total = (P - 1) transfers + one compute") {
    RingConfig c = mha(8192, 4);
    c.link_bytes_per_s = 10e9;  // 2048-token blocks: 32 MiB per step at 10 GB/s = 3.36 ms; compute 68.7 GFLOP / 312 TFLOP/s = 220 µs
    RingResult r = ring_analyze(c);
    CHECK_FALSE(r.hidden);
    CHECK(r.pass_s == doctest::Approx(3 * r.transfer_s + r.compute_s));
    CHECK(r.no_overlap_s == doctest::Approx(4 * r.compute_s + 3 * r.transfer_s));
    CHECK(r.pass_s < r.no_overlap_s);
  }
  SUBCASE("causal: later blocks are masked, the diagonal is about half") {
    RingConfig c = mha(4096, 4);
    c.causal = true;
    RingTimeline t = ring_timeline(c);
    CHECK(t.events[0].work == doctest::Approx((1024.0 + 1) / 2048));  // step 0: own block
    CHECK(t.events[1 * 4 + 0].work == 0.0);                           // device 0 gets block 3: masked
    CHECK(t.events[1 * 4 + 1].work == 1.0);                           // device 1 gets block 0: full
  }
}

TEST_CASE("the longest context in a memory budget grows with P") {
  // Llama 3 8B, bf16: per token 128 x (2 x 32 + 4 x 8) x 16 bits + 2 x 32 x 32 bits = 198,656 bits.
  RingConfig c = llama3_8b(1 << 20, 8);
  CHECK(ring_max_context(c, 8, 80000000000ull) == 25773192);  // 8 x floor(640e9 / 198656)
  CHECK(ring_max_context(c, 16, 80000000000ull) == 2 * 25773192);
  // One device keeps no incoming buffer: 128 x (64 + 16) x 16 + 2048 = 165,888 bits per token.
  CHECK(ring_max_context(c, 1, 80000000000ull) == 3858024);
}

TEST_CASE("ring input checks") {
  RingConfig c = mha(8, 16);
  CHECK_THROWS_WITH(ring_validate(c), doctest::Contains("--devices must be at most --seq"));
  c = mha(8192, 8);
  c.kv_heads = 5;
  CHECK_THROWS_WITH(ring_validate(c), "--kv-heads must divide --heads (32 heads, got 5 KV heads)");
  c = mha(8192, 8);
  c.efficiency = 1.5;
  CHECK_THROWS_WITH(ring_validate(c), "--efficiency must be in (0, 1] (got 1.5)");
  c = mha(8192, 0);
  CHECK_THROWS_WITH(ring_validate(c), "--devices must be between 1 and 65536 (got 0)");
}
