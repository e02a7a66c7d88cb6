// strided_loop.h - iterating N operands over one broadcast shape.
//
// Like a small TensorIterator: each operand's strides are broadcast to the
// loop shape (stride 0 where it is broadcast), dimensions that are contiguous
// across every operand are merged, and the loop calls an inner function with
// one pointer and one byte stride per operand for each run of the innermost
// dimension. Kernels specialize the inner function for unit and zero strides,
// which the compiler vectorizes. Large loops are split across threads.
#pragma once

#include <cstdint>

#include "ember/tensor.h"
#include "ember/threading.h"

namespace ember::kernels {

template <int N>
struct StridedLoop {
  int ndim = 0;
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];  // bytes
  char* base[N];
  int64_t numel = 1;

  // operands[0] is written; all must broadcast to `shape`.
  StridedLoop(const Shape& shape, const Tensor* const (&operands)[N]) {
    const int64_t nd = shape.ndim();
    for (int k = 0; k < N; ++k) base[k] = static_cast<char*>(operands[k]->data_ptr());
    // Fill from the innermost dim, skipping size-1 dims; merge when every
    // operand is contiguous across the pair.
    int64_t tmp_sizes[kMaxDims];
    int64_t tmp_strides[N][kMaxDims];
    int n = 0;
    for (int64_t d = nd - 1; d >= 0; --d) {
      const int64_t size = shape[d];
      numel *= size;
      if (size == 1) continue;
      int64_t st[N];
      for (int k = 0; k < N; ++k) {
        const Tensor& t = *operands[k];
        const int64_t td = d - (nd - t.dim());
        st[k] = (td < 0 || t.sizes()[td] == 1) ? 0 : t.strides()[td] * int64_t(t.itemsize());
      }
      bool merge = n > 0;
      for (int k = 0; k < N && merge; ++k) merge = st[k] == tmp_strides[k][n - 1] * tmp_sizes[n - 1];
      if (merge) {
        tmp_sizes[n - 1] *= size;
      } else {
        tmp_sizes[n] = size;
        for (int k = 0; k < N; ++k) tmp_strides[k][n] = st[k];
        ++n;
      }
    }
    // Store outermost first.
    ndim = n;
    for (int i = 0; i < n; ++i) {
      sizes[i] = tmp_sizes[n - 1 - i];
      for (int k = 0; k < N; ++k) strides[k][i] = tmp_strides[k][n - 1 - i];
    }
  }

  // Calls inner(ptrs, inner_strides, count) for every run in the flat range
  // [begin, end) of the loop's elements.
  template <typename Inner>
  void run_range(int64_t begin, int64_t end, const Inner& inner) const {
    if (ndim == 0) {
      char* p[N];
      for (int k = 0; k < N; ++k) p[k] = base[k];
      const int64_t zero[N] = {};
      if (begin < end) inner(p, zero, int64_t{1});
      return;
    }
    const int last = ndim - 1;
    int64_t inner_strides[N];
    for (int k = 0; k < N; ++k) inner_strides[k] = strides[k][last];
    // Multi-index of `begin`.
    int64_t idx[kMaxDims];
    int64_t rem = begin;
    for (int d = last; d >= 0; --d) {
      idx[d] = rem % sizes[d];
      rem /= sizes[d];
    }
    int64_t pos = begin;
    while (pos < end) {
      char* p[N];
      for (int k = 0; k < N; ++k) {
        int64_t off = 0;
        for (int d = 0; d <= last; ++d) off += idx[d] * strides[k][d];
        p[k] = base[k] + off;
      }
      int64_t count = sizes[last] - idx[last];
      if (count > end - pos) count = end - pos;
      inner(p, inner_strides, count);
      pos += count;
      idx[last] += count;
      for (int d = last; d > 0 && idx[d] == sizes[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
      }
    }
  }

  template <typename Inner>
  void run(const Inner& inner, int64_t grain = kParallelGrain) const {
    parallel_for(0, numel, grain, [&](int64_t b, int64_t e) { run_range(b, e, inner); });
  }
};

}  // namespace ember::kernels
