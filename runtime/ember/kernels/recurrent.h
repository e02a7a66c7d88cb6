// recurrent.h - what the whole-sequence recurrent kernels (lstm.cpp,
// gru.cpp) share: the float gate activations that vectorize, per-thread
// scratch, and compiled code's operands as contiguous arrays.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ember/dtype.h"
#include "ember/kernels/attention.h"  // MemRef
#include "ember/kernels/common.h"
#include "ember/kernels/recurrent_problem.h"
#include "ember/kernels/vec_math.h"

namespace ember::kernels::recurrent {

template <typename T>
EMBER_VEC_INLINE T sigmoid_of(T x) {  // inlined so that the gate loops vectorize
  if constexpr (std::is_same_v<T, float>)
    return vec::sigmoid(x);
  else
    return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
EMBER_VEC_INLINE T tanh_of(T x) {
  if constexpr (std::is_same_v<T, float>)
    return vec::tanh(x);
  else
    return std::tanh(x);
}

// A scratch array per thread that only grows: after the first call at the
// largest size, a step allocates nothing. (The kernels using it call no
// other kernel that does, so one array serves them all.)
template <typename T>
T* scratch(int64_t n) {
  thread_local std::vector<T> buffer;
  if (int64_t(buffer.size()) < n) buffer.resize(n);
  return buffer.data();
}

// The descriptor's elements as a contiguous row-major array: its own data
// when it is one (every buffer the lowerings pass, in practice), else a
// packed copy kept in `copy`.
template <typename T, int N>
const T* packed(const MemRef<T, N>& m, std::vector<T>& copy) {
  int64_t expected = 1, count = 1;
  bool contiguous = true;
  for (int i = N - 1; i >= 0; --i) {
    contiguous = contiguous && (m.sizes[i] <= 1 || m.strides[i] == expected);
    expected *= m.sizes[i];
    count *= m.sizes[i];
  }
  if (contiguous) return m.data();
  copy.resize(count);
  int64_t index[N] = {};
  for (int64_t e = 0; e < count; ++e) {
    int64_t at = 0;
    for (int i = 0; i < N; ++i) at += index[i] * m.strides[i];
    copy[e] = m.data()[at];
    for (int i = N - 1; i >= 0 && ++index[i] == m.sizes[i]; --i) index[i] = 0;
  }
  return copy.data();
}

template <typename T>
const T* data_of(const Tensor& t) {
  return static_cast<const T*>(t.data_ptr());
}

// sums[j] += m[r, j] over the rows of m [rows, width]: the biases' gradients.
template <typename T>
void add_column_sums(const T* m, int64_t rows, int64_t width, T* sums) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < width; ++j) sums[j] += m[r * width + j];
}

// The problem of eager operands x, w_ih, w_hh, b_ih, b_hh and `states`
// states (contiguous copies where needed; `keep` holds them alive).
template <typename T>
RecurrentProblem<T> problem_of(const Tensor* inputs, int states, std::vector<Tensor>& keep) {
  for (int i = 0; i < 5 + states; ++i) keep.push_back(contiguous(inputs[i]));
  const auto data = [&](int i) { return i < int(keep.size()) ? data_of<T>(keep[i]) : nullptr; };
  return {keep[0].size(0), keep[0].size(1), keep[0].size(2), keep[2].size(1), data(0), data(1),
          data(2),         data(3),         data(4),         data(5),         data(6)};
}

// The problem of compiled code's descriptors; the states are read only
// when `state` (c0 may be null: the GRU has none).
template <typename T>
struct Operands {
  std::vector<T> copies[7];
  RecurrentProblem<T> problem;
  Operands(MemRef<T, 3>* x, MemRef<T, 2>* w_ih, MemRef<T, 2>* w_hh, MemRef<T, 1>* b_ih, MemRef<T, 1>* b_hh,
           MemRef<T, 2>* h0, MemRef<T, 2>* c0, bool state) {
    problem = {x->sizes[0],
               x->sizes[1],
               x->sizes[2],
               w_hh->sizes[1],
               packed(*x, copies[0]),
               packed(*w_ih, copies[1]),
               packed(*w_hh, copies[2]),
               packed(*b_ih, copies[3]),
               packed(*b_hh, copies[4]),
               state ? packed(*h0, copies[5]) : nullptr,
               state && c0 ? packed(*c0, copies[6]) : nullptr};
  }
};

// f.template operator()<float or double>() by `dtype`: an eager kernel's
// one switch from a tensor's dtype to its element type.
template <typename F>
void with_float_type(DType dtype, F&& f) {
  if (dtype == DType::Float64)
    f.template operator()<double>();
  else
    f.template operator()<float>();
}

// Allocates the call's outputs and runs kernel.template operator()<T>()
// for the float type T of its first input.
template <typename F>
void run_typed(const OpCall& c, F&& kernel) {
  allocate_outputs(c);
  with_float_type(c.inputs[0].dtype(), kernel);
}

}  // namespace ember::kernels::recurrent
