// rnn.cpp - LSTM and GRU cells written with ember ops (autograd, hooks and
// tracing need nothing else), and LSTM and GRU over whole sequences, one
// lstm or gru op per layer.
#include "ember/nn/rnn.h"

#include <cmath>

#include "ember/nn/init.h"
#include "ember/ops.h"

namespace ember::nn {

namespace {
// Registers the four recurrent weights, initialized as PyTorch does.
void make_weights(int64_t gates, int64_t input, int64_t hidden, bool bias, Tensor& w_ih, Tensor& w_hh,
                  Tensor& b_ih, Tensor& b_hh, const std::function<Tensor(const std::string&, Tensor)>& reg) {
  const double bound = 1.0 / std::sqrt(double(hidden));
  w_ih = reg("weight_ih", empty({gates * hidden, input}));
  w_hh = reg("weight_hh", empty({gates * hidden, hidden}));
  init::uniform_(w_ih, -bound, bound);
  init::uniform_(w_hh, -bound, bound);
  if (bias) {
    b_ih = reg("bias_ih", empty({gates * hidden}));
    b_hh = reg("bias_hh", empty({gates * hidden}));
    init::uniform_(b_ih, -bound, bound);
    init::uniform_(b_hh, -bound, bound);
  }
}

std::string sizes_repr(int64_t in, int64_t hidden) {
  return std::to_string(in) + ", " + std::to_string(hidden);
}

std::string layers_repr(int64_t in, int64_t hidden, int64_t layers) {
  return sizes_repr(in, hidden) + ", num_layers=" + std::to_string(layers);
}

// One cell per layer, registered (by `reg`) as layer0, layer1, ...
template <typename Cell, typename Register>
std::vector<std::shared_ptr<Cell>> make_layers(const char* name, int64_t in, int64_t hidden, int64_t layers,
                                               bool bias, Register reg) {
  EMBER_CHECK(layers >= 1, Loc::current(), name, ": num_layers must be at least 1, got ", layers);
  std::vector<std::shared_ptr<Cell>> cells;
  for (int64_t l = 0; l < layers; ++l)
    cells.push_back(
        reg("layer" + std::to_string(l), std::make_shared<Cell>(l == 0 ? in : hidden, hidden, bias)));
  return cells;
}

void check_input(const char* name, const Tensor& x, int64_t input_size) {
  EMBER_CHECK(x.dim() == 2 && x.size(1) == input_size, Loc::current(), name, ": expected input [B, ",
              input_size, "], got ", x.sizes());
}
}  // namespace

LSTMCell::LSTMCell(int64_t in, int64_t hidden, bool bias)
    : Module("LSTMCell"), input_size(in), hidden_size(hidden) {
  make_weights(4, in, hidden, bias, weight_ih, weight_hh, bias_ih, bias_hh,
               [this](const std::string& n, Tensor t) { return register_parameter(n, t); });
}

LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) {
  check_input("LSTMCell", x, input_size);
  const int64_t b = x.size(0);
  const Tensor h = state.h.defined() ? state.h : zeros({b, hidden_size}, x.dtype());
  const Tensor c = state.c.defined() ? state.c : zeros({b, hidden_size}, x.dtype());
  const Tensor gates = linear(x, weight_ih, bias_ih) + linear(h, weight_hh, bias_hh);
  const auto g = chunk(gates, 4, 1);
  const Tensor next_c = g[1].sigmoid() * c + g[0].sigmoid() * g[2].tanh();
  const Tensor next_h = g[3].sigmoid() * next_c.tanh();
  return {next_h, next_c};
}

LSTMState LSTMCell::operator()(const Tensor& x, const LSTMState& state, const Loc& loc) {
  LSTMState out;
  call_with_hooks(
      {x},
      [&] {
        out = forward(x, state);
        return out.h;
      },
      loc);
  return out;
}

std::string LSTMCell::extra_repr() const { return sizes_repr(input_size, hidden_size); }

LSTM::LSTM(int64_t in, int64_t hidden, int64_t layers, bool bias)
    : Module("LSTM"), input_size(in), hidden_size(hidden), num_layers(layers) {
  cells = make_layers<LSTMCell>("LSTM", in, hidden, layers, bias,
                                [this](const std::string& n, auto cell) { return register_module(n, cell); });
}

