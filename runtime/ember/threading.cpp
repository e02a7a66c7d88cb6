// threading.cpp - the thread count of the kernels and OpenBLAS; see
// Note [One thread pool].
#include "ember/threading.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <thread>

extern "C" void openblas_set_num_threads(int);

namespace ember {
namespace {
int initial_threads() {
  if (const char* env = std::getenv("EMBER_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores ? static_cast<int>(cores) : 1;
}

// Read by every kernel on every thread, set by set_num_threads: atomic.
std::atomic<int>& threads() {
  static std::atomic<int> n = [] {
    const int t = initial_threads();
    openblas_set_num_threads(t);
    omp_set_num_threads(t);
    return t;
  }();
  return n;
}
}  // namespace

void set_num_threads(int n) {
  if (n < 1) n = 1;
  threads().store(n, std::memory_order_relaxed);
  openblas_set_num_threads(n);
  omp_set_num_threads(n);
}

int get_num_threads() { return threads().load(std::memory_order_relaxed); }

void adopt_thread_count() {
  thread_local int adopted = -1;
  const int n = get_num_threads();
  if (adopted != n) {
    omp_set_num_threads(n);
    adopted = n;
  }
}

namespace detail {
int active_threads(int64_t work, int64_t grain) {
  if (omp_in_parallel()) return 1;
  const int t = threads().load(std::memory_order_relaxed);
  const int64_t by_work = work / (grain > 0 ? grain : 1);
  return static_cast<int>(by_work < t ? (by_work < 1 ? 1 : by_work) : t);
}
}  // namespace detail

}  // namespace ember
