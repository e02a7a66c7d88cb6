// lstm.cpp - the whole-sequence LSTM, forward and backward (Note [Fused
// LSTM] in lstm.h), the eager kernels of the lstm ops and the entry points
// of compiled code.
#include "ember/kernels/lstm.h"

#include <algorithm>
#include <vector>

#include "ember/kernels/blas.h"
#include "ember/kernels/common.h"
#include "ember/kernels/recurrent.h"

namespace ember::kernels {
namespace {

using recurrent::scratch;
using recurrent::sigmoid_of;
using recurrent::tanh_of;

// The first 4H columns of rows [T*B, ld] = x W_ih^T + b_ih + b_hh: the
// input projection of every step.
template <typename T>
void input_projection(const LstmProblem<T>& p, T* gates, int64_t ld) {
  const int64_t rows = p.steps * p.batch, width = 4 * p.hidden;
  blas_gemm<T>(false, true, rows, width, p.input, T(1), p.x, p.input, p.w_ih, p.input, T(0), gates, ld);
  for (int64_t r = 0; r < rows; ++r) {
    T* row = gates + r * ld;
    for (int64_t j = 0; j < width; ++j) row[j] += p.b_ih[j] + p.b_hh[j];
  }
}

// One row of a step, in place: the row's pre-activations [4H] become the
// gates i, f, g, o and c (its last H: the row is 5H wide), h is written to
// h_out; c_prev is c[t-1]. Separate arrays (__restrict) and no branches, so
// the loop vectorizes: scalar, the gates were half of a char-LSTM's
// training step (5.1 against 2.85 ms vectorized, AMD EPYC Zen 5, 1 thread).
template <typename T>
void forward_gates(T* __restrict row, const T* __restrict c_prev, T* __restrict h_out, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const T i = sigmoid_of(row[j]), f = sigmoid_of(row[h + j]), g = tanh_of(row[2 * h + j]),
            o = sigmoid_of(row[3 * h + j]);
    const T c = f * c_prev[j] + i * g;
    row[j] = i, row[h + j] = f, row[2 * h + j] = g, row[3 * h + j] = o, row[4 * h + j] = c;
    h_out[j] = o * tanh_of(c);
  }
}

// One row of the reverse step: the pre-activations' gradient dg [4H] from
// the saved gates and c (row [5H]), c[t-1], the gradients reaching h[t]
// (dh) and c[t] (dc_in: from step t+1 and the cells' own), and the
// gradient passed on to c[t-1].
template <typename T>
void backward_gates(const T* __restrict row, const T* __restrict c_prev, const T* __restrict dh,
                    const T* __restrict dc_in, T* __restrict dg, T* __restrict dc_prev, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const T i = row[j], f = row[h + j], gg = row[2 * h + j], o = row[3 * h + j];
    const T tc = tanh_of(row[4 * h + j]);
    const T dc = dc_in[j] + dh[j] * o * (T(1) - tc * tc);
    dg[j] = dc * gg * i * (T(1) - i);
    dg[h + j] = dc * c_prev[j] * f * (T(1) - f);
    dg[2 * h + j] = dc * i * (T(1) - gg * gg);
    dg[3 * h + j] = dh[j] * tc * o * (T(1) - o);
    dc_prev[j] = dc * f;
  }
}

}  // namespace

template <typename T>
void lstm_forward(const LstmProblem<T>& p, T* out, T* gates) {
  const int64_t b = p.batch, h = p.hidden, width = 5 * h, step = b * h;
  if (p.steps * b == 0) return;
  T* zeros = scratch<T>(h);  // c[-1] without a state
  std::fill(zeros, zeros + h, T(0));
  input_projection(p, gates, width);
  for (int64_t t = 0; t < p.steps; ++t) {
    T* g = gates + t * b * width;
    const T* h_prev = t > 0 ? out + (t - 1) * step : p.h0;
    if (h_prev && h > 0) blas_gemm<T>(false, true, b, 4 * h, h, T(1), h_prev, h, p.w_hh, h, T(1), g, width);
    for (int64_t r = 0; r < b; ++r) {
      const T* c_prev = t > 0 ? gates + ((t - 1) * b + r) * width + 4 * h : p.c0 ? p.c0 + r * h : zeros;
      forward_gates(g + r * width, c_prev, out + t * step + r * h, h);
    }
  }
}

