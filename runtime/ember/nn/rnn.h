// rnn.h - recurrent layers: LSTMCell, LSTM, GRUCell and GRU (LSTM and GRU:
// one or more layers over a [T, B, F] sequence), with PyTorch's gate layout and init
// (every weight and bias ~ U(-1/sqrt(hidden), 1/sqrt(hidden))).
//
//   nn::LSTM lstm(/*input_size=*/32, /*hidden_size=*/64, /*num_layers=*/2);
//   auto [out, state] = lstm.forward(x);          // x [T, B, 32] -> out [T, B, 64]
//
// The sequence length may differ from call to call. Each layer of LSTM
// (GRU) is one lstm (gru) op over the whole sequence (Note [Fused LSTM],
// Note [Fused GRU]), so a compiled one takes a changing length as a `?` dim
// instead of a new graph.
#pragma once

#include <utility>

#include "ember/nn/module.h"

namespace ember::nn {

struct LSTMState {
  Tensor h, c;  // [B, hidden] for a cell, [num_layers, B, hidden] for LSTM
};

class LSTMCell : public Module {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  // One step: x [B, input] and the previous state (zeros when undefined).
  LSTMState forward(const Tensor& x, const LSTMState& state = {});
  LSTMState operator()(const Tensor& x, const LSTMState& state = {}, const Loc& loc = Loc::current());
  std::string extra_repr() const override;
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // [4*hidden, input], [4*hidden, hidden]; gates i, f, g, o
  int64_t input_size, hidden_size;
};

class LSTM : public Module {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true);
  // x [T, B, input]; returns the last layer's outputs [T, B, hidden] and the
  // final state of every layer. Forward hooks see x and the outputs.
  std::pair<Tensor, LSTMState> forward(const Tensor& x, const LSTMState& state = {},
                                       const Loc& loc = Loc::current());
  std::string extra_repr() const override;
  int64_t input_size, hidden_size, num_layers;
  std::vector<std::shared_ptr<LSTMCell>> cells;
};

class GRUCell : public Module {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  Tensor forward(const Tensor& x, const Tensor& h = {});
  Tensor operator()(const Tensor& x, const Tensor& h = {}, const Loc& loc = Loc::current());
  std::string extra_repr() const override;
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // gates r, z, n
  int64_t input_size, hidden_size;
};

class GRU : public Module {
 public:
  GRU(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true);
  // x [T, B, input] and the initial h of every layer [num_layers, B, hidden]
  // (zeros when undefined); returns the last layer's outputs [T, B, hidden]
  // and the final h of every layer. Forward hooks see x and the outputs.
  std::pair<Tensor, Tensor> forward(const Tensor& x, const Tensor& h0 = {}, const Loc& loc = Loc::current());
  std::string extra_repr() const override;
  int64_t input_size, hidden_size, num_layers;
  std::vector<std::shared_ptr<GRUCell>> cells;
};

}  // namespace ember::nn
