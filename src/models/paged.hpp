// PagedAttention vs contiguous KV allocation (Kwon et al. 2023, "Efficient Memory Management for
// Large Language Model Serving with PagedAttention", arXiv 2309.06180).
//
// A stream of requests is served with iteration-level batching: every step each running sequence
// appends one token's K/V, finished sequences free their memory, and waiting requests are admitted
// first come, first served while memory allows. Memory is a budget of token slots, managed either
//   - contiguously, as the systems before vLLM did: each sequence reserves one span up front, of
//     the maximum length (Orca "Max"), the next power of two of its final length (Orca "Pow2") or
//     exactly its final length (Orca "Oracle"), first fit in one address space; or
//   - in pages (vLLM): blocks of `block_size` tokens taken one at a time as the sequence grows, from
//     anywhere; parallel samples of one request share their prompt's blocks (reference counted,
//     copied on write when a sample first writes into a shared, partly filled block); a request is
//     admitted when its blocks fit with 1% of all blocks to spare (vLLM's watermark); when a block
//     is needed and none is free, the most recently admitted request is preempted (its blocks freed,
//     its tokens recomputed when it is admitted again).
// Every step the slots are sorted into: token states (used), reserved for tokens still to come (the
// rest of a span up to the final length; the empty slots of a last block that the sequence will
// still fill), internal fragmentation (never to be used: a span past the final length, a last block
// past it), external fragmentation (free but useless: holes too small for the request at the head
// of the queue; the budget's remainder after whole blocks), and free.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/serve_workload.hpp"
#include "util/checked.hpp"

namespace attnlab {

enum class AllocScheme { contiguous, paged };
enum class ReservePolicy { max_len, pow2, oracle };  // contiguous only
std::string_view reserve_policy_name(ReservePolicy p);  // "max", "pow2", "oracle"

struct ServeConfig {
  AllocScheme scheme = AllocScheme::paged;
  ReservePolicy reserve = ReservePolicy::max_len;
  u64 budget_tokens = 0;   // KV slots in memory
  u64 block_size = 16;     // paged: tokens per block (vLLM's default)
  u64 max_len = 2048;      // longest sequence (contiguous max reservation)
  bool share_prompt = true;  // paged: parallel samples share the prompt's blocks
  u64 max_batch = 0;       // most sequences running at once (0 = memory decides)
};
// Throws InputError: zero block size, zero budget, a request that can never fit...
void serve_validate(const ServeConfig& c, const std::vector<ServeRequest>& requests);

// Slot accounting at one step (token slots; they add up to budget_tokens).
struct SlotCounts {
  u64 used = 0, reserved = 0, internal = 0, external = 0, free = 0;
};

struct ServeStepStats {
  u64 step = 0;
  u64 running_seqs = 0, running_requests = 0, waiting = 0, finished = 0;
  SlotCounts slots;
  u64 logical_blocks = 0;   // paged: blocks the running sequences would need without sharing
  u64 physical_blocks = 0;  // paged: blocks allocated
};

// One physical block (paged) or one span (contiguous), for the dashboard's memory picture.
struct BlockView {
  static constexpr u64 none = ~u64{0};
  u64 request = none;  // owner (the request of its first sequence); none = free
  u64 sample = none;   // owning sample; none when shared by several samples
  u64 ref_count = 0;
  u64 filled = 0;      // tokens written
};
struct SpanView {
  u64 start = 0, size = 0;  // slots [start, start + size)
  u64 request = 0, sample = 0;
  u64 used = 0;             // tokens written so far
  u64 final_len = 0;        // tokens it will hold when done (size - final_len is internal fragmentation)
};
struct SeqView {
  u64 request = 0, sample = 0;
  u64 len = 0, final_len = 0;
  std::vector<u64> block_table;  // paged: physical block of each logical block
};
struct ServeSnapshot {
  u64 step = 0;
  AllocScheme scheme = AllocScheme::paged;
  u64 block_size = 0;
  std::vector<BlockView> blocks;  // paged
  std::vector<SpanView> spans;    // contiguous, by start
  std::vector<SeqView> running;   // in admission order
  std::vector<u64> waiting;       // request ids, head first
  ServeStepStats stats;
};

// Slot counts summed over a set of steps (divide by steps x budget for the time-averaged share).
struct SlotSums {
  u64 steps = 0;
  u128 running_seqs = 0;
  u128 used = 0, reserved = 0, internal = 0, external = 0, free = 0;
  u128 logical_blocks = 0, physical_blocks = 0;