template <typename T>
void lstm_backward(const LstmProblem<T>& p, const T* out, const T* gates, const T* grad_out,
                   const T* grad_gates, T* dx, T* dparams) {
  const int64_t n = p.steps, b = p.batch, in = p.input, h = p.hidden, width = 4 * h, saved = 5 * h,
                step = b * h;
  T *dw_ih = dparams, *dw_hh = dw_ih + width * in, *db = dw_hh + width * h;
  T *dh0 = db + width, *dc0 = dh0 + step;  // only with h0
  std::fill(dparams, dparams + lstm_param_grads(b, in, h, p.h0 != nullptr), T(0));
  if (n * b == 0) return;
  T* dgates = scratch<T>(n * b * width + 4 * step + h);
  T *dh_next = dgates + n * b * width, *dc_next = dh_next + step, *dh = dc_next + step, *dc_in = dh + step,
    *zeros = dc_in + step;
  std::fill(zeros, zeros + h, T(0));
  std::fill(dh_next, dh_next + 2 * step, T(0));
  for (int64_t t = n - 1; t >= 0; --t) {
    T* dg = dgates + t * b * width;
    // The gradients reaching h[t] and c[t]: from the output, the cells'
    // own (the last H of each row of grad_gates), and step t+1.
    for (int64_t r = 0; r < b; ++r)
      for (int64_t j = 0; j < h; ++j) {
        const int64_t k = r * h + j;
        dh[k] = grad_out[t * step + k] + dh_next[k];
        dc_in[k] = dc_next[k] + (grad_gates ? grad_gates[(t * b + r) * saved + 4 * h + j] : T(0));
      }
    for (int64_t r = 0; r < b; ++r) {
      const T* c_prev = t > 0 ? gates + ((t - 1) * b + r) * saved + 4 * h : p.c0 ? p.c0 + r * h : zeros;
      backward_gates(gates + (t * b + r) * saved, c_prev, dh + r * h, dc_in + r * h, dg + r * width,
                     dc_next + r * h, h);
    }
    // The gradient that reaches h[t-1]: dgates[t] W_hh.
    blas_gemm<T>(false, false, b, h, width, T(1), dg, width, p.w_hh, h, T(0), dh_next, h);
  }
  if (p.h0) {
    std::copy(dh_next, dh_next + step, dh0);
    std::copy(dc_next, dc_next + step, dc0);
  }
  const int64_t rows = n * b;
  if (in > 0) {
    blas_gemm<T>(false, false, rows, in, width, T(1), dgates, width, p.w_ih, in, T(0), dx, in);
    blas_gemm<T>(true, false, width, in, rows, T(1), dgates, width, p.x, in, T(0), dw_ih, in);
  }
  if (n > 1)
    blas_gemm<T>(true, false, width, h, (n - 1) * b, T(1), dgates + b * width, width, out, h, T(0), dw_hh, h);
  if (p.h0) blas_gemm<T>(true, false, width, h, b, T(1), dgates, width, p.h0, h, T(1), dw_hh, h);
  recurrent::add_column_sums(dgates, rows, width, db);
}

template void lstm_forward<float>(const LstmProblem<float>&, float*, float*);
template void lstm_forward<double>(const LstmProblem<double>&, double*, double*);
template void lstm_backward<float>(const LstmProblem<float>&, const float*, const float*, const float*,
                                   const float*, float*, float*);
template void lstm_backward<double>(const LstmProblem<double>&, const double*, const double*, const double*,
                                    const double*, double*, double*);

// --- eager kernels ---------------------------------------------------------

