// layers_test.cpp - each layer's forward against a hand computation, its
// gradients by gradcheck (float64, small shapes, parameters included), and
// the train/eval behaviour of dropout and batch norm.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

namespace ember::nn {
namespace {

// Gradcheck of a layer w.r.t. its input and every parameter, in float64.
void check_layer_gradients(Module& m, const std::function<Tensor(const Tensor&)>& run, Tensor x) {
  m.to(DType::Float64);
  x = x.to(DType::Float64).requires_grad_();
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return run(in[0]); }, inputs));
}

TEST(Layers, LinearMatchesMatmulAndHasPyTorchInit) {
  manual_seed(0);
  Linear fc(20, 30);
  const double bound = 1 / std::sqrt(20.0);
  EXPECT_LE(fc.weight.abs().max().item<double>(), bound);
  EXPECT_LE(fc.bias.abs().max().item<double>(), bound);
  EXPECT_GT(fc.weight.abs().max().item<double>(), 0.9 * bound) << "fills the range";
  Tensor x = randn({4, 20});
  const auto got = fc(x).to_vector<double>();
  const auto want = (x.matmul(fc.weight.t()) + fc.bias).to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5);
  EXPECT_EQ(fc(randn({2, 3, 20})).sizes(), (Shape{2, 3, 30})) << "leading dims pass through";
  EXPECT_THROW(fc(randn({4, 21})), Error);
  Linear small(3, 2);
  check_layer_gradients(
      small, [&](const Tensor& t) { return small(t); }, randn({2, 3}));
}

TEST(Layers, Conv2dPoolFlatten) {
  manual_seed(1);
  Conv2d conv(2, 3, 3, /*stride=*/1, /*padding=*/1);
  EXPECT_EQ(conv.weight.sizes(), (Shape{3, 2, 3, 3}));
  EXPECT_LE(conv.weight.abs().max().item<double>(), 1 / std::sqrt(18.0));
  Tensor x = randn({2, 2, 6, 6});
  EXPECT_EQ(conv(x).sizes(), (Shape{2, 3, 6, 6}));
  EXPECT_EQ(MaxPool2d(2)(x).sizes(), (Shape{2, 2, 3, 3}));
  EXPECT_EQ(AvgPool2d(3, 1, 1)(x).sizes(), (Shape{2, 2, 6, 6}));
  EXPECT_EQ(Flatten()(x).sizes(), (Shape{2, 72}));
  Conv2d small(2, 2, 2, 1, 1);
  check_layer_gradients(
      small, [&](const Tensor& t) { return MaxPool2d(2)(small(t).tanh()); }, randn({1, 2, 3, 3}));
}

TEST(Layers, EmbeddingLooksUpRowsWithNormalInit) {
  manual_seed(2);
  Embedding e(1000, 8);
  EXPECT_NEAR(e.weight.mean().item<double>(), 0.0, 0.05);
  EXPECT_NEAR(e.weight.var().item<double>(), 1.0, 0.05);
  Tensor idx = tensor<int64_t>({3, 999, 3}, {3});
  Tensor y = e(idx);
  EXPECT_EQ(y.sizes(), (Shape{3, 8}));
  EXPECT_EQ(y[0].to_vector<float>(), e.weight[3].to_vector<float>());
  EXPECT_THROW(e(tensor<int64_t>({1000})), Error);
  Embedding small(5, 3);
  small.to(DType::Float64);
  Tensor w = small.weight;
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>&) {
        return small(tensor<int64_t>({4, 0, 4})).pow(2);
      },
      {w}));
}

TEST(Layers, LayerNormNormalizesTheLastDims) {
  LayerNorm ln({4});
  Tensor x = tensor<float>({1, 2, 3, 4, 2, 2, 2, 6}, {2, 4});
  const auto y = ln(x).to_vector<double>();
  const double mean = 2.5, sd = std::sqrt(1.25 + 1e-5);
  EXPECT_NEAR(y[0], (1 - mean) / sd, 1e-5);
  EXPECT_NEAR(y[3], (4 - mean) / sd, 1e-5);
  LayerNorm small({3});
  {
    NoGradGuard no_grad;
    small.weight.copy_(tensor<float>({0.5, 1.5, 2}));
    small.bias.copy_(tensor<float>({0.1, -0.2, 0.3}));
  }
  check_layer_gradients(
      small, [&](const Tensor& t) { return small(t); }, randn({2, 3}));
}

