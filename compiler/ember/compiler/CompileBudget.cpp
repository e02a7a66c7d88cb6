// CompileBudget.cpp - see CompileBudget.h.
#include "ember/compiler/CompileBudget.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace ember::compiler {

// About a second of LLVM -O3 and machine code (0.067 ms per LLVM-dialect
// op for the GPT training step on an AMD Zen 5: 1.4 s for 21 k ops):
// announced before it starts.
constexpr int64_t kSlowLLVMOps = 15000;

int64_t resident_mb() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return static_cast<int64_t>(pages_resident) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

CompileClock::CompileClock(const CompileBudget& budget, std::string what, const Loc& loc)
    : budget_(budget),
      what_(std::move(what)),
      loc_(loc),
      start_(std::chrono::steady_clock::now()),
      stage_start_(start_),
      start_rss_mb_(resident_mb()) {}

double CompileClock::total_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
}

std::string CompileClock::record(const char* stage) {
  const auto now = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(now - stage_start_).count();
  stage_ms_.emplace_back(stage, ms);
  stage_start_ = now;
  const double total = total_ms();
  const int64_t grown = resident_mb() - start_rss_mb_;
  if (budget_.progress_after_seconds >= 0 && total >= budget_.progress_after_seconds * 1000) {
    std::cerr << "ember: compiling " << what_ << " (" << format_loc(loc_) << "): " << stage << " took "
              << static_cast<int64_t>(ms) << " ms, " << static_cast<int64_t>(total) << " ms so far, memory +"
              << grown << " MiB\n";
    announced_ = true;
  }
  std::ostringstream over;
  if (total > budget_.seconds * 1000)
    over << "its time budget of " << budget_.seconds << " s is spent (" << static_cast<int64_t>(total)
         << " ms)";
  else if (grown > budget_.memory_mb)
    over << "resident memory grew by " << grown << " MiB, over its budget of " << budget_.memory_mb << " MiB";
  return over.str();
}

std::string CompileClock::check_size() {
  std::ostringstream over;
  if (llvm_ops_ > budget_.llvm_ops) {
    over << "the LLVM-dialect module has " << llvm_ops_ << " ops, over its budget of " << budget_.llvm_ops
         << " (LLVM's -O3 and instruction selection grow faster than that)";
    return over.str();
  }
  if (announced_ || (budget_.progress_after_seconds >= 0 && llvm_ops_ > kSlowLLVMOps))
    std::cerr << "ember: compiling " << what_ << " (" << format_loc(loc_)
              << "): LLVM -O3 and machine code for " << llvm_ops_ << " LLVM ops...\n";
  return {};
}

void CompileClock::fail(const char* stage, const std::string& over, const std::string& largest) const {
  throw_error("compile: stopped after stage '" + std::string(stage) + "': " + over +
                  (largest.empty() ? std::string() : "; most of the code comes from " + largest) +
                  " (jit::Options::budget, compiler::CompileBudget)",
              loc_);
}

}  // namespace ember::compiler
