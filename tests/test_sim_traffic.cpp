// simulate_traffic: exact global-memory bytes worked out by hand, the L2 model's reuse, FLOPs,
// tile choices and bad input.
#include <doctest/doctest.h>

#include "sim/traffic.hpp"

using namespace attnlab;

namespace {
AttnConfig one_head(u64 N, u64 d) {
  AttnConfig c;
  c.batch = 1;
  c.heads = 1;
  c.seq = N;
  c.head_dim = d;
  return c;
}
}  // namespace

TEST_CASE("flash2 forward, one head, N=1024 d=64 fp16, 128x128 tiles: bytes by hand") {
  const TrafficReport r = simulate_traffic(one_head(1024, 64), gpu_find("h100-sxm"), {Algo::flash2});
  const AlgoTraffic& f = r.results.at(0);
  CHECK(f.tiles.Br == 128);
  CHECK(f.tiles.Bc == 128);
  // Q once (1024·64·2 = 131072 B); K and V once per Q tile: 8 x 131072 each.
  CHECK(f.hbm.read == 131072 + 2 * 8 * 131072);
  // O once plus the fp32 log-sum-exp per row.
  CHECK(f.hbm.write == 131072 + 1024 * 4);
  // Everything fits in L2: K and V come from DRAM once.
  CHECK(f.dram.read == 3 * 131072);
  CHECK(f.dram.write == 131072 + 1024 * 4);
  CHECK(f.method == DramMethod::trace);
  CHECK(f.flops == u128{4} * 1024 * 1024 * 64);
}

TEST_CASE("naive forward, one head, N=1024 d=64 fp16: S and P written and read back") {
  const TrafficReport r = simulate_traffic(one_head(1024, 64), gpu_find("h100-sxm"), {Algo::naive});
  const AlgoTraffic& n = r.results.at(0);
  const u128 nd = 131072, n2 = 1024 * 1024 * 2, reread = 8 * nd;
  // QKᵀ re-reads Q and K per output tile; softmax reads S, writes P; PV reads P and V per tile.
  CHECK(n.hbm.read == 2 * reread + n2 + n2 + reread);
  CHECK(n.hbm.write == n2 + n2 + nd);
  CHECK(n.paper_io_fwd == (4 * 1024 * 64 + 4 * 1024 * 1024) * 2);
  // fp32 scores double the N² terms.
  AttnConfig c = one_head(1024, 64);
  c.score_dtype = DType::fp32;
  // A copy: a reference into the temporary report dangles (ASan found the heap-use-after-free).
  const AlgoTraffic n32 = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::naive}).results.at(0);
  CHECK(n32.hbm.write == 2 * n2 + 2 * n2 + nd);
}

TEST_CASE("naive causal: the softmax reads only the visible part of S, writes all of P") {
  // N = 1000 (ragged against the 128-row tiles): query q sees keys 0..q, 1000·1001/2 = 500,500
  // entries of S. cuBLAS and our QKᵀ kernel still write all 10^6 (the mask is the softmax's).
  AttnConfig c = one_head(1000, 64);
  c.causal = true;
  const AlgoTraffic n = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::naive}).results.at(0);
  REQUIRE(n.tiles.softmax_passes == 1);  // a 2 KB row fits in SRAM: one read pass
  CHECK(n.hbm_of(Tensor::S).write == u128{1000} * 1000 * 2);
  CHECK(n.hbm_of(Tensor::S).read == u128{500500} * 2);
  CHECK(n.hbm_of(Tensor::P).write == u128{1000} * 1000 * 2);
  CHECK(n.hbm_of(Tensor::P).read == u128{1000} * 1000 * 2);  // PV multiplies the whole P
  // Two passes (rows past SRAM) read the visible part twice.
  c.seq = 200000;
  const AlgoTraffic big = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::naive}, [] {
    TrafficOptions o;
    o.l2_model = false;
    return o;
  }()).results.at(0);
  REQUIRE(big.tiles.softmax_passes == 2);
  CHECK(big.hbm_of(Tensor::S).read == u128{2} * (u128{200000} * 200001 / 2) * 2);
}

TEST_CASE("the L2 model: reuse when K/V fit, streaming when the cache is tiny") {
  AttnConfig c = one_head(1024, 64);
  GpuOverrides tiny;
  tiny.l2_mib = 1.0 / 1024 / 1024;  // one byte: nothing can stay
  const AlgoTraffic f = simulate_traffic(c, gpu_apply_overrides(gpu_find("h100-sxm"), tiny), {Algo::flash2}).results[0];
  CHECK(f.dram.read == f.hbm.read);
  CHECK(f.dram.write == f.hbm.write);
}