TEST(Layers, BatchNormUsesBatchStatsInTrainingAndRunningStatsInEval) {
  BatchNorm1d bn(2, 1e-5, 0.1);
  Tensor x = tensor<float>({1, 10, 3, 20, 5, 30}, {3, 2});  // channel 0: 1,3,5; channel 1: 10,20,30
  const auto y = bn(x).to_vector<double>();
  EXPECT_NEAR(y[0], (1 - 3) / std::sqrt(8.0 / 3 + 1e-5), 1e-5);  // biased variance of 1,3,5 is 8/3
  EXPECT_NEAR(y[5], (30 - 20) / std::sqrt(200.0 / 3 + 1e-5), 1e-4);
  // Running stats: 0.9 * init + 0.1 * batch (unbiased variance).
  EXPECT_NEAR(bn.running_mean.to_vector<double>()[0], 0.1 * 3, 1e-6);
  EXPECT_NEAR(bn.running_var.to_vector<double>()[0], 0.9 + 0.1 * 4.0, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  bn.eval();
  const auto e = bn(x).to_vector<double>();
  EXPECT_NEAR(e[0], (1 - 0.3) / std::sqrt(1.3 + 1e-5), 1e-5);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1) << "eval does not update running stats";
  EXPECT_THROW(bn(randn({3, 5})), Error);
  BatchNorm2d bn2(3);
  EXPECT_EQ(bn2(randn({2, 3, 4, 4})).sizes(), (Shape{2, 3, 4, 4}));
  BatchNorm1d small(2);
  check_layer_gradients(
      small, [&](const Tensor& t) { return small(t).pow(2); }, randn({4, 2}));
  BatchNorm2d small2(2);
  small2.eval();
  check_layer_gradients(
      small2, [&](const Tensor& t) { return small2(t); }, randn({2, 2, 2, 2}));
}

TEST(Layers, DropoutOnlyInTraining) {
  manual_seed(3);
  Dropout d(0.5);
  Tensor x = ones({1000});
  Tensor y = d(x);
  const double zeros_frac = y.eq(0).to(DType::Float64).mean().item<double>();
  EXPECT_NEAR(zeros_frac, 0.5, 0.06);
  EXPECT_NEAR(y.max().item<double>(), 2.0, 1e-6);
  d.eval();
  EXPECT_EQ(d(x).to_vector<float>(), x.to_vector<float>());
}

TEST(Layers, Activations) {
  Tensor x = tensor<float>({-1, 0.5});
  EXPECT_EQ(ReLU()(x).to_vector<float>(), (std::vector<float>{0, 0.5}));
  EXPECT_NEAR(Tanh()(x).to_vector<double>()[0], std::tanh(-1.0), 1e-6);
  EXPECT_NEAR(Sigmoid()(x).to_vector<double>()[1], 1 / (1 + std::exp(-0.5)), 1e-6);
  EXPECT_NEAR(GELU()(x).to_vector<double>()[0], -0.5 * (1 + std::erf(-1 / std::sqrt(2.0))), 1e-6);
}

TEST(Layers, LSTMCellFollowsPyTorchsGateLayout) {
  manual_seed(4);
  LSTMCell cell(3, 2);
  EXPECT_EQ(cell.weight_ih.sizes(), (Shape{8, 3}));
  EXPECT_LE(cell.weight_hh.abs().max().item<double>(), 1 / std::sqrt(2.0));
  Tensor x = randn({1, 3}), h = randn({1, 2}), c = randn({1, 2});
  LSTMState s = cell(x, {h, c});
  // By hand, gates i, f, g, o.
  const auto gates =
      (x.matmul(cell.weight_ih.t()) + cell.bias_ih + h.matmul(cell.weight_hh.t()) + cell.bias_hh)
          .to_vector<double>();
  const auto cv = c.to_vector<double>();
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  for (int j = 0; j < 2; ++j) {
    const double next_c = sig(gates[2 + j]) * cv[j] + sig(gates[j]) * std::tanh(gates[4 + j]);
    EXPECT_NEAR(s.c.to_vector<double>()[j], next_c, 1e-5);
    EXPECT_NEAR(s.h.to_vector<double>()[j], sig(gates[6 + j]) * std::tanh(next_c), 1e-5);
  }
  LSTMCell small(2, 2);
  check_layer_gradients(
      small, [&](const Tensor& t) { return small(t).h + small(t, small(t)).c; }, randn({2, 2}));
}

