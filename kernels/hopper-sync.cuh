// hopper-sync.cuh: the inline-PTX wrappers both Hopper rungs share (attn-hopper.cu, bf16/fp16, and
// attn-fp8-hopper.cu, e4m3): mbarriers, TMA tile loads, named barriers, wgmma fences and waits.
// Kept in one place so that the two rungs' producer/consumer protocols read the same and a fix
// reaches both. The wgmma instructions themselves (one per shape and type) are in
// hopper-wgmma.cuh and fp8-wgmma.cuh; the descriptors differ per rung (swizzle modes) and stay
// in each rung. sm_90 (TMA, mbarrier tx counts); header-only device code, .cu files only.
#pragma once
#include <cuda.h>  // CUtensorMap (type only)

#include <cstdint>

namespace attnlab::kernels::hopper {

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return uint32_t(__cvta_generic_to_shared(p)); }

__device__ __forceinline__ void mbar_init(uint32_t bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}
// The producer's own arrival, announcing how many bytes the copy engine will deliver to this phase.
__device__ __forceinline__ void mbar_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}
// Waits until the phase with this parity has completed. A fresh barrier is in phase 0, and the
// "previous" phase (parity 1) counts as completed: the producer's first wait on an empty stage
// (parity 1) returns at once.
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  uint32_t done;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}
// One box of a 3-D tensor map (innermost coordinate, row, batch*head) into shared memory;
// completion is counted in bytes on `bar`. Rows past the tensor's end arrive as zeros (and still
// count).
__device__ __forceinline__ void tma_load_3d(uint32_t dst, const CUtensorMap* map, int c0, int c1, int c2,
                                            uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], "
      "[%5];" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(bar)
      : "memory");
}
// Named barriers (ids 1, 2; 0 is __syncthreads) over the 256 consumer threads: a warpgroup waits
// (bar.sync) on its own id until the other warpgroup has arrived (bar.arrive) on it.
__device__ __forceinline__ void named_sync(int id) { asm volatile("bar.sync %0, 256;" ::"r"(id) : "memory"); }
__device__ __forceinline__ void named_arrive(int id) { asm volatile("bar.arrive %0, 256;" ::"r"(id) : "memory"); }
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}
// The compiler does not know that wgmma writes its accumulators asynchronously: without this, it
// could move a read of S above the wgmma.wait_group that makes S valid. An empty asm that "writes"
// every register, placed right after the wait, pins the reads below it.
template <int N>
__device__ __forceinline__ void fence_regs(float (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i])::"memory");
}

}  // namespace attnlab::kernels::hopper