// Each layer is one lstm op over the whole sequence (Note [Fused LSTM]):
// a trace records one op per layer at any length, so a new length is a new
// size of dim 0, not a new graph.
std::pair<Tensor, LSTMState> LSTM::forward(const Tensor& x, const LSTMState& state, const Loc& loc) {
  EMBER_CHECK(x.dim() == 3 && x.size(2) == input_size, loc, "LSTM: expected input [T, B, ", input_size,
              "], got ", x.sizes());
  EMBER_CHECK(state.h.defined() == state.c.defined(), loc,
              "LSTM: give both h and c of the state, or neither");
  LSTMState final_state;
  Tensor out = call_with_hooks(
      {x},
      [&] {
        Tensor layer_input = x;
        std::vector<Tensor> hs, cs;
        for (int64_t l = 0; l < num_layers; ++l) {
          const LSTMCell& cell = *cells[l];
          const bool given = state.h.defined();
          auto [h, c] = lstm(layer_input, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
                             given ? state.h[l] : Tensor(), given ? state.c[l] : Tensor(), loc);
          hs.push_back(h[-1]);
          cs.push_back(c[-1]);
          layer_input = h;
        }
        final_state = {stack(hs, 0), stack(cs, 0)};
        return layer_input;
      },
      loc);
  return {out, final_state};
}

std::string LSTM::extra_repr() const { return layers_repr(input_size, hidden_size, num_layers); }

GRUCell::GRUCell(int64_t in, int64_t hidden, bool bias)
    : Module("GRUCell"), input_size(in), hidden_size(hidden) {
  make_weights(3, in, hidden, bias, weight_ih, weight_hh, bias_ih, bias_hh,
               [this](const std::string& n, Tensor t) { return register_parameter(n, t); });
}

// PyTorch's GRU: r = sig(Wir x + Whr h), z = sig(Wiz x + Whz h),
// n = tanh(Win x + r * (Whn h)), h' = (1 - z) * n + z * h.
Tensor GRUCell::forward(const Tensor& x, const Tensor& h0) {
  check_input("GRUCell", x, input_size);
  const Tensor h = h0.defined() ? h0 : zeros({x.size(0), hidden_size}, x.dtype());
  const auto gi = chunk(linear(x, weight_ih, bias_ih), 3, 1);
  const auto gh = chunk(linear(h, weight_hh, bias_hh), 3, 1);
  const Tensor r = (gi[0] + gh[0]).sigmoid();
  const Tensor z = (gi[1] + gh[1]).sigmoid();
  const Tensor n = (gi[2] + r * gh[2]).tanh();
  return (1 - z) * n + z * h;
}

Tensor GRUCell::operator()(const Tensor& x, const Tensor& h, const Loc& loc) {
  return call_with_hooks(
      {x}, [&] { return forward(x, h); }, loc);
}

std::string GRUCell::extra_repr() const { return sizes_repr(input_size, hidden_size); }

GRU::GRU(int64_t in, int64_t hidden, int64_t layers, bool bias)
    : Module("GRU"), input_size(in), hidden_size(hidden), num_layers(layers) {
  cells = make_layers<GRUCell>("GRU", in, hidden, layers, bias,
                               [this](const std::string& n, auto cell) { return register_module(n, cell); });
}

// Each layer is one gru op over the whole sequence (Note [Fused GRU]).
std::pair<Tensor, Tensor> GRU::forward(const Tensor& x, const Tensor& h0, const Loc& loc) {
  EMBER_CHECK(x.dim() == 3 && x.size(2) == input_size, loc, "GRU: expected input [T, B, ", input_size,
              "], got ", x.sizes());
  Tensor final_h;
  Tensor out = call_with_hooks(
      {x},
      [&] {
        Tensor layer_input = x;
        std::vector<Tensor> hs;
        for (int64_t l = 0; l < num_layers; ++l) {
          const GRUCell& cell = *cells[l];
          layer_input = gru(layer_input, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
                            h0.defined() ? h0[l] : Tensor(), loc);
          hs.push_back(layer_input[-1]);
        }
        final_h = stack(hs, 0);
        return layer_input;
      },
      loc);
  return {out, final_h};
}

std::string GRU::extra_repr() const { return layers_repr(input_size, hidden_size, num_layers); }

}  // namespace ember::nn
