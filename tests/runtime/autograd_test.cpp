// autograd_test.cpp - autograd behaviour: accumulation, retain_graph,
// create_graph, hooks, no_grad, detach, in-place rules, the version check,
// anomaly mode, custom functions and gradcheck itself.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

namespace ember {
namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

TEST(Autograd, GradReturnsGradientsOfSeveralOutputsWithoutTouchingDotGrad) {
  Tensor x = tensor<float>({0.5f, -1.0f, 2.0f}, {3}).requires_grad_();
  Tensor y = tensor<float>({3.0f, 4.0f, -2.0f}, {3}).requires_grad_();
  Tensor a = x * y, b = x.sin();
  Tensor c = a * 3;  // an output fed by another output
  const auto g = autograd::grad({a, b, c}, {ones({3}), full({3}, 2.0), ones({3})}, {x, y});
  ASSERT_EQ(g.size(), 2u);
  const auto gx = g[0].to_vector<float>(), gy = g[1].to_vector<float>();
  const float xs[] = {0.5f, -1.0f, 2.0f}, ys[] = {3.0f, 4.0f, -2.0f};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(gx[i], 4 * ys[i] + 2 * std::cos(xs[i]), 1e-5);  // (1 + 3) * y + 2 cos x
    EXPECT_NEAR(gy[i], 4 * xs[i], 1e-5);
  }
  EXPECT_FALSE(x.grad().defined()) << "grad() returns, it does not accumulate";
  EXPECT_FALSE(y.grad().defined());
  // A leaf no gradient reaches gets an undefined one.
  Tensor z = ones({2}).requires_grad_();
  EXPECT_FALSE(autograd::grad({(x * 2).sum()}, {ones({})}, {z})[0].defined());
}

TEST(Autograd, LeafGradientsAccumulateAcrossBackwards) {
  Tensor x = tensor<double>({1, 2, 3}).requires_grad_();
  (x * x).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 4, 6}));
  (x * 3).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{5, 7, 9}));
  x.set_grad(Tensor());
  x.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 1, 1}));
}

TEST(Autograd, GradientOfATensorUsedTwiceIsSummed) {
  Tensor x = tensor<double>({2.0}).requires_grad_();
  Tensor y = x * x + x.exp() * x;  // dy/dx = 2x + e^x (1 + x)
  y.backward(ones({1}, DType::Float64));
  EXPECT_NEAR(x.grad().item<double>(), 4 + std::exp(2.0) * 3, 1e-12);
}

TEST(Autograd, TwoLeavesNeverShareAGradBuffer) {
  Tensor a = tensor<double>({1.0}).requires_grad_(), b = tensor<double>({1.0}).requires_grad_();
  (a + b).sum().backward();
  a.grad().add_(10);  // must not change b's gradient
  EXPECT_EQ(b.grad().item<double>(), 1.0);
}

TEST(Autograd, BackwardTwiceNeedsRetainGraph) {
  Tensor x = tensor<double>({1, 2}).requires_grad_();
  Tensor y = (x.exp()).sum();  // exp saves its output
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_NEAR(values(x.grad())[0], 2 * std::exp(1.0), 1e-12);
  try {
    y.backward();
    FAIL() << "a third backward through a freed graph must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Autograd, CreateGraphGivesSecondDerivatives) {
  Tensor x = tensor<double>({0.5, -1.0}).requires_grad_();
  Tensor y = (x.pow(3) + x.sin()).sum();
  y.backward(Tensor(), false, /*create_graph=*/true);
  Tensor g = x.grad();  // 3x^2 + cos x, with history
  ASSERT_TRUE(g.requires_grad());
  x.set_grad(Tensor());
  g.sum().backward();
  const auto h = values(x.grad());  // 6x - sin x
  EXPECT_NEAR(h[0], 6 * 0.5 - std::sin(0.5), 1e-12);
  EXPECT_NEAR(h[1], -6.0 - std::sin(-1.0), 1e-12);
}

TEST(Autograd, SecondDerivativeThroughSoftmaxAndMatmul) {
  manual_seed(3);
  Tensor x = randn({2, 3}, DType::Float64).requires_grad_();
  Tensor w = randn({3, 3}, DType::Float64).requires_grad_();
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return in[0].matmul(in[1]).softmax(1).pow(2); },
                        {x, w}, {.check_second_order = true}));
}

