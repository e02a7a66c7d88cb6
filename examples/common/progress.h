// progress.h - one updating progress line for long runs, and small helpers
// the examples share (flags, accuracy).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ember/ember.h"

namespace examples {

// --name value flags: `flag(argc, argv, "--epochs", 10)`.
inline int flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return fallback;
}
inline std::string flag(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}
inline bool has_flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

// Rewrites one line on a terminal (\r), prints plain lines otherwise (logs, CI).
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  template <typename... Args>
  void update(const char* fmt, Args... args) {
    char line[256];
    std::snprintf(line, sizeof line, fmt, args...);
    std::fprintf(stderr, tty_ ? "\r%-100s" : "%s\n", line);
    std::fflush(stderr);
  }
  void done() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

// Fraction of rows whose argmax is the label.
inline double accuracy(const ember::Tensor& logits, const ember::Tensor& labels) {
  ember::NoGradGuard no_grad;
  return logits.argmax(1).eq(labels).to(ember::DType::Float64).mean().item<double>();
}

}  // namespace examples
