// The simulator's models of Kernel ladder II (decode, sliding window, selective scan) and the L2
// partition fabric: byte counts worked out by hand from the kernels' loops.
#include <doctest/doctest.h>

#include "sim/decode_traffic.hpp"
#include "sim/scan_traffic.hpp"
#include "sim/traffic.hpp"
#include "sim/window_tiles.hpp"
#include "util/errors.hpp"

using namespace attnlab;

TEST_CASE("l2 fabric: shared reads cross once per far partition, private bytes half the time") {
  GpuSpec h100 = gpu_find("h100-sxm");
  CHECK(h100.l2_partitions == 2);
  CHECK(l2_fabric_bytes(1000, 0, h100) == 1000);  // read by both partitions: reaches the far one once
  CHECK(l2_fabric_bytes(0, 1000, h100) == 500);   // one block's data: far-homed half the time
  CHECK(l2_fabric_bytes(1000, 1000, gpu_find("rtx-4090")) == 0);  // one L2
  h100.l2_partitions = 4;
  CHECK(l2_fabric_bytes(1000, 1000, h100) == 3000 + 750);
  // flash2 forward, one head N=1024 d=64 fp16 128x128 tiles: K and V are read by all 8 query tiles
  // (shared, 2 x 131072 from DRAM); Q (131072) and the writes O + lse (135168) are private.
  AttnConfig c;
  c.batch = 1, c.heads = 1, c.seq = 1024, c.head_dim = 64;
  const TrafficReport r = simulate_traffic(c, gpu_find("h100-sxm"), {Algo::flash2});
  const AlgoTraffic& f = r.results.at(0);
  CHECK(f.l2_fabric == 262144 + (131072 + 135168) / 2);
  CHECK(f.l2_total() == 131072 + 2 * 8 * 131072 + 135168 + 262144 + 133120);
}

TEST_CASE("decode traffic: split-KV, GQA passes, partials and the block table by hand") {
  const GpuSpec& gpu = gpu_find("h100-sxm");
  SUBCASE("GQA-4: B1 H32 KVH8 L32768 d128 bf16, chunk 1024") {
    DecodeConfig c;
    c.kv_heads = 8;
    const DecodeTraffic t = decode_traffic(c, gpu);
    CHECK(t.splits == 32);
    CHECK(t.kv_passes == 1);
    CHECK(t.kv_read == 134217728);  // 2 (K, V) · 8 heads · 32768 · 128 · 2 B
    CHECK(t.q_read == 8192);
    CHECK(t.partial_write == 532480);  // 32 heads · 32 splits · (128·4 + 8) B
    CHECK(t.hbm_read == 134758400);
    CHECK(t.hbm_write == 540672);
    CHECK(t.dram_read == 134758400);
    CHECK(t.l2_fabric == (134758400 + 540672) / 2);  // every byte private to one block
    CHECK(t.min_bytes == 134234112);
    CHECK(t.kv_bytes_per_token == 4096);
    CHECK(t.table_read == 0);
  }
  SUBCASE("MQA with 32 query heads: two 16-row blocks read the one K/V head twice") {
    DecodeConfig c;
    c.kv_heads = 1;
    const DecodeTraffic t = decode_traffic(c, gpu);
    CHECK(t.kv_passes == 2);
    CHECK(t.kv_read == 33554432);
    CHECK(t.dram_read == 16777216 + 8192 + t.partial_write);  // K/V once from DRAM
    CHECK(t.l2_fabric == 16777216 + (8192 + t.partial_write + t.dram_write) / 2);  // K/V shared by 2 blocks
  }
  SUBCASE("paged, 16-token pages: 2 table loads of 4 B per 16-key step, 2048 distinct entries") {
    DecodeConfig c;
    c.kv_heads = 8;
    c.page_size = 16;
    const DecodeTraffic t = decode_traffic(c, gpu);
    CHECK(t.table_read == 131072);  // 8 heads · 2048 steps · 2 · 4 B
    CHECK(t.dram_read == 134758400 + 8192);
  }
  SUBCASE("ragged split: L = 1000, chunk 256 -> 4 splits, 3·16 + 15 steps") {
    DecodeConfig c;
    c.heads = 4, c.kv_heads = 4, c.seq_kv = 1000, c.chunk = 256, c.page_size = 16;
    const DecodeTraffic t = decode_traffic(c, gpu);
    CHECK(t.splits == 4);
    CHECK(t.table_read == 4 * 63 * 2 * 4);
  }
  SUBCASE("bad input names the field") {
    DecodeConfig c;
    c.kv_heads = 5;
    CHECK_THROWS_AS(decode_traffic(c, gpu), InputError);
  }
}

