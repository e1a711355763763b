// PagedAttention vs contiguous reservation: small streams traced by hand step by step, the
// invariants of the slot accounting, and the shape of the vLLM paper's Figure 2.
#include <doctest/doctest.h>

#include "models/paged.hpp"

using namespace attnlab;

namespace {
ServeRequest req(u64 id, u64 prompt, std::vector<u64> outputs, u64 arrival = 0) {
  return ServeRequest{id, arrival, prompt, std::move(outputs)};
}
ServeConfig contiguous(u64 budget, u64 max_len, ReservePolicy p = ReservePolicy::max_len) {
  ServeConfig c;
  c.scheme = AllocScheme::contiguous;
  c.reserve = p;
  c.budget_tokens = budget;
  c.max_len = max_len;
  return c;
}
ServeConfig paged(u64 budget, u64 block, u64 max_len = 2048) {
  ServeConfig c;
  c.scheme = AllocScheme::paged;
  c.budget_tokens = budget;
  c.block_size = block;
  c.max_len = max_len;
  return c;
}
u64 total(const SlotCounts& s) { return s.used + s.reserved + s.internal + s.external + s.free; }
}  // namespace

TEST_CASE("one request, contiguous max reservation: 10 prompt tokens, 5 to generate, spans of 50") {
  ServeSim sim(contiguous(100, 50), {req(0, 10, {5})});
  const ServeStepStats& s0 = sim.step();
  CHECK(s0.running_seqs == 1);
  CHECK(s0.slots.used == 10);
  CHECK(s0.slots.reserved == 5);   // tokens 11..15 still to come
  CHECK(s0.slots.internal == 35);  // 50 - 15: never used
  CHECK(s0.slots.external == 0);
  CHECK(s0.slots.free == 50);
  ServeSnapshot snap = sim.snapshot();
  REQUIRE(snap.spans.size() == 1);
  CHECK(snap.spans[0].start == 0);
  CHECK(snap.spans[0].size == 50);
  while (!sim.done()) sim.step();
  const ServeMetrics& m = sim.metrics();
  CHECK(m.steps == 6);  // admitted at step 0, one token per step, done at step 5
  CHECK(m.tokens_generated == 5);
  CHECK(m.all.used == 10 + 11 + 12 + 13 + 14);
  CHECK(m.all.reserved == 5 + 4 + 3 + 2 + 1);
  CHECK(m.all.internal == 5 * 35);
}

TEST_CASE("the same request paged in blocks of 4: only the last block has empty slots") {
  ServeSim sim(paged(100, 4), {req(0, 10, {5})});
  const ServeStepStats& s0 = sim.step();
  CHECK(s0.slots.used == 10);
  CHECK(s0.slots.reserved == 2);  // blocks of 4, 4, 2: the last block's 2 empty slots will be filled
  CHECK(s0.slots.internal == 0);
  CHECK(s0.slots.free == 88);
  CHECK(s0.physical_blocks == 3);
  ServeSnapshot snap = sim.snapshot();
  REQUIRE(snap.running.size() == 1);
  CHECK(snap.running[0].block_table == std::vector<u64>{0, 1, 2});
  CHECK(snap.blocks[2].filled == 2);
  CHECK(snap.blocks[2].request == 0);
  CHECK(snap.blocks[3].ref_count == 0);
  while (!sim.done()) sim.step();
  CHECK(sim.metrics().steps == 6);
  // 11, 12, 13 (a fourth block), 14 tokens; the final length 15 leaves the fourth block's last slot unused.
  CHECK(sim.metrics().all.reserved == 2 + 1 + 0 + 2 + 1);
  CHECK(sim.metrics().all.internal == 0 + 0 + 0 + 1 + 1);
  CHECK(sim.metrics().all.used == 60);
}

TEST_CASE("the batch each scheme reaches: 8 requests of 4 + 4 tokens in 64 slots") {
  std::vector<ServeRequest> rs;
  for (u64 i = 0; i < 8; ++i) rs.push_back(req(i, 4, {4}));
  SUBCASE("contiguous max (32 slots each): two at a time, 4 rounds of 4 steps") {
    ServeMetrics m = serve_run(contiguous(64, 32), rs);
    CHECK(m.max_running_seqs == 2);
    CHECK(m.steps == 17);
    CHECK(m.all.running_seqs == 32);
    CHECK(m.tokens_generated == 32);
  }
  SUBCASE("paged (blocks of 4): all 8 at once, 2 blocks each") {
    ServeMetrics m = serve_run(paged(64, 4), rs);
    CHECK(m.max_running_seqs == 8);
    CHECK(m.steps == 5);
    CHECK(m.all.running_seqs == 32);
    CHECK(m.preemptions == 0);
    // 8 tokens fill 2 blocks exactly: no internal fragmentation; the second block's empty slots are
    // reserved for 3 + 2 + 1 steps, against 4 + 5 + 6 + 7 tokens used, per sequence.
    CHECK(m.all.internal == 0);
    CHECK(m.all.reserved == 8 * 6);
    CHECK(m.all.waste() == doctest::Approx(48.0 / (48 + 176)));
  }
}