  void add(const ServeStepStats& s);
  double avg_batch() const;                  // running sequences per step
  double share(u128 part, u64 budget) const; // time-averaged fraction of the budget
  // Wasted share of the memory held: (reserved + internal + external) / (that + used).
  double waste() const;
  // Paged: blocks saved by sharing / blocks needed without sharing (the vLLM paper's Fig. 15 measure).
  double sharing_saving() const;
};

struct ServeMetrics {
  u64 steps = 0;              // until every request finished
  u64 requests = 0, sequences = 0;
  u64 tokens_generated = 0;
  u64 preemptions = 0;        // paged: requests evicted and recomputed
  u64 max_running_seqs = 0;
  SlotSums all;     // every step of the run
  SlotSums loaded;  // steps with requests waiting: memory under pressure, as in the vLLM paper's Fig. 2
                    // (the tail, when the queue is empty and memory drains, is left out)
};

class ServeSim {
 public:
  ServeSim(const ServeConfig& c, std::vector<ServeRequest> requests);
  bool done() const { return finished_ == requests_.size(); }
  // One iteration: arrivals, every running sequence appends a token (paged may preempt), finished
  // sequences free their memory, waiting requests are admitted, the slots are counted.
  const ServeStepStats& step();
  const ServeStepStats& last() const { return last_; }
  ServeSnapshot snapshot() const;
  const ServeMetrics& metrics() const { return metrics_; }

 private:
  struct Seq {
    u64 request, sample;
    u64 len = 0, final_len = 0;
    u64 span_start = 0, span_size = 0;  // contiguous
    std::vector<u64> table;             // paged block table
    bool live = false;
  };
  struct Req {
    u64 arrival = 0, prompt = 0;
    std::vector<u64> outputs;
    std::vector<u64> generated;  // per sample, survives preemption (recomputed on readmission)
    std::vector<bool> sample_done;
    bool running = false, done = false;
    u64 admitted_order = 0;
  };

  bool admit(u64 r);
  void preempt(u64 r);
  void finish_sample(u64 seq_index);
  bool grow(Seq& s);
  u64 take_block(u64 request, u64 sample);
  void release_block(u64 b);
  u64 reservation(const Req& r, u64 sample) const;
  bool contiguous_fit(u64 size, u64& start) const;
  void count_slots();

  ServeConfig c_;
  std::vector<Req> requests_;
  u64 next_arrival_ = 0;   // index of the next request to arrive
  std::vector<u64> waiting_;  // FIFO (front = head)
  std::vector<Seq> seqs_;     // running sequences in admission order
  u64 admissions_ = 0;
  u64 finished_ = 0;
  u64 step_ = 0;
  // paged
  u64 total_blocks_ = 0;
  std::vector<BlockView> blocks_;
  std::set<u64> free_blocks_;  // lowest first: a stable picture for the dashboard
  // contiguous: start -> size of each span
  std::map<u64, u64> spans_;
  ServeStepStats last_;
  ServeMetrics metrics_;
};

// Runs to completion. Throws InputError when the configuration cannot serve the requests.
ServeMetrics serve_run(const ServeConfig& c, const std::vector<ServeRequest>& requests);

// The steps a report averages over: those with requests waiting for memory (as under load, like the
// vLLM paper's Fig. 2), or every step of a run in which nobody ever waited.
const SlotSums& serve_under_load(const ServeMetrics& m);

// A KV memory of `gib` GiB in token slots of `bytes_per_token` (rounded down). Throws InputError naming
// `option` when gib is not in (0, 1e6] or holds no token.
u64 serve_budget_from_gib(double gib, u128 bytes_per_token, std::string_view option);

}  // namespace attnlab