TEST_CASE("GQA: a K/V head shared by its group is read from DRAM once") {
  AttnConfig c = one_head(1024, 64);
  c.heads = 4;
  c.kv_heads = 1;
  const AlgoTraffic f = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::flash2}).results[0];
  CHECK(f.hbm_of(Tensor::K).read == 4 * 8 * 131072);  // every Q tile of every head loads all of K
  CHECK(f.dram_of(Tensor::K).read == 131072);         // ...but the blocks run together: one DRAM read
  CHECK(f.dram_of(Tensor::Q).read == 4 * 131072);
}

TEST_CASE("causal halves the useful FLOPs and skips tiles above the diagonal") {
  AttnConfig c = one_head(1024, 64);
  c.causal = true;
  const AlgoTraffic f = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::flash2}).results[0];
  CHECK(f.flops == u128{2} * 1024 * 1024 * 64);
  // Q tile i loads K/V tiles 0..i: 1+2+...+8 = 36 tiles of 16 KiB each, for K and for V.
  CHECK(f.hbm_of(Tensor::K).read == 36 * 16384);
}

TEST_CASE("backward: FlashAttention recomputes (2.5x forward FLOPs), standard stores P (2x)") {
  AttnConfig c = one_head(512, 64);
  c.pass = Pass::bwd;
  const TrafficReport r = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::naive, Algo::flash2});
  const double fwd = 4.0 * 512 * 512 * 64;
  CHECK(r.find(Algo::naive)->flops == doctest::Approx(2.0 * fwd));
  CHECK(r.find(Algo::flash2)->flops == doctest::Approx(2.5 * fwd));
  CHECK(r.find(Algo::flash2)->tiles.Br_bwd == 128);
}

TEST_CASE("flash1 defaults follow the paper: Bc = ceil(M/4d), Br = min(Bc, d)") {
  AttnConfig c = one_head(4096, 64);
  const TilePlan t = tiles_choose(Algo::flash1, c, gpu_find("a100-40gb"));
  // M = 163 KiB / 2 B = 83456 elements; Bc = ceil(83456 / 256) = 326; Br = min(326, 64) = 64.
  CHECK(t.Bc == 326);
  CHECK(t.Br == 64);
}

TEST_CASE("huge configurations stay exact and do not hang: sampled L2, exact totals") {
  AttnConfig c;
  c.batch = 1024;
  c.heads = 1024;  // B·H = 2^20
  c.seq = u64{1} << 24;
  c.head_dim = 128;
  const AlgoTraffic f = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::flash2}).results[0];
  // Q read once: 2^20 heads x 2^24 rows x 128 x 2 B = 2^52 B, exactly.
  CHECK(f.hbm_of(Tensor::Q).read == u128{1} << 52);
  // K: every one of the 2^17 Q tiles reads all of K: 2^17 x 2^52.
  CHECK(f.hbm_of(Tensor::K).read == u128{1} << 69);
  CHECK(f.method == DramMethod::sampled);
  CHECK(f.dram_of(Tensor::K).read < f.hbm_of(Tensor::K).read);
}

TEST_CASE("bad input is refused with the option named") {
  const GpuSpec& h100 = gpu_find("h100-sxm");
  AttnConfig c = one_head(1024, 128);
  SUBCASE("kv-heads must divide heads") {
    c.heads = 16;
    c.kv_heads = 5;
    CHECK_THROWS_WITH(simulate_traffic(c, h100, {Algo::flash2}), doctest::Contains("--kv-heads 5 must divide --heads 16"));
  }
  SUBCASE("zero sequence") {
    c.seq = 0;
    CHECK_THROWS_WITH(simulate_traffic(c, h100, {Algo::flash2}), doctest::Contains("--seq must be between 1"));
  }
  SUBCASE("tiles that do not fit SRAM") {
    c.block_q = 512;
    c.block_kv = 512;
    CHECK_THROWS_WITH(simulate_traffic(c, h100, {Algo::flash2}), doctest::Contains("need 384 KiB of SRAM per block"));
  }
  SUBCASE("unknown algorithm") { CHECK_THROWS_WITH(parse_algo_list("naive,flash9"), doctest::Contains("--algo must be")); }
}
