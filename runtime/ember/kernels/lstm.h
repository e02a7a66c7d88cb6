// lstm.h - the whole-sequence LSTM kernel of eager and compiled code alike.
//
// Note [Fused LSTM]
// nn::LSTM's recurrence is one op (OpId::lstm), not a loop of cell ops in
// the caller: a trace of a loop unrolls it, so every new sequence length
// was a new graph, where as one op a new length is a new size of one dim
// (`?` T, Note [Automatic dynamic dims]). The kernel runs the time loop:
// the input projection of every step is one GEMM over all T*B rows (the
// steps do not depend on each other there), then each step adds
// h[t-1] W_hh^T (a [B, H] x [H, 4H] GEMM) and applies the gates (PyTorch's
// order i, f, g, o):
//   c[t] = sigmoid(f) c[t-1] + sigmoid(i) tanh(g),  h[t] = sigmoid(o) tanh(c[t]).
// It writes h of every step (out) and, per step and row, the gates i, f,
// g, o after their activations and c (`gates`, [T, B, 5H]: c is its last
// H, which the lstm op's API returns as the cells); the backward reads
// them instead of recomputing the pre-activations (two GEMMs over all rows
// and the activations), runs the reverse loop (one [B, 4H] x [4H, H] GEMM
// per step for the gradient that reaches h[t-1]), and gets the gradients
// of x and the weights as three GEMMs over all rows.
//
// Compiled code calls the entry points below on its buffers (the external
// calls of compiler/RecurrentCalls.cpp), so a compiled LSTM is this kernel bit
// for bit, at any T and B read from the descriptors at run time.
#pragma once

#include <cstdint>

#include "ember/kernels/attention.h"  // MemRef
#include "ember/kernels/recurrent_problem.h"

namespace ember::kernels {

inline constexpr int64_t kLstmState = 1;     // bit of `flags`: h0 and c0 are given (else zeros)
inline constexpr int64_t kLstmCellGrad = 2;  // bit of `flags`: a gradient of `gates` is given

// w_ih [4H, I], w_hh [4H, H], h0 and c0 (both or neither).
template <typename T>
using LstmProblem = RecurrentProblem<T>;

// out [T, B, H] = h of every step; gates [T, B, 5H] = i, f, g, o and c of
// every step.
template <typename T>
void lstm_forward(const LstmProblem<T>& p, T* out, T* gates);

// From the gradients of out and (if not null) gates (whose c part only is
// read: the cells' gradient): dx [T, B, I], and
// dparams = dW_ih [4H, I], dW_hh [4H, H], db [4H] (the gradient of both
// biases), then (if h0 is given) dh0 [B, H] and dc0 [B, H], one after another.
template <typename T>
void lstm_backward(const LstmProblem<T>& p, const T* out, const T* gates, const T* grad_out,
                   const T* grad_gates, T* dx, T* dparams);

// The length of lstm_backward's dparams.
inline int64_t lstm_param_grads(int64_t batch, int64_t input, int64_t hidden, bool state) {
  return 4 * hidden * (input + hidden + 1) + (state ? 2 * batch * hidden : 0);
}

}  // namespace ember::kernels

extern "C" {
// Operands as MLIR's strided memref descriptors (C interface); h0 and c0
// are read only with kLstmState, grad_gates only with kLstmCellGrad.
#define EMBER_LSTM_ENTRIES(T, suffix)                                                   \
  void _mlir_ciface_ember_lstm_##suffix(                                                \
      ember::kernels::MemRef<T, 3>* x, ember::kernels::MemRef<T, 2>* w_ih,              \
      ember::kernels::MemRef<T, 2>* w_hh, ember::kernels::MemRef<T, 1>* b_ih,           \
      ember::kernels::MemRef<T, 1>* b_hh, ember::kernels::MemRef<T, 2>* h0,             \
      ember::kernels::MemRef<T, 2>* c0, ember::kernels::MemRef<T, 3>* out,              \
      ember::kernels::MemRef<T, 3>* gates, int64_t flags);                              \
  void _mlir_ciface_ember_lstm_backward_##suffix(                                       \
      ember::kernels::MemRef<T, 3>* grad_out, ember::kernels::MemRef<T, 3>* grad_gates, \
      ember::kernels::MemRef<T, 3>* x, ember::kernels::MemRef<T, 2>* w_ih,              \
      ember::kernels::MemRef<T, 2>* w_hh, ember::kernels::MemRef<T, 1>* b_ih,           \
      ember::kernels::MemRef<T, 1>* b_hh, ember::kernels::MemRef<T, 3>* out,            \
      ember::kernels::MemRef<T, 3>* gates, ember::kernels::MemRef<T, 2>* h0,            \
      ember::kernels::MemRef<T, 2>* c0, ember::kernels::MemRef<T, 3>* dx,               \
      ember::kernels::MemRef<T, 1>* dparams, int64_t flags);
EMBER_LSTM_ENTRIES(float, f32)
EMBER_LSTM_ENTRIES(double, f64)
#undef EMBER_LSTM_ENTRIES
}
