// Ring attention's merge step (kernel in ring-merge.cu): folds one block's partial result (O_j in
// bf16, normalised; lse_j in fp32) into the running (acc_o, acc_lse) with the log-sum-exp rule
// O = Σ_j exp(lse_j − lse) O_j, lse = ln Σ_j exp(lse_j). first: there is no running result yet;
// last: write the merged rows to `out` (bf16) instead of acc_o; have_part: false when the block
// saw no key (causal blocks above the diagonal); part_empty_every > 0: rows whose index is a multiple
// of it take nothing from the part (their part row holds no result of theirs), 0: none.
#pragma once
#include <cuda_runtime_api.h>

namespace attnlab::kernels {

cudaError_t ring_merge(float* acc_o, float* acc_lse, const void* part_o, const float* part_lse, void* out,
                       long long rows, int d, bool first, bool last, bool have_part, long long part_empty_every,
                       cudaStream_t st);

}  // namespace attnlab::kernels