TEST_CASE("window tiles: visited, skipped and masked tiles by hand") {
  const GpuSpec& gpu = gpu_find("h100-sxm");
  SUBCASE("causal W128 (wl = 127), N = 512, Br 128, Bc 64, one head d64") {
    WindowConfig c;
    c.heads = c.kv_heads = 1, c.seq_q = c.seq_kv = 512, c.head_dim = 64, c.window_left = 127;
    const WindowTiles w = window_tiles(c, gpu);
    CHECK(w.tiles_total == 32);
    CHECK(w.tiles_visited == 14);  // 2 + 4 + 4 + 4
    CHECK(w.tiles_skipped == 18);
    CHECK(w.tiles_masked == 14);   // a 128-row block's band is 255 keys wide: every tile straddles
    CHECK(w.pairs_visible == 57408);  // 127·128/2 + 385·128
    CHECK(w.keys_loaded == 896);
    CHECK(w.hbm_read == 65536 + 2 * 896 * 128);
    CHECK(w.dram_read == 65536 + 2 * 512 * 128);
    // O and the log-sum-exp (512 rows x 4 B, which attn-window.cpp writes too) once.
    CHECK(w.hbm_write == 65536 + 512 * 4);
    CHECK(w.dram_write == 65536 + 512 * 4);
    // K/V shared, read from DRAM once: crosses once; Q, O and the log-sum-exp private: half of them.
    CHECK(w.l2_fabric == 2 * 512 * 128 + (65536 + 65536 + 512 * 4) / 2);
    CHECK(w.flops == u128{4} * 64 * 57408);
  }
  SUBCASE("bidirectional wl = wr = 64, N = 1024: 3 + 6·4 + 3 tiles of 128") {
    WindowConfig c;
    c.heads = c.kv_heads = 1, c.seq_q = c.seq_kv = 1024, c.causal = false, c.window_left = 64, c.window_right = 64;
    const WindowTiles w = window_tiles(c, gpu);
    CHECK(w.tiles_total == 128);
    CHECK(w.tiles_visited == 30);
    CHECK(w.tiles_skipped == 98);
    CHECK(w.skipped_fraction() == doctest::Approx(98.0 / 128));
  }
  SUBCASE("no window, causal: the causal skip (tiles above the diagonal)") {
    WindowConfig c;
    c.heads = c.kv_heads = 1, c.seq_q = c.seq_kv = 512, c.window_left = -1;
    const WindowTiles w = window_tiles(c, gpu);
    CHECK(w.tiles_visited == 2 + 4 + 6 + 8);
    CHECK(w.pairs_visible == 512 * 513 / 2);
  }
}

TEST_CASE("selective scan bytes and flops by hand") {
  const GpuSpec& gpu = gpu_find("h100-sxm");
  ScanConfig c;  // B2 D4096 L4096 N16 bf16, 1 channel per warp, 4 warps per block
  const ScanTraffic s = scan_traffic(c, gpu);
  CHECK(s.u_read == 67108864);  // 2·4096·4096·2 B
  CHECK(s.bc_unique == 524288);  // 2 (B, C) · 2 · 16 · 4096 · 2 B
  CHECK(s.bc_read == 536870912);  // 1024 blocks per row, each loads B and C of its row
  CHECK(s.params_read == 589824);  // 2 rows · 4096 · 18 · 4 B
  CHECK(s.hbm_read == 671678464);
  CHECK(s.dram_read == 135036928);
  CHECK(s.dram_write == 67108864);
  CHECK(s.min_bytes == 202145792);
  CHECK(s.l2_fabric == 524288 + 294912 + 3 * 67108864 / 2);
  CHECK(s.flops == 3892314112u);
  // Two warps' channels per warp halve the blocks, hence B/C's L2 reads.
  c.channels_per_warp = 2;
  CHECK(scan_traffic(c, gpu).bc_read == 512 * 524288);
  // Roofline crossover with flash attention of H16 d128 exists and lies between 2^8 and 2^20.
  const u64 x = scan_attention_crossover(ScanConfig{}, 16, 128, gpu);
  CHECK(x >= 256);
  CHECK(x <= (u64{1} << 20));
  ScanConfig bad;
  bad.channels_per_warp = 3;
  CHECK_THROWS_AS(scan_traffic(bad, gpu), InputError);
}
