#include "models/paged.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "util/units.hpp"

namespace attnlab {

namespace {
u64 blocks_for(u64 tokens, u64 block) { return (tokens + block - 1) / block; }
u64 next_pow2(u64 x) {
  u64 p = 1;
  while (p < x) p <<= 1;
  return p;
}

// Blocks one request needs at most, when every sample reaches its final length.
u64 paged_worst_blocks(const ServeRequest& r, u64 block, bool share) {
  u64 total = 0;
  if (share && r.outputs.size() > 1) {
    total = r.prompt / block;  // full prompt blocks, shared
    for (u64 o : r.outputs) total += blocks_for(r.prompt + o, block) - r.prompt / block;
  } else {
    for (u64 o : r.outputs) total += blocks_for(r.prompt + o, block);
  }
  return total;
}

u64 reserve_size(ReservePolicy p, u64 max_len, u64 final_len) {
  switch (p) {
    case ReservePolicy::max_len: return max_len;
    case ReservePolicy::pow2: return std::min(max_len, next_pow2(final_len));
    case ReservePolicy::oracle: return final_len;
  }
  return max_len;
}
}  // namespace

std::string_view reserve_policy_name(ReservePolicy p) {
  switch (p) {
    case ReservePolicy::max_len: return "max";
    case ReservePolicy::pow2: return "pow2";
    case ReservePolicy::oracle: return "oracle";
  }
  return "?";
}

void serve_validate(const ServeConfig& c, const std::vector<ServeRequest>& requests) {
  if (c.block_size < 1 || c.block_size > 65536)
    throw InputError(fmt::format("--block-size must be between 1 and 65536 (got {})", c.block_size));
  if (c.budget_tokens < 1) throw InputError(fmt::format("--budget-tokens must be at least 1 (got {})", c.budget_tokens));
  if (c.max_len < 2) throw InputError(fmt::format("--max-len must be at least 2 (got {})", c.max_len));
  if (c.scheme == AllocScheme::paged && c.block_size > c.budget_tokens)
    throw InputError(fmt::format("--block-size {} is larger than the whole budget of {} token slots", c.block_size,
                                 c.budget_tokens));
  if (requests.empty()) throw InputError("--requests must be at least 1 (got 0)");
  const u64 total_blocks = c.budget_tokens / c.block_size;
  for (const auto& r : requests) {
    if (r.outputs.empty()) throw InputError(fmt::format("request {} has no samples", r.id));
    if (c.max_batch > 0 && r.outputs.size() > c.max_batch)
      throw InputError(fmt::format("--max-batch {} is smaller than the {} samples of request {}", c.max_batch,
                                   r.outputs.size(), r.id));
    for (u64 o : r.outputs) {
      if (r.prompt < 1 || o < 1 || r.prompt + o > c.max_len)
        throw InputError(fmt::format("request {}: prompt {} + output {} must be between 2 and --max-len {}", r.id,
                                     r.prompt, o, c.max_len));
    }
    if (c.scheme == AllocScheme::contiguous) {
      u64 need = 0;
      for (u64 o : r.outputs) need += reserve_size(c.reserve, c.max_len, r.prompt + o);
      if (need > c.budget_tokens)
        throw InputError(fmt::format("request {} needs {} token slots reserved ({} sample{}) but the KV memory holds only {} "
                                     "(--budget-tokens, or --kv-gib)",
                                     r.id, need, r.outputs.size(), r.outputs.size() == 1 ? "" : "s", c.budget_tokens));
    } else {
      u64 need = paged_worst_blocks(r, c.block_size, c.share_prompt);
      if (need > total_blocks)
        throw InputError(fmt::format("request {} needs {} blocks of {} tokens but the budget holds {} blocks", r.id,
                                     need, c.block_size, total_blocks));
    }
  }
}

// ---- the simulator ------------------------------------------------------------------------------

ServeSim::ServeSim(const ServeConfig& c, std::vector<ServeRequest> requests) : c_(c) {
  serve_validate(c, requests);
  std::stable_sort(requests.begin(), requests.end(),
                   [](const ServeRequest& a, const ServeRequest& b) { return a.arrival < b.arrival; });
  for (auto& r : requests) {
    Req q;
    q.arrival = r.arrival;
    q.prompt = r.prompt;
    q.outputs = r.outputs;
    q.generated.assign(r.outputs.size(), 0);
    q.sample_done.assign(r.outputs.size(), false);
    requests_.push_back(std::move(q));
    metrics_.sequences += r.outputs.size();
  }
  metrics_.requests = requests_.size();
  if (c_.scheme == AllocScheme::paged) {
    total_blocks_ = c_.budget_tokens / c_.block_size;
    blocks_.assign(total_blocks_, BlockView{});
    for (u64 b = 0; b < total_blocks_; ++b) free_blocks_.insert(free_blocks_.end(), b);
  }
}

u64 ServeSim::reservation(const Req& r, u64 sample) const {
  return reserve_size(c_.reserve, c_.max_len, r.prompt + r.outputs[sample]);
}

u64 ServeSim::take_block(u64 request, u64 sample) {
  if (free_blocks_.empty()) return BlockView::none;
  u64 b = *free_blocks_.begin();
  free_blocks_.erase(free_blocks_.begin());
  blocks_[b] = BlockView{request, sample, 1, 0};
  return b;
}

void ServeSim::release_block(u64 b) {
  BlockView& v = blocks_[b];
  if (--v.ref_count == 0) {
    v = BlockView{};
    free_blocks_.insert(b);
  }
}

bool ServeSim::contiguous_fit(u64 size, u64& start) const {
  // First fit: the lowest gap between spans (or after the last one) that is large enough.
  u64 at = 0;
  for (const auto& [s, n] : spans_) {
    if (s - at >= size) {
      start = at;
      return true;
    }
    at = s + n;
  }
  if (c_.budget_tokens - at >= size) {
    start = at;
    return true;
  }
  return false;
}

bool ServeSim::admit(u64 ri) {
  Req& r = requests_[ri];
  std::vector<u64> samples;
  for (u64 j = 0; j < r.outputs.size(); ++j)
    if (!r.sample_done[j]) samples.push_back(j);
  if (c_.max_batch > 0) {
    u64 running = 0;
    for (const auto& s : seqs_) running += s.live;
    if (running + samples.size() > c_.max_batch) return false;
  }
  std::vector<Seq> fresh;
  for (u64 j : samples) {
    Seq s;
    s.request = ri;
    s.sample = j;
    s.len = r.prompt + r.generated[j];  // after a preemption the generated tokens are recomputed
    s.final_len = r.prompt + r.outputs[j];
    s.live = true;
    fresh.push_back(std::move(s));
  }

  if (c_.scheme == AllocScheme::contiguous) {
    // All samples or none: place them one by one, undo on failure.
    std::vector<u64> placed;
    for (Seq& s : fresh) {
      u64 size = reservation(r, s.sample), start = 0;
      if (!contiguous_fit(size, start)) {
        for (u64 p : placed) spans_.erase(p);
        return false;
      }
      spans_[start] = size;
      placed.push_back(start);
      s.span_start = start;
      s.span_size = size;
    }
  } else {
    const u64 B = c_.block_size;
    const bool share = c_.share_prompt && fresh.size() > 1;
    const u64 full_prompt = r.prompt / B;
    const bool partial = r.prompt % B != 0;
    // Samples that have not written yet can share the partial prompt block; the others hold a
    // private copy of it (they copied on write before being preempted).
    u64 fresh_writers = 0;
    for (const Seq& s : fresh) fresh_writers += s.len == r.prompt;
    u64 need = 0;
    if (share) {
      need = full_prompt + (partial && fresh_writers > 0 ? 1 : 0);
      for (const Seq& s : fresh)
        if (s.len > r.prompt) need += blocks_for(s.len, B) - full_prompt;
    } else {
      for (const Seq& s : fresh) need += blocks_for(s.len, B);
    }
    // vLLM keeps a watermark of 1% of the blocks free at admission so that the running sequences can
    // grow without preempting at once; an idle system admits whatever fits.
    const bool idle = std::none_of(seqs_.begin(), seqs_.end(), [](const Seq& q) { return q.live; });
    const u64 watermark = idle ? 0 : total_blocks_ / 100;
    if (need + watermark > free_blocks_.size()) return false;
    if (share) {
      const u64 n = fresh.size();
      std::vector<u64> shared;
      for (u64 k = 0; k < full_prompt; ++k) {
        u64 b = take_block(ri, BlockView::none);
        blocks_[b].ref_count = n;
        blocks_[b].filled = B;
        shared.push_back(b);
      }
      u64 shared_partial = BlockView::none;
      if (partial && fresh_writers > 0) {
        shared_partial = take_block(ri, fresh_writers > 1 ? BlockView::none : fresh[0].sample);
        blocks_[shared_partial].ref_count = fresh_writers;
        blocks_[shared_partial].filled = r.prompt % B;
        if (fresh_writers == 1)
          for (const Seq& s : fresh)
            if (s.len == r.prompt) blocks_[shared_partial].sample = s.sample;
      }
      for (Seq& s : fresh) {
        s.table = shared;
        if (s.len == r.prompt) {
          if (shared_partial != BlockView::none) s.table.push_back(shared_partial);
          continue;
        }
        for (u64 k = full_prompt; k < blocks_for(s.len, B); ++k) {
          u64 b = take_block(ri, s.sample);
          blocks_[b].filled = std::min(B, s.len - k * B);
          s.table.push_back(b);
        }
      }
    } else {
      for (Seq& s : fresh)
        for (u64 k = 0; k < blocks_for(s.len, B); ++k) {
          u64 b = take_block(ri, s.sample);
          blocks_[b].filled = std::min(B, s.len - k * B);
          s.table.push_back(b);
        }
    }
  }
  r.running = true;
  r.admitted_order = admissions_++;
  for (Seq& s : fresh) seqs_.push_back(std::move(s));
  return true;
}

void ServeSim::preempt(u64 ri) {
  Req& r = requests_[ri];
  for (Seq& s : seqs_) {
    if (!s.live || s.request != ri) continue;
    r.generated[s.sample] = s.len - r.prompt;  // kept: recomputed from the prompt when admitted again
    for (u64 b : s.table) release_block(b);
    s.table.clear();
    s.live = false;
  }
  r.running = false;
  waiting_.insert(waiting_.begin(), ri);  // back to the head of the queue (vLLM: first come, first served)
  ++metrics_.preemptions;
}

void ServeSim::finish_sample(u64 i) {
  Seq& s = seqs_[i];
  Req& r = requests_[s.request];
  if (c_.scheme == AllocScheme::contiguous) {
    spans_.erase(s.span_start);
  } else {
    for (u64 b : s.table) release_block(b);
    s.table.clear();
  }
  s.live = false;
  r.generated[s.sample] = r.outputs[s.sample];
  r.sample_done[s.sample] = true;
  if (std::all_of(r.sample_done.begin(), r.sample_done.end(), [](bool d) { return d; })) {
    r.done = true;
    r.running = false;
    ++finished_;
  }
}

bool ServeSim::grow(Seq& s) {
  if (c_.scheme == AllocScheme::contiguous) {
    ++s.len;  // the span was reserved for the final length: always room
    return true;
  }
  const u64 B = c_.block_size;
  if (s.len % B == 0) {  // the last block is full (or there is none): a new one
    u64 b = take_block(s.request, s.sample);
    if (b == BlockView::none) return false;
    s.table.push_back(b);
  } else if (blocks_[s.table.back()].ref_count > 1) {  // shared and partly filled: copy on write
    u64 b = take_block(s.request, s.sample);
    if (b == BlockView::none) return false;
    blocks_[b].filled = blocks_[s.table.back()].filled;
    release_block(s.table.back());
    s.table.back() = b;
  }
  ++blocks_[s.table.back()].filled;
  ++s.len;
  return true;
}

const ServeStepStats& ServeSim::step() {
  // Nothing running or waiting: jump to the next arrival (idle steps are not counted).
  bool any_running = std::any_of(seqs_.begin(), seqs_.end(), [](const Seq& s) { return s.live; });
  if (!any_running && waiting_.empty() && next_arrival_ < requests_.size())
    step_ = std::max(step_, requests_[next_arrival_].arrival);
  while (next_arrival_ < requests_.size() && requests_[next_arrival_].arrival <= step_) waiting_.push_back(next_arrival_++);

  // Decode: every running sequence appends one token, oldest first so that the newest is the one
  // preempted when blocks run out.
  const size_t before = seqs_.size();
  for (size_t i = 0; i < before; ++i) {
    if (!seqs_[i].live) continue;
    while (!grow(seqs_[i])) {
      u64 victim = BlockView::none, order = 0;
      for (const Seq& s : seqs_)
        if (s.live && (victim == BlockView::none || requests_[s.request].admitted_order > order)) {
          victim = s.request;
          order = requests_[s.request].admitted_order;
        }
      preempt(victim);
      if (victim == seqs_[i].request) break;
    }
    if (!seqs_[i].live) continue;
    ++metrics_.tokens_generated;
    if (seqs_[i].len == seqs_[i].final_len) finish_sample(i);
  }
  seqs_.erase(std::remove_if(seqs_.begin(), seqs_.end(), [](const Seq& s) { return !s.live; }), seqs_.end());

  // Admit from the head of the queue while memory allows (no skipping ahead: first come, first served).
  while (!waiting_.empty() && admit(waiting_.front())) waiting_.erase(waiting_.begin());

  count_slots();
  ++step_;
  return last_;
}

void ServeSim::count_slots() {
  ServeStepStats st;
  st.step = step_;
  st.waiting = waiting_.size();
  st.finished = finished_;
  std::set<u64> reqs;
  for (const Seq& s : seqs_) {
    st.running_seqs += 1;
    reqs.insert(s.request);
  }
  st.running_requests = reqs.size();

  SlotCounts& k = st.slots;
  if (c_.scheme == AllocScheme::contiguous) {
    for (const Seq& s : seqs_) {
      k.used += s.len;
      k.reserved += s.final_len - s.len;
      k.internal += s.span_size - s.final_len;
    }
    // Free slots in holes too small for the request at the head of the queue are stranded.
    u64 need = 0;
    if (!waiting_.empty()) {
      const Req& h = requests_[waiting_.front()];
      need = ~u64{0};
      for (u64 j = 0; j < h.outputs.size(); ++j)
        if (!h.sample_done[j]) need = std::min(need, reservation(h, j));
    }
    u64 at = 0;
    auto hole = [&](u64 size) { (size < need ? k.external : k.free) += size; };
    for (const auto& [s, n] : spans_) {
      hole(s - at);
      at = s + n;
    }
    hole(c_.budget_tokens - at);
  } else {
    const u64 B = c_.block_size;
    for (const BlockView& b : blocks_) {
      if (b.ref_count == 0) continue;
      k.used += b.filled;
      ++st.physical_blocks;
    }
    // Only last blocks have empty slots. Those the sequence will still fill are reserved, the rest
    // (past its final length) internal fragmentation. A shared, partly filled prompt block will be
    // filled by the last sample to write into it: reserved, counted once.
    std::set<u64> shared_seen;
    for (const Seq& s : seqs_) {
      st.logical_blocks += blocks_for(s.len, B);
      if (s.table.empty()) continue;
      const BlockView& last = blocks_[s.table.back()];
      const u64 empty = B - last.filled;
      if (last.ref_count > 1) {
        if (shared_seen.insert(s.table.back()).second) k.reserved += empty;
        continue;
      }
      const u64 later = std::min(empty, s.final_len - s.len);
      k.reserved += later;
      k.internal += empty - later;
    }
    k.free = free_blocks_.size() * B;
    k.external = c_.budget_tokens - total_blocks_ * B;  // the budget's tail after whole blocks
  }
  last_ = st;

  ServeMetrics& m = metrics_;
  ++m.steps;
  m.max_running_seqs = std::max(m.max_running_seqs, st.running_seqs);
  m.all.add(st);
  if (st.waiting > 0) m.loaded.add(st);
}

ServeSnapshot ServeSim::snapshot() const {
  ServeSnapshot s;
  s.step = last_.step;
  s.scheme = c_.scheme;
  s.block_size = c_.block_size;
  s.blocks = blocks_;
  for (const Seq& q : seqs_) {
    s.running.push_back({q.request, q.sample, q.len, q.final_len, q.table});
    if (c_.scheme == AllocScheme::contiguous)
      s.spans.push_back({q.span_start, q.span_size, q.request, q.sample, q.len, q.final_len});
  }
  std::sort(s.spans.begin(), s.spans.end(), [](const SpanView& a, const SpanView& b) { return a.start < b.start; });
  s.waiting = waiting_;
  s.stats = last_;
  return s;
}

void SlotSums::add(const ServeStepStats& s) {
  ++steps;
  running_seqs += s.running_seqs;
  used += s.slots.used;
  reserved += s.slots.reserved;
  internal += s.slots.internal;
  external += s.slots.external;
  free += s.slots.free;
  logical_blocks += s.logical_blocks;
  physical_blocks += s.physical_blocks;
}

double SlotSums::avg_batch() const { return steps == 0 ? 0 : to_double(running_seqs) / static_cast<double>(steps); }

double SlotSums::share(u128 part, u64 budget) const {
  return steps == 0 || budget == 0 ? 0 : to_double(part) / (static_cast<double>(steps) * static_cast<double>(budget));
}

double SlotSums::waste() const {
  u128 wasted = reserved + internal + external;
  u128 held = wasted + used;
  return held == 0 ? 0 : to_double(wasted) / to_double(held);
}

double SlotSums::sharing_saving() const {
  return logical_blocks == 0 ? 0 : 1.0 - to_double(physical_blocks) / to_double(logical_blocks);
}

ServeMetrics serve_run(const ServeConfig& c, const std::vector<ServeRequest>& requests) {
  ServeSim sim(c, requests);
  // Every admitted request finishes (its worst case fits the budget), so the run ends; the bound
  // only guards against a bug turning into a hang.
  u64 bound = 0;
  for (const auto& r : requests)
    for (u64 o : r.outputs) bound += o + 1;
  bound = bound * 4 + 1000000;
  while (!sim.done()) {
    if (sim.metrics().steps > bound) throw std::runtime_error("paged simulation did not finish (a bug)");
    sim.step();
  }
  return sim.metrics();
}

}  // namespace attnlab

namespace attnlab {

const SlotSums& serve_under_load(const ServeMetrics& m) { return m.loaded.steps > 0 ? m.loaded : m.all; }

u64 serve_budget_from_gib(double gib, u128 bytes_per_token, std::string_view option) {
  if (!(gib > 0) || gib > 1e6) throw InputError(fmt::format("{} must be more than 0 and at most 1000000 (got {})", option, gib));
  if (bytes_per_token == 0) throw InputError(fmt::format("{}: the model caches no bytes per token", option));
  const u64 budget = to_u64(static_cast<u128>(gib * 1073741824.0) / bytes_per_token, "KV budget in token slots");
  if (budget == 0) throw InputError(fmt::format("{} {} holds less than one token of {} bytes", option, gib, to_string_u128(bytes_per_token)));
  return budget;
}

}  // namespace attnlab
