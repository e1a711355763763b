// Where the tokens of a ring-attention pass live, and what a device computes at each step: the
// host half of kernels/ring-attention.cpp's layouts (contiguous, zigzag, striped; see ring.hpp),
// here in the core library so that it is tested without a GPU and checked against the model.
//
// Storage. Device i holds n tokens as C chunks of n / C (C = 2 for zigzag, else 1), chunk-major:
// [chunk][batch][heads][n / C][head_dim]. Each chunk is then a contiguous BHND tensor of its own,
// which is what the attention kernel takes: a step's launch pairs one query chunk with one key
// chunk (zigzag pairs the early chunk with the late one), never a strided slice of a block.
//   contiguous: local token r of device i is token i n + r;
//   zigzag:     chunk 0 is global chunk i, chunk 1 is global chunk 2P − 1 − i (2P chunks of n / 2);
//   striped:    local token a of device i is token i + P a.
//
// Masks. Causal, a (query chunk, key chunk) pair is one of: fully visible, the causal diagonal
// (key <= query, the same token range), the diagonal shifted by one (key < query: striped, when the
// keys' device comes after the queries' device), or not visible at all (no launch). The visible
// pairs a step's launches cover equal ring_block_work(c, q_dev, kv_dev) · n² (ring.hpp): the model's
// rule for which blocks are visible; ring_placement_check proves the two agree.
#pragma once
#include <cstdint>
#include <vector>

#include "models/ring.hpp"

namespace attnlab {

struct RingPlacement {
  RingLayout layout = RingLayout::contiguous;
  int devices = 1;  // P
  int block = 1;    // n, tokens per device (zigzag: even)
  int chunks() const { return layout == RingLayout::zigzag ? 2 : 1; }
  int chunk_len() const { return block / chunks(); }
  long long seq() const { return (long long)devices * block; }
};
// Throws InputError naming --devices, --block or --layout (zigzag needs an even block).
void ring_placement_validate(const RingPlacement& p);

// The global token held at local position `local` (chunk-major: chunk c, row r -> c · n/C + r).
long long ring_token(const RingPlacement& p, int dev, int local);

enum class RingMask { full, causal, causal_strict };
const char* ring_mask_name(RingMask m);

// One attention launch of a step: query chunk × key chunk. diagonal_group: the pairs (c, c) of
// every chunk c at once (the same mask for each; one launch of batch C · b, since chunk-major
// storage makes the C chunks look like C · b sequences), q_chunk = kv_chunk = -1.
struct RingLaunch {
  int q_chunk = 0, kv_chunk = 0;
  RingMask mask = RingMask::full;
  bool diagonal_group = false;
};
// The launches of the step where device q_dev computes on device kv_dev's K/V block, the pair
// (c, c) group first; a pair with no visible key is left out (empty: the step has nothing to do).
std::vector<RingLaunch> ring_step_launches(const RingPlacement& p, bool causal, int q_dev, int kv_dev);
// Visible (query, key) pairs of those launches (per batch and head).
double ring_launches_pairs(const RingPlacement& p, const std::vector<RingLaunch>& launches);
// The model's view of the same pass: ring_block_work's RingConfig for this placement.
RingConfig ring_placement_config(const RingPlacement& p, bool causal);
// Throws std::logic_error naming the first (q_dev, kv_dev) whose launches cover another number of
// pairs than ring_block_work · n², or that mask-checks a pair wrongly against the tokens (sampled).
void ring_placement_check(const RingPlacement& p, bool causal);

// The token permutation on the host: the whole sequence's rows ([rows][seq][width], rows = b · H,
// in any element type of `elem` bytes) into device `dev`'s chunk-major block ([C][rows][n/C][width])
// and back. gather then scatter over every device is the identity.
void ring_gather(const RingPlacement& p, int dev, const void* whole, void* block, long long rows, long long width,
                 int elem);
void ring_scatter(const RingPlacement& p, int dev, const void* block, void* whole, long long rows, long long width,
                  int elem);

}  // namespace attnlab
