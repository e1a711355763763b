// simulate_traffic as a run done in slices. The L2 model of one length can take a second; a
// caller that has one thread and must keep drawing (the dashboard, above all in the browser,
// which has no threads) advances the run a few milliseconds per frame and shows its progress.
// simulate_traffic() is the same run done in one call, so the bytes are the same to the last one.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/traffic.hpp"

namespace attnlab {

class TrafficRun {
 public:
  // Validates the config and chooses every algorithm's tiles first (InputError, as
  // simulate_traffic), then plans every kernel; nothing is simulated yet.
  TrafficRun(const AttnConfig& c, const GpuSpec& gpu, const std::vector<Algo>& algos, const TrafficOptions& opt = {});
  ~TrafficRun();
  TrafficRun(TrafficRun&&) noexcept;
  TrafficRun& operator=(TrafficRun&&) noexcept;

  // Advances by about `work` units (an event emitted or sent through the L2); true when done.
  // Throws what simulate_traffic throws.
  bool step(u64 work);
  // Advances for about `seconds` of wall time (checked every few thousand events); true when done.
  // Never throws: an error ends the run with error() set and no report.
  bool step_for(double seconds);

  bool done() const;
  // 0 before the first event, 1 only when done(); in between, the share of the planned events.
  double progress() const;
  const AttnConfig& config() const;
  // The finished report; nullptr while the run is unfinished or failed: a partial count is never
  // handed out as a number.
  const TrafficReport* report() const;
  const std::string& error() const;
  // The report, moved out; std::logic_error if the run is not done or failed.
  TrafficReport take();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Several configs simulated one after another in slices: a curve, one run per point (the traffic
// panel's DRAM bytes vs N). Each run is planned when its turn comes.
class TrafficSweep {
 public:
  TrafficSweep() = default;
  TrafficSweep(std::vector<AttnConfig> configs, const GpuSpec& gpu, std::vector<Algo> algos, const TrafficOptions& opt = {});

  // Advances the runs in order for about `seconds` of wall time (at least one slice); true when
  // all are done. Never throws: a run that fails leaves its point empty and error() set.
  bool step_for(double seconds);
  size_t size() const { return configs_.size(); }
  size_t done() const { return reports_.size(); }
  // One per finished run, in config order; nullopt where the run failed. Unfinished runs have none.
  const std::vector<std::optional<TrafficReport>>& reports() const { return reports_; }
  // The run under way (nullptr when all are done) and how far it is (0..1).
  const AttnConfig* current() const { return done() < size() ? &configs_[done()] : nullptr; }
  double current_progress() const { return run_ ? run_->progress() : 0.0; }
  const std::string& error() const { return error_; }  // the first failure's message

 private:
  std::vector<AttnConfig> configs_;
  GpuSpec gpu_;
  std::vector<Algo> algos_;
  TrafficOptions opt_;
  std::optional<TrafficRun> run_;
  std::vector<std::optional<TrafficReport>> reports_;
  std::string error_;
};

}  // namespace attnlab
