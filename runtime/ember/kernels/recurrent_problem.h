// recurrent_problem.h - the operands of a whole-sequence recurrent kernel
// (lstm.h, gru.h).
#pragma once

#include <cstdint>

namespace ember::kernels {

// One problem: contiguous row-major arrays x [T, B, I], w_ih [GH, I],
// w_hh [GH, H], b_ih and b_hh [GH] (G gates: the LSTM's 4, the GRU's 3),
// and the initial states [B, H]: h0 (null: zeros) and, for the LSTM, c0.
template <typename T>
struct RecurrentProblem {
  int64_t steps, batch, input, hidden;
  const T *x, *w_ih, *w_hh, *b_ih, *b_hh, *h0 = nullptr, *c0 = nullptr;
};

}  // namespace ember::kernels