TEST(Layers, LSTMRunsSequencesOfAnyLengthWithSeveralLayers) {
  manual_seed(5);
  LSTM lstm(3, 4, 2);
  for (int64_t t : {1, 5, 2}) {
    auto [out, state] = lstm.forward(randn({t, 2, 3}));
    EXPECT_EQ(out.sizes(), (Shape{t, 2, 4}));
    EXPECT_EQ(state.h.sizes(), (Shape{2, 2, 4}));
    EXPECT_EQ(out[t - 1].to_vector<float>(), state.h[1].to_vector<float>())
        << "last output is the top layer's h";
  }
  // Step by step with the cells gives the same as the whole sequence.
  Tensor x = randn({3, 1, 3});
  auto [out, state] = lstm.forward(x);
  LSTMState s0, s1;
  for (int64_t t = 0; t < 3; ++t) {
    s0 = lstm.cells[0]->forward(x[t], s0);
    s1 = lstm.cells[1]->forward(s0.h, s1);
  }
  // (To float rounding: the whole sequence is one lstm op, whose GEMMs and
  // sigmoid/tanh round differently from the cell's separate ops.)
  const auto want = s1.h.to_vector<float>(), got = state.h[1].to_vector<float>();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-6) << i;
  LSTM small(2, 2, 2);
  check_layer_gradients(
      small, [&](const Tensor& t) { return small.forward(t).first; }, randn({3, 1, 2}));
}

TEST(Layers, GRURunsSequencesOfAnyLengthWithSeveralLayers) {
  manual_seed(6);
  GRU gru(3, 4, 2);
  EXPECT_EQ(gru.repr().rfind("GRU(3, 4, num_layers=2\n", 0), 0u) << gru.repr();
  for (int64_t t : {1, 5, 2}) {
    auto [out, h] = gru.forward(randn({t, 2, 3}));
    EXPECT_EQ(out.sizes(), (Shape{t, 2, 4}));
    EXPECT_EQ(h.sizes(), (Shape{2, 2, 4}));
    EXPECT_EQ(out[t - 1].to_vector<float>(), h[1].to_vector<float>()) << "last output is the top layer's h";
  }
  // Step by step with the cells, from a given state, gives the same as the
  // whole sequence (to float rounding, as the LSTM's).
  Tensor x = randn({3, 1, 3}), h0 = randn({2, 1, 4});
  auto [out, h] = gru.forward(x, h0);
  Tensor s0 = h0[0], s1 = h0[1];
  for (int64_t t = 0; t < 3; ++t) {
    s0 = gru.cells[0]->forward(x[t], s0);
    s1 = gru.cells[1]->forward(s0, s1);
  }
  for (const auto& [want, got] : {std::pair{s0, h[0]}, std::pair{s1, h[1]}}) {
    const auto w = want.to_vector<float>(), g = got.to_vector<float>();
    for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(g[i], w[i], 2e-6) << i;
  }
  EXPECT_THROW(gru.forward(randn({3, 1, 2})), Error);     // input size
  EXPECT_THROW(gru.forward(x, randn({1, 1, 4})), Error);  // h0 of one layer
  EXPECT_THROW(GRU(3, 4, 0), Error);                      // no layers
  GRU small(2, 2, 2);
  check_layer_gradients(
      small, [&](const Tensor& t) { return small.forward(t).first; }, randn({3, 1, 2}));
}

TEST(Layers, GRUCellMatchesTheFormula) {
  manual_seed(6);
  GRUCell cell(2, 3);
  Tensor x = randn({1, 2}), h = randn({1, 3});
  const auto gi = (x.matmul(cell.weight_ih.t()) + cell.bias_ih).to_vector<double>();
  const auto gh = (h.matmul(cell.weight_hh.t()) + cell.bias_hh).to_vector<double>();
  const auto hv = h.to_vector<double>();
  const auto got = cell(x, h).to_vector<double>();
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  for (int j = 0; j < 3; ++j) {
    const double r = sig(gi[j] + gh[j]), z = sig(gi[3 + j] + gh[3 + j]);
    const double n = std::tanh(gi[6 + j] + r * gh[6 + j]);
    EXPECT_NEAR(got[j], (1 - z) * n + z * hv[j], 1e-5);
  }
  GRUCell small(2, 2);
  check_layer_gradients(
      small, [&](const Tensor& t) { return small(t, small(t)); }, randn({2, 2}));
}