TEST_CASE("external fragmentation: a hole too small for the request at the head of the queue") {
  // Oracle reservations: A holds [0, 4); B needs 8 but only [4, 10) is free.
  ServeSim sim(contiguous(10, 10, ReservePolicy::oracle), {req(0, 2, {2}), req(1, 2, {6})});
  const ServeStepStats& s0 = sim.step();
  CHECK(s0.waiting == 1);
  CHECK(s0.slots.used == 2);
  CHECK(s0.slots.reserved == 2);
  CHECK(s0.slots.external == 6);
  CHECK(s0.slots.free == 0);
  sim.step();
  const ServeStepStats& s2 = sim.step();  // A finishes, B takes [0, 8)
  CHECK(s2.waiting == 0);
  CHECK(s2.slots.used == 2);
  CHECK(s2.slots.reserved == 6);
  CHECK(s2.slots.free == 2);
  CHECK(sim.snapshot().spans.at(0).request == 1);
  while (!sim.done()) sim.step();
  CHECK(sim.metrics().steps == 9);
}

TEST_CASE("reservation policies: max, next power of two, exact") {
  // prompt 5 + output 6 = 11 tokens: max 64, pow2 16, oracle 11.
  for (auto [p, size] : {std::pair{ReservePolicy::max_len, u64{64}}, std::pair{ReservePolicy::pow2, u64{16}},
                         std::pair{ReservePolicy::oracle, u64{11}}}) {
    ServeSim sim(contiguous(100, 64, p), {req(0, 5, {6})});
    sim.step();
    CHECK(sim.snapshot().spans.at(0).size == size);
    CHECK(sim.last().slots.internal == size - 11);
  }
}

TEST_CASE("preemption: when no block is free the newest request is evicted and recomputed later") {
  // Blocks of one token, 6 in all; A and B each hold 2 prompt tokens and generate 3.
  ServeSim sim(paged(6, 1), {req(0, 2, {3}), req(1, 2, {3})});
  CHECK(sim.step().running_seqs == 2);  // 4 blocks
  CHECK(sim.step().slots.free == 0);    // 3 + 3
  const ServeStepStats& s2 = sim.step();  // A needs a block: B (newer) is preempted
  CHECK(s2.running_seqs == 1);
  CHECK(s2.waiting == 1);
  CHECK(s2.slots.used == 4);
  CHECK(sim.metrics().preemptions == 1);
  const ServeStepStats& s3 = sim.step();  // A finishes; B comes back with its 3 tokens recomputed
  CHECK(s3.running_seqs == 1);
  CHECK(s3.slots.used == 3);
  while (!sim.done()) sim.step();
  CHECK(sim.metrics().steps == 6);
  CHECK(sim.metrics().tokens_generated == 6);  // nothing generated twice
}

TEST_CASE("parallel sampling shares the prompt's blocks and copies the partial one on write") {
  // Prompt of 6 in blocks of 4: one full shared block and one shared block holding 2 tokens.
  ServeRequest r = req(0, 6, {2, 2, 2});
  ServeSim sim(paged(40, 4), {r});
  const ServeStepStats& s0 = sim.step();
  CHECK(s0.physical_blocks == 2);
  CHECK(s0.logical_blocks == 6);
  CHECK(s0.slots.used == 6);
  ServeSnapshot a = sim.snapshot();
  CHECK(a.blocks[0].ref_count == 3);
  CHECK(a.blocks[1].ref_count == 3);
  CHECK(a.blocks[0].sample == BlockView::none);
  const ServeStepStats& s1 = sim.step();  // samples 0 and 1 copy block 1; sample 2 writes in place
  CHECK(s1.physical_blocks == 4);
  CHECK(s1.slots.used == 4 + 3 * 3);
  ServeSnapshot b = sim.snapshot();
  CHECK(b.blocks[0].ref_count == 3);
  CHECK(b.blocks[1].ref_count == 1);
  CHECK(b.running[0].block_table == std::vector<u64>{0, 2});
  CHECK(b.running[1].block_table == std::vector<u64>{0, 3});
  CHECK(b.running[2].block_table == std::vector<u64>{0, 1});
  while (!sim.done()) sim.step();
  CHECK(sim.metrics().all.sharing_saving() == doctest::Approx(0.5));  // 6 of 12 block-steps saved
  SUBCASE("without sharing each sample holds its own copy") {
    ServeConfig c = paged(40, 4);
    c.share_prompt = false;
    ServeMetrics m = serve_run(c, {r});
    CHECK(m.all.sharing_saving() == 0.0);
    CHECK(m.all.physical_blocks == 12);
  }
  SUBCASE("contiguous reserves one span per sample, prompt copied") {
    ServeSim cs(contiguous(100, 20, ReservePolicy::oracle), {r});
    cs.step();
    CHECK(cs.snapshot().spans.size() == 3);
    CHECK(cs.last().slots.used == 18);
  }
}

