// workloads.h - the benchmark workloads of shared/bench/WORKLOADS.md.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ember::bench {

// What one iteration runs, and what it cost to get there (compiled mode).
struct Prepared {
  std::function<void()> run;
  double compile_ms = -1;  // < 0: not compiled
};

struct Workload {
  std::string name;
  std::string description;
  // Builds the inputs for `mode` ("eager" or "compiled"); throws ember::Error
  // when the mode cannot run this workload yet.
  std::function<Prepared(const std::string& mode)> prepare;
  // Adds workload-specific fields to the result line (e.g. us_per_op),
  // given the median time of one iteration.
  std::function<void(nlohmann::json& line, double median_ms, int iters)> extra;
};

const std::vector<Workload>& workloads();

// Times `iteration`: `warmup` untimed runs, then `iters` timed; returns the
// per-iteration times in milliseconds.
std::vector<double> time_iterations(const std::function<void()>& iteration, int warmup, int iters);

}  // namespace ember::bench
