// optim_test.cpp - optimizer updates against values computed by hand (in
// plain doubles, following torch.optim's formulas) for two steps, and the
// learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

namespace ember::optim {
namespace {

// Two parameters of one element each, so the arithmetic is easy to follow.
struct Fixture {
  Tensor a = tensor<double>({1.0}).requires_grad_();
  Tensor b = tensor<double>({-2.0}).requires_grad_();
  void grads(double ga, double gb) {
    a.set_grad(tensor<double>({ga}));
    b.set_grad(tensor<double>({gb}));
  }
};

TEST(Optim, SGDWithMomentumAndWeightDecayTwoSteps) {
  Fixture f;
  const Tensor a_handle = f.a;
  SGD opt({f.a, f.b}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  double p[2] = {1.0, -2.0}, buf[2];
  const double g1[2] = {0.5, 1.0}, g2[2] = {0.2, -0.4};
  f.grads(g1[0], g1[1]);
  opt.step();
  for (int i = 0; i < 2; ++i) {
    buf[i] = g1[i] + 0.01 * p[i];  // first step: the buffer is the gradient
    p[i] -= 0.1 * buf[i];
  }
  EXPECT_NEAR(f.a.item<double>(), p[0], 1e-15);
  EXPECT_NEAR(f.b.item<double>(), p[1], 1e-15);
  f.grads(g2[0], g2[1]);
  opt.step();
  for (int i = 0; i < 2; ++i) {
    buf[i] = 0.9 * buf[i] + (g2[i] + 0.01 * p[i]);
    p[i] -= 0.1 * buf[i];
  }
  EXPECT_NEAR(f.a.item<double>(), p[0], 1e-15);
  EXPECT_NEAR(f.b.item<double>(), p[1], 1e-15);
  EXPECT_NEAR(p[0], 0.882151, 1e-12);  // written out once, as a check of the check
  EXPECT_TRUE(a_handle.is_same(f.a)) << "parameters keep their identity";
  EXPECT_TRUE(f.a.requires_grad() && f.a.is_leaf());
}

TEST(Optim, SGDNesterovTwoSteps) {
  Fixture f;
  SGD opt({f.a, f.b}, {.lr = 0.05, .momentum = 0.8, .nesterov = true});
  double p[2] = {1.0, -2.0}, buf[2];
  const double g[2][2] = {{0.5, 1.0}, {-0.3, 0.6}};
  for (int s = 0; s < 2; ++s) {
    f.grads(g[s][0], g[s][1]);
    opt.step();
    for (int i = 0; i < 2; ++i) {
      buf[i] = s == 0 ? g[s][i] : 0.8 * buf[i] + g[s][i];
      p[i] -= 0.05 * (g[s][i] + 0.8 * buf[i]);
    }
    EXPECT_NEAR(f.a.item<double>(), p[0], 1e-15);
    EXPECT_NEAR(f.b.item<double>(), p[1], 1e-15);
  }
  EXPECT_THROW(SGD({f.a}, {.lr = 0.1, .momentum = 0, .nesterov = true}), Error);
}

void adam_two_steps(bool decoupled) {
  Fixture f;
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  std::unique_ptr<Optimizer> opt;
  if (decoupled)
    opt = std::make_unique<AdamW>(std::vector<Tensor>{f.a, f.b}, AdamOptions{.lr = lr, .weight_decay = wd});
  else
    opt = std::make_unique<Adam>(std::vector<Tensor>{f.a, f.b}, AdamOptions{.lr = lr, .weight_decay = wd});
  double p[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
  const double g[2][2] = {{0.5, 1.0}, {0.2, -0.4}};
  for (int s = 1; s <= 2; ++s) {
    f.grads(g[s - 1][0], g[s - 1][1]);
    opt->step();
    for (int i = 0; i < 2; ++i) {
      double gi = g[s - 1][i];
      if (decoupled)
        p[i] *= 1 - lr * wd;
      else
        gi += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double mhat = m[i] / (1 - std::pow(b1, s));
      const double denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, s)) + eps;
      p[i] -= lr * mhat / denom;
    }
    EXPECT_NEAR(f.a.item<double>(), p[0], 1e-14) << "step " << s;
    EXPECT_NEAR(f.b.item<double>(), p[1], 1e-14) << "step " << s;
  }
}
TEST(Optim, AdamTwoSteps) { adam_two_steps(false); }
TEST(Optim, AdamWTwoSteps) { adam_two_steps(true); }

TEST(Optim, ZeroGradAndParametersWithoutGradients) {
  Fixture f;
  SGD opt({f.a, f.b}, {.lr = 0.1});
  f.a.set_grad(tensor<double>({1.0}));
  opt.step();  // b has no gradient: left alone
  EXPECT_EQ(f.b.item<double>(), -2.0);
  EXPECT_NEAR(f.a.item<double>(), 0.9, 1e-15);
  opt.zero_grad();
  EXPECT_FALSE(f.a.grad().defined());
  EXPECT_THROW(SGD({tensor<double>({1.0})}, {}), Error) << "a parameter must require grad";
}

TEST(Optim, Schedules) {
  Fixture f;
  SGD opt({f.a}, {.lr = 1.0});
  StepLR step(opt, 2, 0.5);
  std::vector<double> lrs;
  for (int e = 0; e < 5; ++e) {
    step.step();
    lrs.push_back(opt.lr());
  }
  EXPECT_EQ(lrs, (std::vector<double>{1.0, 0.5, 0.5, 0.25, 0.25}));
  SGD opt2({f.b}, {.lr = 0.1});
  CosineAnnealingLR cosine(opt2, 4, 0.01);
  cosine.step();
  EXPECT_NEAR(opt2.lr(), 0.01 + 0.09 * (1 + std::cos(M_PI / 4)) / 2, 1e-15);
  for (int e = 0; e < 3; ++e) cosine.step();
  EXPECT_NEAR(opt2.lr(), 0.01, 1e-15);
}

TEST(Optim, TrainsARegressionToConvergence) {
  manual_seed(0);
  Tensor x = randn({64, 3});
  Tensor w_true = tensor<float>({1.5, -2.0, 0.5}, {3, 1});
  Tensor y = x.matmul(w_true);
  nn::Linear model(3, 1);
  Adam opt(model.parameters(), {.lr = 0.05});
  for (int i = 0; i < 300; ++i) {
    opt.zero_grad();
    nn::mse_loss(model(x), y).backward();
    opt.step();
  }
  const auto w = model.weight.to_vector<double>();
  EXPECT_NEAR(w[0], 1.5, 1e-2);
  EXPECT_NEAR(w[1], -2.0, 1e-2);
  EXPECT_NEAR(model.bias.item<double>(), 0.0, 1e-2);
}

}  // namespace
}  // namespace ember::optim