TEST_CASE("invariants on a random stream: slots add up, every token generated once, same seed same run") {
  WorkloadSpec w;
  w.requests = 60;
  w.prompt = parse_length_dist("lognormal:80:1", "--prompt");
  w.output = parse_length_dist("exp:120", "--output");
  w.samples = 2;
  w.rate = 0.5;
  w.max_len = 512;
  w.seed = 7;
  auto rs = workload_generate(w);
  u64 outputs = 0;
  for (const auto& r : rs)
    for (u64 o : r.outputs) outputs += o;
  for (ServeConfig c : {contiguous(3000, 512), contiguous(3000, 512, ReservePolicy::pow2),
                        contiguous(3000, 512, ReservePolicy::oracle), paged(3000, 16, 512), paged(3001, 7, 512)}) {
    ServeSim sim(c, rs);
    while (!sim.done()) {
      const ServeStepStats& s = sim.step();
      CHECK(total(s.slots) == c.budget_tokens);
      CHECK(s.physical_blocks <= s.logical_blocks);
    }
    CHECK(sim.metrics().tokens_generated == outputs);
    ServeMetrics again = serve_run(c, rs);
    CHECK(again.steps == sim.metrics().steps);
    CHECK(again.all.used == sim.metrics().all.used);
  }
}

TEST_CASE("the shape of the vLLM paper's Figure 2 on a ShareGPT-like stream") {
  // 12 GiB of a 13B model's KV (800 KiB per token) = 15,728 slots; max length 2048; blocks of 16.
  WorkloadSpec w;
  w.prompt = workload_find("sharegpt").prompt;
  w.output = workload_find("sharegpt").output;
  auto rs = workload_generate(w);
  ServeMetrics cmax = serve_run(contiguous(15728, 2048), rs);
  ServeMetrics oracle = serve_run(contiguous(15728, 2048, ReservePolicy::oracle), rs);
  ServeMetrics pg = serve_run(paged(15728, 16), rs);
  CHECK(cmax.loaded.waste() > 0.60);  // the paper: 60-80% of the KV memory wasted
  CHECK(cmax.loaded.waste() < 0.80);
  CHECK(oracle.loaded.waste() < cmax.loaded.waste());
  CHECK(pg.loaded.waste() < 0.04);  // the paper: under 4%
  CHECK(pg.loaded.avg_batch() > 2 * cmax.loaded.avg_batch());
  CHECK(cmax.max_running_seqs == 7);  // floor(15728 / 2048)
}

TEST_CASE("serving input checks") {
  std::vector<ServeRequest> one = {req(0, 10, {5})};
  CHECK_THROWS_WITH(serve_validate(paged(100, 0), one), "--block-size must be between 1 and 65536 (got 0)");
  CHECK_THROWS_WITH(serve_validate(paged(0, 4), one), "--budget-tokens must be at least 1 (got 0)");
  CHECK_THROWS_WITH(serve_validate(paged(100, 4, 12), one),
                    "request 0: prompt 10 + output 5 must be between 2 and --max-len 12");
  CHECK_THROWS_WITH(serve_validate(contiguous(40, 50), one),
                    "request 0 needs 50 token slots reserved (1 sample) but the KV memory holds only 40 (--budget-tokens, or --kv-gib)");
  CHECK_THROWS_WITH(serve_validate(paged(12, 4), one), "request 0 needs 4 blocks of 4 tokens but the budget holds 3 blocks");
  CHECK_THROWS_WITH(serve_validate(paged(100, 4), {}), "--requests must be at least 1 (got 0)");
}

TEST_CASE("KV memory in token slots, and the steps a report averages over") {
  // 12 GiB of Llama 2 13B at fp16 (819,200 bytes per token): 12,884,901,888 / 819,200 = 15,728.64 -> 15,728
  CHECK(serve_budget_from_gib(12, 819200, "--kv-gib") == 15728);
  // 1 GiB of 512 KiB tokens (Llama 2 7B): exactly 2,048
  CHECK(serve_budget_from_gib(1, 524288, "--kv-gib") == 2048);
  CHECK_THROWS_WITH(serve_budget_from_gib(0, 819200, "--kv-gib"), "--kv-gib must be more than 0 and at most 1000000 (got 0)");
  CHECK_THROWS_WITH(serve_budget_from_gib(-2, 819200, "--kv-gib"), "--kv-gib must be more than 0 and at most 1000000 (got -2)");
  CHECK_THROWS_WITH(serve_budget_from_gib(1e-7, 819200, "--kv-gib"),
                    "--kv-gib 1e-07 holds less than one token of 819200 bytes");
  SUBCASE("under load: the waiting steps when there are any, else the whole run") {
    // 2 requests of 4 + 4 tokens in 8 slots, contiguous max 8: the second waits 4 steps for the first.
    ServeMetrics m = serve_run(contiguous(8, 8), {req(0, 4, {4}), req(1, 4, {4})});
    REQUIRE(m.loaded.steps > 0);
    CHECK(&serve_under_load(m) == &m.loaded);
    ServeMetrics alone = serve_run(contiguous(8, 8), {req(0, 4, {4})});
    CHECK(alone.loaded.steps == 0);
    CHECK(&serve_under_load(alone) == &alone.all);
  }
}