namespace {

using recurrent::data_of;

// inputs x, w_ih, w_hh, b_ih, b_hh[, h0, c0].
template <typename T>
void forward_typed(const OpCall& c) {
  std::vector<Tensor> keep;
  const LstmProblem<T> p = recurrent::problem_of<T>(c.inputs, c.num_inputs - 5, keep);
  lstm_forward(p, static_cast<T*>(c.outputs[0].data_ptr()), static_cast<T*>(c.outputs[1].data_ptr()));
}

void lstm_eager(const OpCall& c) {
  recurrent::run_typed(c, [&]<typename T>() { forward_typed<T>(c); });
}

// inputs grad_out, x, w_ih, w_hh, b_ih, b_hh, out, gates[, h0, c0][, grad_gates]
// (the count says which: 8 + 2 with the state, + 1 with the gates' gradient).
template <typename T>
void backward_typed(const OpCall& c) {
  const bool state = c.num_inputs >= 10, cell_grad = c.num_inputs % 2 == 1;
  std::vector<Tensor> forward_inputs{c.inputs[1], c.inputs[2], c.inputs[3], c.inputs[4], c.inputs[5]};
  if (state) forward_inputs.insert(forward_inputs.end(), {c.inputs[8], c.inputs[9]});
  std::vector<Tensor> keep;
  const LstmProblem<T> p = recurrent::problem_of<T>(forward_inputs.data(), state ? 2 : 0, keep);
  const Tensor grad_out = contiguous(c.inputs[0]), out = contiguous(c.inputs[6]),
               gates = contiguous(c.inputs[7]);
  const Tensor grad_gates = cell_grad ? contiguous(c.inputs[c.num_inputs - 1]) : Tensor();
  lstm_backward(p, data_of<T>(out), data_of<T>(gates), data_of<T>(grad_out),
                cell_grad ? data_of<T>(grad_gates) : nullptr, static_cast<T*>(c.outputs[0].data_ptr()),
                static_cast<T*>(c.outputs[1].data_ptr()));
}

void lstm_backward_eager(const OpCall& c) {
  recurrent::run_typed(c, [&]<typename T>() { backward_typed<T>(c); });
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_lstm_kernels(OpRegistry& r) {
  r.forward(OpId::lstm, &kernels::lstm_eager);
  r.forward(OpId::lstm_backward, &kernels::lstm_backward_eager);
}
}  // namespace ember

// --- entry points of compiled code ---------------------------------------------

namespace {

using ember::kernels::MemRef;

using ember::kernels::recurrent::Operands;
using ember::kernels::recurrent::packed;

template <typename T>
void forward_entry(MemRef<T, 3>* x, MemRef<T, 2>* w_ih, MemRef<T, 2>* w_hh, MemRef<T, 1>* b_ih,
                   MemRef<T, 1>* b_hh, MemRef<T, 2>* h0, MemRef<T, 2>* c0, MemRef<T, 3>* out,
                   MemRef<T, 3>* gates, int64_t flags) {
  const Operands<T> o(x, w_ih, w_hh, b_ih, b_hh, h0, c0, flags & ember::kernels::kLstmState);
  // out and gates are the lowering's own fresh (row-major) buffers.
  ember::kernels::lstm_forward(o.problem, out->data(), gates->data());
}

template <typename T>
void backward_entry(MemRef<T, 3>* grad_out, MemRef<T, 3>* grad_gates, MemRef<T, 3>* x, MemRef<T, 2>* w_ih,
                    MemRef<T, 2>* w_hh, MemRef<T, 1>* b_ih, MemRef<T, 1>* b_hh, MemRef<T, 3>* out,
                    MemRef<T, 3>* gates, MemRef<T, 2>* h0, MemRef<T, 2>* c0, MemRef<T, 3>* dx,
                    MemRef<T, 1>* dparams, int64_t flags) {
  const Operands<T> o(x, w_ih, w_hh, b_ih, b_hh, h0, c0, flags & ember::kernels::kLstmState);
  std::vector<T> copies[4];
  const T* gc = flags & ember::kernels::kLstmCellGrad ? packed(*grad_gates, copies[3]) : nullptr;
  // dx and dparams are the lowering's own fresh buffers.
  ember::kernels::lstm_backward(o.problem, packed(*out, copies[0]), packed(*gates, copies[1]),
                                packed(*grad_out, copies[2]), gc, dx->data(), dparams->data());
}

}  // namespace

#define EMBER_LSTM_ENTRY(T, suffix)                                                                       \
  void _mlir_ciface_ember_lstm_##suffix(                                                                  \
      MemRef<T, 3>* x, MemRef<T, 2>* w_ih, MemRef<T, 2>* w_hh, MemRef<T, 1>* b_ih, MemRef<T, 1>* b_hh,    \
      MemRef<T, 2>* h0, MemRef<T, 2>* c0, MemRef<T, 3>* out, MemRef<T, 3>* gates, int64_t flags) {        \
    forward_entry<T>(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, gates, flags);                               \
  }                                                                                                       \
  void _mlir_ciface_ember_lstm_backward_##suffix(                                                         \
      MemRef<T, 3>* grad_out, MemRef<T, 3>* grad_gates, MemRef<T, 3>* x, MemRef<T, 2>* w_ih,              \
      MemRef<T, 2>* w_hh, MemRef<T, 1>* b_ih, MemRef<T, 1>* b_hh, MemRef<T, 3>* out, MemRef<T, 3>* gates, \
      MemRef<T, 2>* h0, MemRef<T, 2>* c0, MemRef<T, 3>* dx, MemRef<T, 1>* dparams, int64_t flags) {       \
    backward_entry<T>(grad_out, grad_gates, x, w_ih, w_hh, b_ih, b_hh, out, gates, h0, c0, dx, dparams,   \
                      flags);                                                                             \
  }

extern "C" {
EMBER_LSTM_ENTRY(float, f32)
EMBER_LSTM_ENTRY(double, f64)
}
