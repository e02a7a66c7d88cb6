// OpenMPShim.cpp - see OpenMPShim.h. The subset LLVM 19 emits for a
// parallel region with a statically scheduled loop: fork_call, the static
// loop bounds, the barrier and the thread number.
#include "ember/compiler/OpenMPShim.h"

#include <omp.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>

#include "ember/threading.h"

namespace {

using Microtask = void (*)(int32_t*, int32_t*, ...);

constexpr int kMaxArguments = 8;  // LLVM passes the shared values as one struct pointer

extern "C" void ember_kmpc_fork_call(void*, int32_t argc, Microtask task, ...) {
  argc = std::clamp<int32_t>(argc, 0,
                             kMaxArguments);  // LLVM 19 passes 1 (no exception may cross generated frames)
  void* a[kMaxArguments] = {};
  va_list list;
  va_start(list, task);
  for (int32_t i = 0; i < argc; ++i) a[i] = va_arg(list, void*);
  va_end(list);
#pragma omp parallel num_threads(ember::get_num_threads())
  {
    int32_t global = omp_get_thread_num(), bound = global;
    switch (argc) {
      case 0:
        task(&global, &bound);
        break;
      case 1:
        task(&global, &bound, a[0]);
        break;
      case 2:
        task(&global, &bound, a[0], a[1]);
        break;
      case 3:
        task(&global, &bound, a[0], a[1], a[2]);
        break;
      case 4:
        task(&global, &bound, a[0], a[1], a[2], a[3]);
        break;
      case 5:
        task(&global, &bound, a[0], a[1], a[2], a[3], a[4]);
        break;
      case 6:
        task(&global, &bound, a[0], a[1], a[2], a[3], a[4], a[5]);
        break;
      case 7:
        task(&global, &bound, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        break;
      default:
        task(&global, &bound, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
        break;
    }
  }
}

extern "C" int32_t ember_kmpc_global_thread_num(void*) { return omp_get_thread_num(); }

// Static schedule without chunks: thread t gets the t-th of equal contiguous
// blocks of [*lower, *upper] (inclusive); an empty block is upper + 1 .. upper.
template <typename T, typename S>
void static_init(int32_t* last, T* lower, T* upper, S* stride) {
  const T first = *lower, end = *upper;
  const T count = end - first + 1;
  const T threads = static_cast<T>(omp_get_num_threads()), t = static_cast<T>(omp_get_thread_num());
  const T block = (count + threads - 1) / threads;
  const T begin = first + std::min<T>(t * block, count);
  const T stop = first + std::min<T>((t + 1) * block, count);  // exclusive
  *lower = begin;
  *upper = stop - 1;  // begin == stop: empty (upper = lower - 1)
  *last = begin < stop && stop == first + count;
  *stride = static_cast<S>(count);
}

extern "C" void ember_kmpc_for_static_init_8u(void*, int32_t, int32_t, int32_t* last, uint64_t* lower,
                                              uint64_t* upper, int64_t* stride, int64_t, int64_t) {
  static_init(last, lower, upper, stride);
}
extern "C" void ember_kmpc_for_static_init_8(void*, int32_t, int32_t, int32_t* last, int64_t* lower,
                                             int64_t* upper, int64_t* stride, int64_t, int64_t) {
  static_init(last, lower, upper, stride);
}
extern "C" void ember_kmpc_for_static_init_4u(void*, int32_t, int32_t, int32_t* last, uint32_t* lower,
                                              uint32_t* upper, int32_t* stride, int32_t, int32_t) {
  static_init(last, lower, upper, stride);
}
extern "C" void ember_kmpc_for_static_init_4(void*, int32_t, int32_t, int32_t* last, int32_t* lower,
                                             int32_t* upper, int32_t* stride, int32_t, int32_t) {
  static_init(last, lower, upper, stride);
}
extern "C" void ember_kmpc_for_static_fini(void*, int32_t) {}
extern "C" void ember_kmpc_barrier(void*, int32_t) {
#pragma omp barrier
}

}  // namespace

namespace ember::compiler {

std::vector<std::pair<std::string, void*>> openmp_shim_symbols() {
  return {{"__kmpc_fork_call", reinterpret_cast<void*>(&ember_kmpc_fork_call)},
          {"__kmpc_global_thread_num", reinterpret_cast<void*>(&ember_kmpc_global_thread_num)},
          {"__kmpc_for_static_init_8u", reinterpret_cast<void*>(&ember_kmpc_for_static_init_8u)},
          {"__kmpc_for_static_init_8", reinterpret_cast<void*>(&ember_kmpc_for_static_init_8)},
          {"__kmpc_for_static_init_4u", reinterpret_cast<void*>(&ember_kmpc_for_static_init_4u)},
          {"__kmpc_for_static_init_4", reinterpret_cast<void*>(&ember_kmpc_for_static_init_4)},
          {"__kmpc_for_static_fini", reinterpret_cast<void*>(&ember_kmpc_for_static_fini)},
          {"__kmpc_barrier", reinterpret_cast<void*>(&ember_kmpc_barrier)}};
}

}  // namespace ember::compiler
