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

// The model's softmax and a weighted loss through it, backward through the
// compiled `f` and through eager `forward` on the same data (an input with
// history: a leaf scaled, so the gradient must flow through it): the input's
// and every parameter's gradient alike.
void expect_gradients_as_eager(CompiledFunction& f, const tracer::TracedFn& forward,
                               const std::shared_ptr<nn::Sequential>& model, const Tensor& data,
                               const std::string& what) {
  const auto backward = [&](const tracer::TracedFn& fn) {
    Tensor a = data.detach().requires_grad_();
    model->zero_grad();
    Tensor y = fn({a * 2})[0];
    (y * y * tensor<float>({1, 2, 3}, {3})).sum().backward();
    std::vector<Tensor> grads{a.grad()};
    for (const Tensor& p : model->parameters()) grads.push_back(p.grad().clone());
    return grads;
  };
  const auto got = backward([&](const std::vector<Tensor>&in) { return f(in); }), want = backward(forward);
  expect_close(got[0], want[0], "input gradient, " + what);
  for (size_t i = 1; i < want.size(); ++i)
    expect_close(got[i], want[i], "parameter " + std::to_string(i - 1) + ", " + what);
}

std::shared_ptr<nn::Sequential> small_model() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(6, 16), std::make_shared<nn::Tanh>(),
                                          std::make_shared<nn::Linear>(16, 3));
}

TEST(CompiledBackward, GradientsReachParametersAndTheInputsHistory) {
  manual_seed(31);
  auto model = small_model();
  auto forward = [model](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*model)(in[0]).softmax(-1)};
  };
  auto f = compile(forward);
  const Tensor data = randn({5, 6});
  for (int call = 0; call < 4; ++call)
    expect_gradients_as_eager(f, forward, model, data, "call " + std::to_string(call));
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
  auto model = small_model();
  auto forward = [model](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*model)(in[0]).softmax(-1)};
  };
  auto f = compile(forward);
  for (int64_t n : {8, 8, 8, 8, 3, 5, 3, 9, 5})
    expect_gradients_as_eager(f, forward, model, randn({n, 6}), "batch " + std::to_string(n));
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