TEST(Autograd, NoGradRecordsNothing) {
  Tensor x = ones({2}).requires_grad_();
  Tensor y;
  {
    NoGradGuard no_grad;
    y = x * 2;
    EXPECT_FALSE(is_grad_enabled());
  }
  EXPECT_TRUE(is_grad_enabled());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(Autograd, DetachSharesDataButNotHistory) {
  Tensor x = ones({3}).requires_grad_();
  Tensor y = x * 2;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.data_ptr(), y.data_ptr());
  EXPECT_EQ(d.version(), y.version());
  d.add_(1);  // shares the version counter too
  EXPECT_EQ(y.version(), d.version());
  EXPECT_EQ(values(y), (std::vector<double>{3, 3, 3}));
}

TEST(Autograd, HooksSeeAndReplaceGradients) {
  Tensor x = tensor<double>({1, 2}).requires_grad_();
  Tensor y = x * 3;
  std::vector<double> seen;
  y.register_hook([&](const Tensor& g) {
    seen = g.to_vector<double>();
    return g * 10;  // replaces the gradient flowing on
  });
  x.register_hook([&](const Tensor& g) { return g + 1; });  // a leaf hook runs before accumulation
  y.sum().backward();
  EXPECT_EQ(seen, (std::vector<double>{1, 1}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{31, 31}));
}

TEST(Autograd, GradFnNamesTheOp) {
  Tensor x = ones({2}).requires_grad_();
  EXPECT_STREQ((x * 2).grad_fn()->name(), "mul_backward");
  EXPECT_STREQ(x.exp().sum().grad_fn()->name(), "sum_backward");
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE((x + 1).is_leaf());
}

TEST(Autograd, InPlaceOnNonLeafKeepsGradientsCorrect) {
  Tensor x = tensor<double>({1, 2, 3}).requires_grad_();
  Tensor y = x * 2;
  y.mul_(x);  // y = 2x * x: the old y is needed, and is cloned for the formula
  y.add_(1);
  EXPECT_GT(y.version(), 0u);
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 8, 12}));  // d(2x^2)/dx
}

TEST(Autograd, ModifyingASavedTensorInPlaceFailsClearly) {
  Tensor x = tensor<double>({1, 2}).requires_grad_();
  Tensor y = x.exp();  // saves its output y
  Tensor z = y.sum();
  {
    NoGradGuard no_grad;
    y.add_(1);  // changes what exp_backward needs
  }
  try {
    z.backward();
    FAIL() << "backward must refuse a modified saved tensor";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("exp"), std::string::npos) << msg;
    EXPECT_NE(msg.find("modified in place"), std::string::npos) << msg;
    EXPECT_NE(msg.find("autograd_test.cpp"), std::string::npos) << "names the forward line: " << msg;
  }
}

TEST(Autograd, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor w = ones({2}).requires_grad_();
  EXPECT_THROW(w.add_(1), Error);
  {
    NoGradGuard no_grad;  // the optimizer's way
    w.sub_(0.5);
  }
  EXPECT_EQ(values(w), (std::vector<double>{0.5, 0.5}));
  EXPECT_TRUE(w.requires_grad());
}

TEST(Autograd, AnomalyModeNamesTheForwardOpAndLine) {
  Tensor x = tensor<double>({0.0, 1.0}).requires_grad_();
  DetectAnomalyGuard anomaly;
  Tensor y = x.sqrt().sum();  // d sqrt(x)/dx at 0 is inf
  const int line = __LINE__ - 1;
  try {
    y.backward();
    FAIL() << "anomaly mode must report the Inf";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("sqrt_backward"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Inf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("autograd_test.cpp:" + std::to_string(line)), std::string::npos) << msg;
  }
}

TEST(Autograd, WithoutAnomalyModeNaNGradientsPassSilently) {
  Tensor x = tensor<double>({0.0}).requires_grad_();
  x.sqrt().sum().backward();
  EXPECT_TRUE(std::isinf(x.grad().item<double>()));
}

TEST(Autograd, BackwardNeedsAScalarOrAGradient) {
  Tensor x = ones({3}).requires_grad_();
  Tensor y = x * 2;
  EXPECT_THROW(y.backward(), Error);
  EXPECT_THROW(y.backward(ones({2})), Error);
  y.backward(full({3}, 0.5));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 1, 1}));
  EXPECT_THROW(ones({1}).backward(), Error);  // no grad required anywhere
}

TEST(Autograd, IntegerTensorsCannotRequireGrad) { EXPECT_THROW(arange(3).requires_grad_(), Error); }

TEST(Autograd, GradientsFlowThroughViewsAndBroadcasting) {
  Tensor x = arange(0.0, 6.0, 1.0, DType::Float64).requires_grad_();
  Tensor b = tensor<double>({1, 2, 3}).requires_grad_();
  Tensor y = (x.view({2, 3}).t() * b.view({3, 1})).sum();  // b broadcasts over 2 columns
  y.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{3, 5, 7}));
}

