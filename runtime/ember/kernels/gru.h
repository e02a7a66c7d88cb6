// gru.h - the whole-sequence GRU kernel of eager and compiled code alike.
//
// Note [Fused GRU]
// nn::GRU's recurrence is one op (OpId::gru), for the reason the LSTM's is
// (Note [Fused LSTM]): a changing sequence length is then a `?` dim, not a
// new graph. PyTorch's gates, in its order r, z, n:
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r (W_hn h + b_hn))
//   h' = (1 - z) n + z h
// The input projection of every step is one GEMM over all T*B rows; each
// step then computes h[t-1] W_hh^T (a [B, H] x [H, 3H] GEMM) and applies
// the gates. Unlike the LSTM's, the two biases are not one sum (b_hn is
// inside r's product), so they get different gradients. The kernel keeps,
// per step and row, r, z, n and W_hn h + b_hn (`gates`, [T, B, 4H]): the
// backward needs all four and recomputes nothing. The backward runs the
// reverse loop (one [B, 3H] x [3H, H] GEMM per step) and then gets the
// gradients of x and of the weights as GEMMs over all rows.
//
// Compiled code calls the entry points below (compiler/RecurrentCalls.cpp).
#pragma once

#include <cstdint>

#include "ember/kernels/attention.h"  // MemRef
#include "ember/kernels/recurrent_problem.h"

namespace ember::kernels {

inline constexpr int64_t kGruState = 1;  // bit of `flags`: h0 is given (else zeros)

// w_ih [3H, I], w_hh [3H, H], h0 (c0 unused).
template <typename T>
using GruProblem = RecurrentProblem<T>;

// out [T, B, H] = h of every step; gates [T, B, 4H] = r, z, n and
// W_hn h[t-1] + b_hn of every step.
template <typename T>
void gru_forward(const GruProblem<T>& p, T* out, T* gates);

// From the gradient of out: dx [T, B, I], and dparams = dW_ih [3H, I],
// dW_hh [3H, H], db_ih [3H], db_hh [3H], then (if h0 is given) dh0 [B, H],
// one after another.
template <typename T>
void gru_backward(const GruProblem<T>& p, const T* out, const T* gates, const T* grad_out, T* dx, T* dparams);

// The length of gru_backward's dparams.
inline int64_t gru_param_grads(int64_t batch, int64_t input, int64_t hidden, bool state) {
  return 3 * hidden * (input + hidden + 2) + (state ? batch * hidden : 0);
}

}  // namespace ember::kernels

extern "C" {
// Operands as MLIR's strided memref descriptors (C interface); h0 is read
// only with kGruState.
#define EMBER_GRU_ENTRIES(T, suffix)                                                          \
  void _mlir_ciface_ember_gru_##suffix(                                                       \
      ember::kernels::MemRef<T, 3>* x, ember::kernels::MemRef<T, 2>* w_ih,                    \
      ember::kernels::MemRef<T, 2>* w_hh, ember::kernels::MemRef<T, 1>* b_ih,                 \
      ember::kernels::MemRef<T, 1>* b_hh, ember::kernels::MemRef<T, 2>* h0,                   \
      ember::kernels::MemRef<T, 3>* out, ember::kernels::MemRef<T, 3>* gates, int64_t flags); \
  void _mlir_ciface_ember_gru_backward_##suffix(                                              \
      ember::kernels::MemRef<T, 3>* grad_out, ember::kernels::MemRef<T, 3>* x,                \
      ember::kernels::MemRef<T, 2>* w_ih, ember::kernels::MemRef<T, 2>* w_hh,                 \
      ember::kernels::MemRef<T, 1>* b_ih, ember::kernels::MemRef<T, 1>* b_hh,                 \
      ember::kernels::MemRef<T, 3>* out, ember::kernels::MemRef<T, 3>* gates,                 \
      ember::kernels::MemRef<T, 2>* h0, ember::kernels::MemRef<T, 3>* dx,                     \
      ember::kernels::MemRef<T, 1>* dparams, int64_t flags);
EMBER_GRU_ENTRIES(float, f32)
EMBER_GRU_ENTRIES(double, f64)
#undef EMBER_GRU_ENTRIES
}
