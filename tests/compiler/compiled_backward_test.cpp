// compiled_backward_test.cpp - backward() through the native results of a
// compiled function: gradients of parameters and inputs as eager computes
// them, through a backward that is itself compiled (not an eager fallback).
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/jit/jit.h"

namespace ember::jit {
namespace {

void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  const auto g = got.to_vector<double>(), w = want.to_vector<double>();
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], 1e-5 + 1e-5 * std::abs(w[i])) << what << " element " << i;
}

TEST(CompiledBackward, GradientsReachParametersAndTheInputsHistory) {
  manual_seed(31);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(6, 16), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(16, 3));
  auto forward = [model](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*model)(in[0]).softmax(-1)};
  };
  auto f = compile(forward);
  const Tensor data = randn({5, 6});
  for (int call = 0; call < 4; ++call) {
    // The input has history: a leaf scaled, so the gradient must flow through it.
    Tensor a = data.detach().requires_grad_();
    model->zero_grad();
    Tensor y = f({a * 2})[0];
    (y * y * tensor<float>({1, 2, 3}, {3})).sum().backward();
    const Tensor got_a = a.grad();
    std::vector<Tensor> got;
    for (const Tensor& p : model->parameters()) got.push_back(p.grad().clone());
    // Eager, the same computation.
    Tensor b = data.detach().requires_grad_();
    model->zero_grad();
    Tensor z = forward({b * 2})[0];
    (z * z * tensor<float>({1, 2, 3}, {3})).sum().backward();
    expect_close(got_a, b.grad(), "input gradient, call " + std::to_string(call));
    auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i)
      expect_close(got[i], params[i].grad(),
                   "parameter " + std::to_string(i) + ", call " + std::to_string(call));
  }
  const Stats& s = f.stats();
  EXPECT_EQ(s.compiles, 1);
  EXPECT_EQ(s.hits, 2) << "calls 3 and 4 ran native forwards";
  EXPECT_EQ(s.backward_compiles, 1) << "the first native backward traced and compiled the backward";
  EXPECT_EQ(s.backward_hits, 1) << "the second ran it natively";
  EXPECT_EQ(s.backward_eager_calls, 0);
  EXPECT_NE(f.explain().find("backward: 1 compiles"), std::string::npos) << f.explain();
}

// Note [Backwards of a dynamic variant]: outputs that require grad, at a
// changing batch. The forward compiles once with a `?` batch; its backward
// compiles statically at the first size it runs, then once with `?` dims
// at the second; every gradient is eager's.
TEST(CompiledBackward, AChangingBatchGetsADynamicBackward) {
  manual_seed(33);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(6, 16), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(16, 3));
  auto forward = [model](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*model)(in[0]).softmax(-1)};
  };
  auto f = compile(forward);
  for (int64_t n : {8, 8, 8, 8, 3, 5, 3, 9, 5}) {
    const Tensor data = randn({n, 6});
    Tensor a = data.detach().requires_grad_();
    model->zero_grad();
    Tensor y = f({a * 2})[0];
    (y * y * tensor<float>({1, 2, 3}, {3})).sum().backward();
    const Tensor got_a = a.grad();
    std::vector<Tensor> got;
    for (const Tensor& p : model->parameters()) got.push_back(p.grad().clone());
    Tensor b = data.detach().requires_grad_();
    model->zero_grad();
    Tensor z = forward({b * 2})[0];
    (z * z * tensor<float>({1, 2, 3}, {3})).sum().backward();
    expect_close(got_a, b.grad(), "input gradient, batch " + std::to_string(n));
    auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i)
      expect_close(got[i], params[i].grad(),
                   "parameter " + std::to_string(i) + ", batch " + std::to_string(n));
  }
  const Stats& s = f.stats();
  EXPECT_EQ(s.compiles, 2) << f.explain();
  EXPECT_EQ(s.backward_compiles, 3)
      << "8 static (its own variant), then the dynamic variant's: static, dynamic\n"
      << f.explain();
  EXPECT_EQ(s.backward_eager_calls, 0) << f.explain();
}

TEST(CompiledBackward, NoGradCallsGetNoBackward) {
  auto w = randn({4}).requires_grad_();
  auto f = compile([w](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * w}; });
  NoGradGuard no_grad;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(f({ones({4})})[0].requires_grad());
}

}  // namespace
}  // namespace ember::jit
