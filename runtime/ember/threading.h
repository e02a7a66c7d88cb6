// threading.h - parallel_for over the one OpenMP pool that OpenBLAS shares.
//
// Note [One thread pool]
// Kernels use OpenMP, and ember links Debian's OpenMP build of OpenBLAS, so
// BLAS and the kernels run on the same libgomp threads. Two pools (pthread
// OpenBLAS beside OpenMP) fought over the 2 cores and cost PyTorch 2-3x on
// mlp_train. set_num_threads() sets both together.
#pragma once

#include <omp.h>

#include <cstdint>

namespace ember {

void set_num_threads(int n);
int get_num_threads();

// Below this many elements a loop runs on the calling thread: starting the
// pool costs more than it saves.
inline constexpr int64_t kParallelGrain = 32768;

namespace detail {
int active_threads(int64_t work, int64_t grain);
}

// Note [Every thread's OpenMP count]
// omp_set_num_threads() sets only the calling thread's count; a thread the
// user starts (a server's client thread) begins with OpenMP's default (all
// cores). oneDNN forks that many workers, and OpenBLAS resets its own global
// count to the caller's. So before calling into either, a thread adopts
// ember's count: one thread-local compare when it already has.
void adopt_thread_count();

// Calls fn(begin, end) on disjoint chunks covering [begin, end).
template <typename Fn>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const Fn& fn) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int threads = detail::active_threads(n, grain);
  if (threads <= 1) {
    fn(begin, end);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num();
    const int64_t chunk = (n + threads - 1) / threads;
    const int64_t b = begin + t * chunk;
    const int64_t e = b + chunk < end ? b + chunk : end;
    if (b < e) fn(b, e);
  }
}

}  // namespace ember