// A custom function: forward computes x^3 without recording; backward is
// written by hand.
struct Cube : Function<Cube> {
  static Tensor forward(AutogradContext& ctx, const Tensor& x) {
    ctx.save_for_backward({x});
    return x * x * x;
  }
  static std::vector<Tensor> backward(AutogradContext& ctx, const std::vector<Tensor>& grads) {
    const Tensor x = ctx.saved()[0];
    return {grads[0] * 3 * x * x};
  }
};

TEST(Autograd, CustomFunctionsUseTheirBackward) {
  Tensor x = tensor<double>({1, -2}).requires_grad_();
  Tensor y = Cube::apply(x);
  EXPECT_NE(std::string(y.grad_fn()->name()).find("Cube"), std::string::npos);
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 12}));
  Tensor x2 = tensor<double>({0.3, 0.7}).requires_grad_();
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return Cube::apply(in[0]); }, {x2}));
}

TEST(Autograd, CustomFunctionSavedTensorsAreVersionChecked) {
  Tensor x = tensor<double>({1.0}).requires_grad_();
  Tensor h = x * 1;  // a non-leaf to modify
  Tensor y = Cube::apply(h);
  {
    NoGradGuard no_grad;
    h.mul_(2);
  }
  EXPECT_THROW(y.backward(ones({1}, DType::Float64)), Error);
}

TEST(Autograd, GradcheckCatchesAWrongFormula) {
  struct WrongSquare : Function<WrongSquare> {
    static Tensor forward(AutogradContext& ctx, const Tensor& x) {
      ctx.save_for_backward({x});
      return x * x;
    }
    static std::vector<Tensor> backward(AutogradContext& ctx, const std::vector<Tensor>& grads) {
      return {grads[0] * ctx.saved()[0]};  // missing the factor 2
    }
  };
  Tensor x = tensor<double>({0.5, 1.5}).requires_grad_();
  EXPECT_THROW(gradcheck([](const std::vector<Tensor>& in) { return WrongSquare::apply(in[0]); }, {x}),
               Error);
}

TEST(Autograd, MaxGradientGoesToTheArgmax) {
  Tensor x = tensor<double>({1, 5, 2, 7, 3, 0}, {2, 3}).requires_grad_();
  x.max(1).first.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 1, 0, 1, 0, 0}));
}

// What data-parallel training builds on: a hook once a leaf's .grad is
// final for this backward, and callbacks after the whole backward.
TEST(Autograd, PostAccumulateHooksSeeTheSummedGradAndCallbacksRunLast) {
  Tensor w = tensor<float>({1.0f, 2.0f}, {2}).requires_grad_();
  Tensor unused = zeros({2}).requires_grad_();
  std::vector<std::string> events;
  w.register_post_accumulate_grad_hook([&](const Tensor& p) {
    events.push_back("w " + std::to_string(p.grad().to_vector<double>()[0]));
    autograd::queue_callback([&] { events.push_back("end"); });
  });
  unused.register_post_accumulate_grad_hook([&](const Tensor&) { events.push_back("unused"); });
  // w is used twice: its hook runs once, after both gradients are summed.
  Tensor loss = (w * 3).sum() + (w * w).sum();
  loss.backward();
  EXPECT_EQ(events, (std::vector<std::string>{"w 5.000000", "end"}));
  // A second backward accumulates: the hook sees 5 + 5.
  events.clear();
  ((w * 3).sum() + (w * w).sum()).backward();
  EXPECT_EQ(events, (std::vector<std::string>{"w 10.000000", "end"}));
  EXPECT_FALSE(autograd::in_backward());
  EXPECT_THROW(autograd::queue_callback([] {}), Error) << "no backward is running";
  EXPECT_THROW(tensor<float>({1.0f}, {1}).register_post_accumulate_grad_hook([](const Tensor&) {}), Error)
      << "not a leaf that requires grad";
}

TEST(Autograd, CallbacksOfAFailedBackwardAreDropped) {
  Tensor w = ones({2}).requires_grad_();
  int ran = 0;
  w.register_post_accumulate_grad_hook([&](const Tensor&) { autograd::queue_callback([&] { ++ran; }); });
  Tensor x = ones({2}).requires_grad_();
  x.register_hook([](const Tensor& g) -> Tensor { throw Error("a hook failed"); });
  // w's accumulator runs first (it is ready first), then x's hook throws.
  EXPECT_THROW(((w * 2).sum() + (x * 2).sum()).backward(), Error);
  EXPECT_EQ(ran, 0);
  EXPECT_FALSE(autograd::in_backward());
}

}  // namespace
}  // namespace ember
