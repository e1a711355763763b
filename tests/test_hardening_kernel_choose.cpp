// Failure path: a GPU without enough shared memory for a kernel's tiles. The kernel
// choice (kernels/kernel_choose.hpp, plain C++) falls back to a rung that fits and says why; a
// part too old for the kernels gets no kernel and the rule it breaks. Shared-memory figures are
// worked out by hand from the tile sizes: the mma rung keeps two stages of Kj and Vj (Bc = 64 rows
// of d bf16 values each: 4 x 64 x d x 2 B) plus Qi (Br = 128 rows x d x 2 B) when d = 128.
#include <doctest/doctest.h>

#include "../kernels/kernel_choose.hpp"

using namespace attnlab::kernels;

namespace {
AttnShape prefill(int d) {
  AttnShape s;
  s.batch = 1;
  s.heads = s.kv_heads = 16;
  s.seq_q = s.seq_kv = 4096;
  s.head_dim = d;
  return s;
}
DeviceCaps device(int cc_major, int cc_minor, std::int64_t smem_kib) {
  DeviceCaps d;
  d.cc_major = cc_major;
  d.cc_minor = cc_minor;
  d.smem_per_block_optin = smem_kib * 1024;
  return d;
}
}  // namespace

TEST_CASE("kernel choice on a GPU without enough shared memory for the mma rung's tiles") {
  SUBCASE("the tile budget: 96 KiB at d = 128 (64 + 32), 32 KiB at d = 64 (Q in registers)") {
    CHECK(mma_smem_bytes(128) == 4 * 64 * 128 * 2 + 128 * 128 * 2);  // 98,304 B
    CHECK(mma_smem_bytes(128) == 96 * 1024);
    CHECK(mma_smem_bytes(64) == 32 * 1024);
  }
  SUBCASE("48 KiB per block (no opt-in): d = 128 falls back to the CUDA-core flash rung, and says why") {
    const KernelChoice c = kernel_choose(prefill(128), device(8, 0, 48));
    CHECK(c.id == KernelId::tiled);
    CHECK(c.reason == "the device gives a block 48 KiB of shared memory; the mma rung needs 96 KiB");
  }
  SUBCASE("one KiB short of the d = 128 tiles: still the fallback") {
    const KernelChoice c = kernel_choose(prefill(128), device(8, 9, 95));
    CHECK(c.id == KernelId::tiled);
    CHECK(c.reason == "the device gives a block 95 KiB of shared memory; the mma rung needs 96 KiB");
  }
  SUBCASE("the same 48 KiB is enough for d = 64 (32 KiB of tiles)") {
    CHECK(kernel_choose(prefill(64), device(8, 0, 48)).id == KernelId::mma);
  }
  SUBCASE("exactly 96 KiB fits d = 128; 99 KiB (sm_89 opt-in) too") {
    CHECK(kernel_choose(prefill(128), device(8, 0, 96)).id == KernelId::mma);
    CHECK(kernel_choose(prefill(128), device(8, 9, 99)).id == KernelId::mma);
  }
  SUBCASE("the Hopper rung needs 160 KiB: an sm_90 part with less runs the mma rung") {
    DeviceCaps d = device(9, 0, 159);
    d.hopper_rung = true;
    CHECK(kernel_choose(prefill(128), d).id == KernelId::mma);
    d.smem_per_block_optin = 227 * 1024;
    CHECK(kernel_choose(prefill(128), d).id == KernelId::hopper);
  }
  SUBCASE("a GPU older than sm_80 gets no kernel, with the rule it breaks") {
    const KernelChoice c = kernel_choose(prefill(128), device(7, 5, 64));
    CHECK(c.id == KernelId::none);
    CHECK(c.reason == "needs compute capability 8.0 or newer (bf16 tensor cores, cp.async); the build targets sm_80+");
  }
}
