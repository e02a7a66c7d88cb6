// gru.cpp - the whole-sequence GRU, forward and backward (Note [Fused GRU]
// in gru.h), the eager kernels of the gru ops and the entry points of
// compiled code.
#include "ember/kernels/gru.h"

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

// One row of a step. In: `row` [4H] holds the input projection of r, z, n
// (x W_ih^T + b_ih), `hp` [3H] = h[t-1] W_hh^T. Out: the row holds r, z, n
// and W_hn h[t-1] + b_hn; h[t] goes to h_out. Separate arrays (__restrict)
// and no branches, so the loop vectorizes (Note [Fused LSTM] says why).
template <typename T>
void forward_gates(T* __restrict row, const T* __restrict hp, const T* __restrict b_hh,
                   const T* __restrict h_prev, T* __restrict h_out, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const T r = sigmoid_of(row[j] + hp[j] + b_hh[j]);
    const T z = sigmoid_of(row[h + j] + hp[h + j] + b_hh[h + j]);
    const T hn = hp[2 * h + j] + b_hh[2 * h + j];
    const T n = tanh_of(row[2 * h + j] + r * hn);
    row[j] = r, row[h + j] = z, row[2 * h + j] = n, row[3 * h + j] = hn;
    h_out[j] = (T(1) - z) * n + z * h_prev[j];
  }
}

// One row of the reverse step: from the saved r, z, n, hn (row [4H]),
// h[t-1] and the gradient reaching h[t] (dh): the gradients of the input
// projection's pre-activations (dgx [3H]), of the hidden projection's
// (dgh [3H]: n's is r times dgx's, the product inside n), and the part of
// h[t-1]'s gradient that does not pass through W_hh (z dh).
template <typename T>
void backward_gates(const T* __restrict row, const T* __restrict h_prev, const T* __restrict dh,
                    T* __restrict dgx, T* __restrict dgh, T* __restrict dh_prev, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const T r = row[j], z = row[h + j], n = row[2 * h + j], hn = row[3 * h + j];
    const T dn = dh[j] * (T(1) - z) * (T(1) - n * n);
    const T dz = dh[j] * (h_prev[j] - n) * z * (T(1) - z);
    const T dr = dn * hn * r * (T(1) - r);
    dgx[j] = dr, dgx[h + j] = dz, dgx[2 * h + j] = dn;
    dgh[j] = dr, dgh[h + j] = dz, dgh[2 * h + j] = dn * r;
    dh_prev[j] = dh[j] * z;
  }
}

}  // namespace

template <typename T>
void gru_forward(const GruProblem<T>& p, T* out, T* gates) {
  const int64_t b = p.batch, h = p.hidden, width = 4 * h, step = b * h, rows = p.steps * b;
  if (rows == 0) return;
  T* hp = scratch<T>(b * 3 * h + h);
  T* zeros = hp + b * 3 * h;  // h[-1] without a state
  std::fill(zeros, zeros + h, T(0));
  blas_gemm<T>(false, true, rows, 3 * h, p.input, T(1), p.x, p.input, p.w_ih, p.input, T(0), gates, width);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < 3 * h; ++j) gates[r * width + j] += p.b_ih[j];
  for (int64_t t = 0; t < p.steps; ++t) {
    const T* h_prev = t > 0 ? out + (t - 1) * step : p.h0;
    if (h_prev && h > 0)
      blas_gemm<T>(false, true, b, 3 * h, h, T(1), h_prev, h, p.w_hh, h, T(0), hp, 3 * h);
    else
      std::fill(hp, hp + b * 3 * h, T(0));
    for (int64_t r = 0; r < b; ++r)
      forward_gates(gates + (t * b + r) * width, hp + r * 3 * h, p.b_hh, h_prev ? h_prev + r * h : zeros,
                    out + t * step + r * h, h);
  }
}

template <typename T>
void gru_backward(const GruProblem<T>& p, const T* out, const T* gates, const T* grad_out, T* dx,
                  T* dparams) {
  const int64_t n = p.steps, b = p.batch, in = p.input, h = p.hidden, width = 3 * h, saved = 4 * h,
                step = b * h, rows = n * b;
  T *dw_ih = dparams, *dw_hh = dw_ih + width * in, *db_ih = dw_hh + width * h, *db_hh = db_ih + width;
  T* dh0 = db_hh + width;  // only with h0
  std::fill(dparams, dparams + gru_param_grads(b, in, h, p.h0 != nullptr), T(0));
  if (rows == 0) return;
  T* dgx = scratch<T>(2 * rows * width + 2 * step + h);
  T *dgh = dgx + rows * width, *dh_next = dgh + rows * width, *dh = dh_next + step, *zeros = dh + step;
  std::fill(zeros, zeros + h, T(0));
  std::fill(dh_next, dh_next + step, T(0));
  for (int64_t t = n - 1; t >= 0; --t) {
    for (int64_t k = 0; k < step; ++k) dh[k] = grad_out[t * step + k] + dh_next[k];
    const T* h_prev = t > 0 ? out + (t - 1) * step : p.h0;
    for (int64_t r = 0; r < b; ++r)
      backward_gates(gates + (t * b + r) * saved, h_prev ? h_prev + r * h : zeros, dh + r * h,
                     dgx + (t * b + r) * width, dgh + (t * b + r) * width, dh_next + r * h, h);
    // The rest of the gradient that reaches h[t-1]: dgh[t] W_hh.
    blas_gemm<T>(false, false, b, h, width, T(1), dgh + t * b * width, width, p.w_hh, h, T(1), dh_next, h);
  }
  if (p.h0) std::copy(dh_next, dh_next + step, dh0);
  if (in > 0) {
    blas_gemm<T>(false, false, rows, in, width, T(1), dgx, width, p.w_ih, in, T(0), dx, in);
    blas_gemm<T>(true, false, width, in, rows, T(1), dgx, width, p.x, in, T(0), dw_ih, in);
  }
  if (n > 1)
    blas_gemm<T>(true, false, width, h, (n - 1) * b, T(1), dgh + b * width, width, out, h, T(0), dw_hh, h);
  if (p.h0) blas_gemm<T>(true, false, width, h, b, T(1), dgh, width, p.h0, h, T(1), dw_hh, h);
  recurrent::add_column_sums(dgx, rows, width, db_ih);
  recurrent::add_column_sums(dgh, rows, width, db_hh);
}

