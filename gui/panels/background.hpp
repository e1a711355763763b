// A sweep run off the UI thread: work(i) for i = 0..n-1 on one worker thread, results collected
// in order. The simulator's L2 model takes seconds for long sequences; the dashboard keeps
// drawing and fills the curve in as points arrive. Restarting (the learner moved a slider)
// abandons the old sweep after its current point. Screenshots run it synchronously, so the
// picture does not depend on timing.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace attnlab::gui {

template <typename R>
class Sweep {
 public:
  Sweep() = default;
  Sweep(const Sweep&) = delete;
  Sweep& operator=(const Sweep&) = delete;
  ~Sweep() {
    stop();
    for (auto& o : old_) o.thread.join();
  }

  // Starts a new sweep of `n` points (stopping the old one). `work` may throw: the point then
  // holds no value and error() tells why.
  void start(size_t n, std::function<R(size_t)> work, bool synchronous) {
    // The old sweep finishes its current point in the background; the UI does not wait for it.
    if (state_) state_->cancel = true;
    if (thread_.joinable()) old_.push_back({std::move(thread_), state_});
    std::erase_if(old_, [](Old& o) {
      if (!o.state->finished) return false;
      o.thread.join();
      return true;
    });
    state_ = std::make_shared<State>();
    state_->results.assign(n, std::nullopt);
    // Computes points from the first one not done, until the end or `budget_s` of wall time.
    auto run = [n, work = std::move(work)](State& state, double budget_s) {
      State* st = &state;
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t i = st->done; i < n && !st->cancel; ++i) {
        std::optional<R> r;
        std::string err;
        try {
          r = work(i);
        } catch (const std::exception& e) {
          err = e.what();
        }
        std::lock_guard<std::mutex> lock(st->m);
        st->results[i] = std::move(r);
        if (!err.empty() && st->error.empty()) st->error = err;
        st->done = i + 1;
        if (i + 1 < n && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > budget_s) return;
      }
      st->finished = true;
    };
    constexpr double all = 1e300;
    if (synchronous) {
      run(*state_, all);
    } else {
#ifdef __EMSCRIPTEN__
      // The browser page has one thread (threads there need cross-origin isolation headers, which
      // a plain static host does not send): the sweep advances a few milliseconds at a time,
      // whenever the panel looks at it, and the curve still fills in while the page stays live.
      state_->pump = [run](State& st) { run(st, 0.004); };
#else
      thread_ = std::thread([st = state_, run] { run(*st, all); });
#endif
    }
  }

  void stop() {
    if (state_) state_->cancel = true;
    if (thread_.joinable()) thread_.join();
  }

  // A copy of the results so far (nullopt = not computed yet, or failed).
  std::vector<std::optional<R>> results() const {
    if (!state_) return {};
    pump();
    std::lock_guard<std::mutex> lock(state_->m);
    return state_->results;
  }
  // The results so far without advancing the browser's sweep (the same as results() elsewhere):
  // the browser's frame stays short while the learner drags a slider.
  std::vector<std::optional<R>> results_so_far() const {
    if (!state_) return {};
    std::lock_guard<std::mutex> lock(state_->m);
    return state_->results;
  }
  size_t done() const {
    if (!state_) return 0;
    pump();
    std::lock_guard<std::mutex> lock(state_->m);
    return state_->done;
  }
  size_t size() const {
    if (!state_) return 0;
    std::lock_guard<std::mutex> lock(state_->m);
    return state_->results.size();
  }
  bool finished() const {
    pump();
    return state_ && state_->finished;
  }
  std::string error() const {
    if (!state_) return {};
    std::lock_guard<std::mutex> lock(state_->m);
    return state_->error;
  }

 private:
  struct State {
    mutable std::mutex m;
    std::vector<std::optional<R>> results;
    size_t done = 0;
    std::string error;
    std::atomic<bool> cancel{false};
    std::atomic<bool> finished{false};
    std::function<void(State&)> pump;  // the browser's sweep: the next few points (empty elsewhere)
  };
  void pump() const {
    if (state_ && state_->pump && !state_->finished) state_->pump(*state_);
  }
  struct Old {
    std::thread thread;
    std::shared_ptr<State> state;
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
  std::vector<Old> old_;  // cancelled sweeps still finishing their last point
};

}  // namespace attnlab::gui
