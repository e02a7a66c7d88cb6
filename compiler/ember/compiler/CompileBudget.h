// CompileBudget.h - bounds on one compile's time, memory and code size, and
// the per-stage clock that checks them (no MLIR in this header).
//
// Note [A compile never runs away silently]
// A graph the pipeline handles badly (once: a 3-D `linear` that unrolled
// into millions of LLVM instructions, then grew to 24 GB inside LLVM's
// instruction selection) must not take the process with it. Every stage
// boundary checks the wall time and the growth of resident memory since the
// compile began, and before LLVM's -O3 and instruction selection (the
// stages whose cost grows fastest with code size, and which cannot be
// interrupted) the size of the LLVM-dialect module. Past a bound the compile
// is an ember::Error naming the stage and the user's line whose ops are the
// largest share of the module; jit::compile then runs that signature
// eagerly, saying so. A compile that has taken more than a second prints a
// progress line per stage, so a long compile is never a silent one.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ember/error.h"

namespace ember::compiler {

struct CompileBudget {
  // Wall time of the whole compile (trace excluded).
  double seconds = 120;
  // Growth of the process's resident memory during the compile.
  int64_t memory_mb = 4096;
  // Ops of the LLVM-dialect module handed to LLVM. The GPT training step of
  // examples/common/gpt.h is about 21 k (1.4 s of -O3 and machine code on
  // an AMD Zen 5); the runaway above was tens of millions.
  int64_t llvm_ops = 400'000;
  // Print a line per stage once a compile has run this long (negative: never).
  double progress_after_seconds = 1.0;
};

// The clock of one compile: stage times, budget checks, progress lines.
class CompileClock {
 public:
  // `what` names the compile in progress lines ("graph of 412 ops").
  CompileClock(const CompileBudget& budget, std::string what, const Loc& loc);

  // A stage ended: records its time, prints progress, checks time and
  // memory. `largest_source` is asked only on failure: the user's line with
  // the most ops at this point ("gpt.cpp:41 (62% of 90 k ops)").
  template <typename Largest>
  void stage_done(const char* stage, Largest largest_source) {
    if (const std::string over = record(stage); !over.empty()) fail(stage, over, largest_source());
  }
  // Before LLVM: the module's size against the budget, and a progress line
  // announcing the stage when the compile is already slow or big.
  template <typename Largest>
  void before_llvm(int64_t llvm_ops, Largest largest_source) {
    llvm_ops_ = llvm_ops;
    if (const std::string over = check_size(); !over.empty()) fail("LLVM dialect", over, largest_source());
  }

  double total_ms() const;
  int64_t llvm_ops() const { return llvm_ops_; }
  const std::vector<std::pair<std::string, double>>& stage_ms() const { return stage_ms_; }

 private:
  std::string record(const char* stage);
  std::string check_size();
  [[noreturn]] void fail(const char* stage, const std::string& over, const std::string& largest) const;

  CompileBudget budget_;
  std::string what_;
  Loc loc_;
  std::chrono::steady_clock::time_point start_, stage_start_;
  int64_t start_rss_mb_ = 0;
  int64_t llvm_ops_ = 0;
  bool announced_ = false;
  std::vector<std::pair<std::string, double>> stage_ms_;
};

// The process's resident memory, in MiB (from /proc/self/statm).
int64_t resident_mb();

}  // namespace ember::compiler