template void gru_forward<float>(const GruProblem<float>&, float*, float*);
template void gru_forward<double>(const GruProblem<double>&, double*, double*);
template void gru_backward<float>(const GruProblem<float>&, const float*, const float*, const float*, float*,
                                  float*);
template void gru_backward<double>(const GruProblem<double>&, const double*, const double*, const double*,
                                   double*, double*);

// --- eager kernels ---------------------------------------------------------

namespace {

// inputs x, w_ih, w_hh, b_ih, b_hh[, h0].
template <typename T>
void forward_typed(const OpCall& c) {
  std::vector<Tensor> keep;
  const GruProblem<T> p = recurrent::problem_of<T>(c.inputs, c.num_inputs - 5, keep);
  gru_forward(p, static_cast<T*>(c.outputs[0].data_ptr()), static_cast<T*>(c.outputs[1].data_ptr()));
}

// inputs grad_out, x, w_ih, w_hh, b_ih, b_hh, out, gates[, h0].
template <typename T>
void backward_typed(const OpCall& c) {
  const bool state = c.num_inputs == 9;
  std::vector<Tensor> forward_inputs{c.inputs[1], c.inputs[2], c.inputs[3], c.inputs[4], c.inputs[5]};
  if (state) forward_inputs.push_back(c.inputs[8]);
  std::vector<Tensor> keep;
  const GruProblem<T> p = recurrent::problem_of<T>(forward_inputs.data(), state ? 1 : 0, keep);
  const Tensor grad_out = contiguous(c.inputs[0]), out = contiguous(c.inputs[6]),
               gates = contiguous(c.inputs[7]);
  gru_backward(p, recurrent::data_of<T>(out), recurrent::data_of<T>(gates), recurrent::data_of<T>(grad_out),
               static_cast<T*>(c.outputs[0].data_ptr()), static_cast<T*>(c.outputs[1].data_ptr()));
}

void gru_eager(const OpCall& c) {
  recurrent::run_typed(c, [&]<typename T>() { forward_typed<T>(c); });
}

void gru_backward_eager(const OpCall& c) {
  recurrent::run_typed(c, [&]<typename T>() { backward_typed<T>(c); });
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_gru_kernels(OpRegistry& r) {
  r.forward(OpId::gru, &kernels::gru_eager);
  r.forward(OpId::gru_backward, &kernels::gru_backward_eager);
}
}  // namespace ember

// --- entry points of compiled code ---------------------------------------------

namespace {

using ember::kernels::MemRef;
using ember::kernels::recurrent::Operands;
using ember::kernels::recurrent::packed;

}  // namespace

// out, gates, dx and dparams are the lowering's own fresh (row-major) buffers.
#define EMBER_GRU_ENTRY(T, suffix)                                                                           \
  void _mlir_ciface_ember_gru_##suffix(MemRef<T, 3>* x, MemRef<T, 2>* w_ih, MemRef<T, 2>* w_hh,              \
                                       MemRef<T, 1>* b_ih, MemRef<T, 1>* b_hh, MemRef<T, 2>* h0,             \
                                       MemRef<T, 3>* out, MemRef<T, 3>* gates, int64_t flags) {              \
    const Operands<T> o(x, w_ih, w_hh, b_ih, b_hh, h0, nullptr, flags& ember::kernels::kGruState);           \
    ember::kernels::gru_forward(o.problem, out->data(), gates->data());                                      \
  }                                                                                                          \
  void _mlir_ciface_ember_gru_backward_##suffix(MemRef<T, 3>* grad_out, MemRef<T, 3>* x, MemRef<T, 2>* w_ih, \
                                                MemRef<T, 2>* w_hh, MemRef<T, 1>* b_ih, MemRef<T, 1>* b_hh,  \
                                                MemRef<T, 3>* out, MemRef<T, 3>* gates, MemRef<T, 2>* h0,    \
                                                MemRef<T, 3>* dx, MemRef<T, 1>* dparams, int64_t flags) {    \
    const Operands<T> o(x, w_ih, w_hh, b_ih, b_hh, h0, nullptr, flags& ember::kernels::kGruState);           \
    std::vector<T> copies[3];                                                                                \
    ember::kernels::gru_backward(o.problem, packed(*out, copies[0]), packed(*gates, copies[1]),              \
                                 packed(*grad_out, copies[2]), dx->data(), dparams->data());                 \
  }

extern "C" {
EMBER_GRU_ENTRY(float, f32)
EMBER_GRU_ENTRY(double, f64)
}