TEST(Layers, SequentialAndModuleList) {
  Sequential seq(std::make_shared<Linear>(2, 3), std::make_shared<Tanh>());
  seq.push_back(std::make_shared<Linear>(3, 1));
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq(randn({4, 2})).sizes(), (Shape{4, 1}));
  EXPECT_EQ(seq.named_parameters()[2].first, "2.weight");
  ModuleList list;
  list.push_back(std::make_shared<Linear>(2, 2));
  list.push_back(std::make_shared<LSTMCell>(2, 2));
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.at<LSTMCell>(1).hidden_size, 2);
  EXPECT_EQ(list.parameters().size(), 6u);
}

TEST(Init, KaimingXavierAndGains) {
  manual_seed(7);
  Tensor w = empty({256, 512});
  init::kaiming_uniform_(w, 0, init::FanMode::FanIn, "relu");
  const double bound = std::sqrt(2.0) * std::sqrt(3.0 / 512);
  EXPECT_LE(w.abs().max().item<double>(), bound);
  EXPECT_NEAR(w.var().item<double>(), 2.0 / 512, 0.1 * 2.0 / 512);
  init::kaiming_normal_(w, 0, init::FanMode::FanOut, "relu");
  EXPECT_NEAR(w.var().item<double>(), 2.0 / 256, 0.1 * 2.0 / 256);
  init::xavier_uniform_(w);
  EXPECT_LE(w.abs().max().item<double>(), std::sqrt(6.0 / 768));
  init::xavier_normal_(w, 2.0);
  EXPECT_NEAR(w.var().item<double>(), 4 * 2.0 / 768, 0.1 * 8.0 / 768);
  EXPECT_NEAR(init::calculate_gain("tanh"), 5.0 / 3, 1e-12);
  EXPECT_NEAR(init::calculate_gain("leaky_relu", 0.2), std::sqrt(2 / 1.04), 1e-12);
  EXPECT_EQ(init::fans(empty({4, 3, 2, 2})), (std::pair<int64_t, int64_t>{12, 16}));
  EXPECT_THROW(init::calculate_gain("swish"), Error);
}

TEST(Losses, MatchHandComputationsAndGradcheck) {
  Tensor x = tensor<double>({1.0, 2.0, 0.5, -1.0, 0.0, 3.0}, {2, 3});
  Tensor t = tensor<int64_t>({2, 0});
  // Label smoothing: (1 - e) * CE + e * mean_c(-log p_c).
  const double e = 0.2;
  double want = 0;
  const auto lp = x.log_softmax(1).to_vector<double>();
  for (int r = 0; r < 2; ++r) {
    const double ce = -lp[r * 3 + (r == 0 ? 2 : 0)];
    const double uniform = -(lp[r * 3] + lp[r * 3 + 1] + lp[r * 3 + 2]) / 3;
    want += ((1 - e) * ce + e * uniform) / 2;
  }
  EXPECT_NEAR(nn::cross_entropy(x, t, {.label_smoothing = e}).item<double>(), want, 1e-12);
  EXPECT_NEAR(nn::cross_entropy(x, t).item<double>(), (-lp[2] - lp[3]) / 2, 1e-12);
  EXPECT_NEAR(mse_loss(x, zeros_like(x)).item<double>(), (1 + 4 + 0.25 + 1 + 0 + 9) / 6.0, 1e-12);
  Tensor y = tensor<double>({1, 0, 1, 0, 1, 0}, {2, 3});
  double bce = 0;
  const auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
  for (int i = 0; i < 6; ++i) {
    const double p = 1 / (1 + std::exp(-xv[i]));
    bce -= (yv[i] * std::log(p) + (1 - yv[i]) * std::log(1 - p)) / 6;
  }
  EXPECT_NEAR(binary_cross_entropy_with_logits(x, y).item<double>(), bce, 1e-12);
  EXPECT_NEAR(
      binary_cross_entropy_with_logits(tensor<double>({-800.0}), tensor<double>({1.0})).item<double>(), 800,
      1e-9)
      << "stable for large logits";
  Tensor xg = x.clone().requires_grad_();
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], t, {.label_smoothing = 0.1}); },
      {xg}));
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return binary_cross_entropy_with_logits(in[0], y); }, {xg}));
  EXPECT_TRUE(
      gradcheck([&](const std::vector<Tensor>& in) { return mse_loss(in[0], y, Reduction::Sum); }, {xg}));
  EXPECT_THROW(mse_loss(x, zeros({3})), Error);
}

}  // namespace
}  // namespace ember::nn
