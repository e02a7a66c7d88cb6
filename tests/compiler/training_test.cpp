// training_test.cpp - compiled training steps against eager ones, and the
// checks compiled code makes on tensor values.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/jit/jit.h"
#include "models.h"

namespace ember::jit {
namespace {

using testing::kSgdStepLossLine;
using testing::sgd_step;
using testing::small_mlp;

// Two models with the same weights: one trained eagerly, one compiled.
template <typename Make>
std::pair<std::shared_ptr<nn::Sequential>, std::shared_ptr<nn::Sequential>> twins(Make make) {
  auto eager = make(), compiled = make();
  NoGradGuard no_grad;
  auto from = eager->parameters(), to = compiled->parameters();
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  return {eager, compiled};
}

void expect_same_parameters(const nn::Module& eager, const nn::Module& compiled, double tolerance) {
  auto a = eager.parameters(), b = compiled.parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const auto p = a[i].to_vector<double>(), q = b[i].to_vector<double>();
    for (size_t k = 0; k < p.size(); ++k)
      ASSERT_NEAR(q[k], p[k], tolerance) << "parameter " << i << " element " << k;
  }
}

TEST(CompiledTraining, TwentyStepsFollowTheEagerLossCurveAndParameters) {
  manual_seed(11);
  auto [eager_model, compiled_model] = twins(small_mlp);
  const optim::SGDOptions options{.lr = 0.05, .momentum = 0.9};
  auto eager_opt = std::make_shared<optim::SGD>(eager_model->parameters(), options);
  auto compiled_opt = std::make_shared<optim::SGD>(compiled_model->parameters(), options);
  auto eager_step = sgd_step(eager_model, eager_opt);
  auto compiled_step = compile(sgd_step(compiled_model, compiled_opt));
  const Tensor x = randn({16, 20});
  const Tensor labels = randint(0, 10, {16});
  std::vector<const void*> buffers;
  for (const Tensor& p : compiled_model->parameters()) buffers.push_back(p.data_ptr());
  for (int step = 0; step < 20; ++step) {
    const double want = eager_step({x, labels})[0].item<double>();
    const double got = compiled_step({x, labels})[0].item<double>();
    EXPECT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-6) << "step " << step;
  }
  EXPECT_EQ(compiled_step.stats().compiles, 1);
  EXPECT_EQ(compiled_step.stats().hits, 18) << "steps 3..20 ran native code";
  expect_same_parameters(*eager_model, *compiled_model, 1e-5);
  for (size_t i = 0; i < buffers.size(); ++i)
    EXPECT_EQ(compiled_model->parameters()[i].data_ptr(), buffers[i])
        << "parameter " << i << " updated in place";
  auto a = eager_model->parameters(), b = compiled_model->parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    const auto g = a[i].grad().to_vector<double>(), h = b[i].grad().to_vector<double>();
    for (size_t k = 0; k < g.size(); ++k) ASSERT_NEAR(h[k], g[k], 1e-5) << ".grad of parameter " << i;
  }
  EXPECT_NE(compiled_step.stage(compiler::Stage::Buffers).find("call @cblas_sgemm"), std::string::npos);
}

// Adam's bias corrections change every step and a schedule changes the
// learning rate between steps: a compiled step must see both (they are
// tensors a trace captures, not C++ numbers it bakes).
TEST(CompiledTraining, AdamWithAScheduleFollowsEager) {
  manual_seed(13);
  auto [eager_model, compiled_model] = twins(small_mlp);
  const optim::AdamOptions options{.lr = 0.01, .weight_decay = 0.01};
  auto eager_opt = std::make_shared<optim::Adam>(eager_model->parameters(), options, /*decoupled=*/true);
  auto compiled_opt =
      std::make_shared<optim::Adam>(compiled_model->parameters(), options, /*decoupled=*/true);
  optim::CosineAnnealingLR eager_schedule(*eager_opt, 12), compiled_schedule(*compiled_opt, 12);
  auto eager_step = sgd_step(eager_model, eager_opt);
  auto compiled_step = compile(sgd_step(compiled_model, compiled_opt));
  const Tensor x = randn({16, 20});
  const Tensor labels = randint(0, 10, {16});
  for (int step = 0; step < 12; ++step) {
    const double want = eager_step({x, labels})[0].item<double>();
    const double got = compiled_step({x, labels})[0].item<double>();
    EXPECT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-6) << "step " << step;
    eager_schedule.step();
    compiled_schedule.step();
  }
  EXPECT_EQ(compiled_step.stats().hits, 10);
  EXPECT_EQ(compiled_opt->steps(), 12);
  expect_same_parameters(*eager_model, *compiled_model, 1e-5);
}

// The digits CNN (examples/cnn_digits.cpp): conv2d, max_pool2d and their
// gradients in one compiled step.
TEST(CompiledTraining, TheDigitsCnnFollowsEager) {
  manual_seed(14);
  auto make = [] {
    return std::make_shared<nn::Sequential>(
        std::make_shared<nn::Conv2d>(1, 4, 3, 1, 1), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Conv2d>(4, 8, 3, 1, 1),
        std::make_shared<nn::ReLU>(), std::make_shared<nn::AvgPool2d>(2), std::make_shared<nn::Flatten>(),
        std::make_shared<nn::Linear>(8 * 2 * 2, 10));
  };
  auto [eager_model, compiled_model] = twins(make);
  const optim::SGDOptions options{.lr = 0.05, .momentum = 0.9};
  auto eager_opt = std::make_shared<optim::SGD>(eager_model->parameters(), options);
  auto compiled_opt = std::make_shared<optim::SGD>(compiled_model->parameters(), options);
  auto eager_step = sgd_step(eager_model, eager_opt);
  auto compiled_step = compile(sgd_step(compiled_model, compiled_opt));
  const Tensor x = rand({8, 1, 8, 8}) * 16;
  const Tensor labels = randint(0, 10, {8});
  for (int step = 0; step < 5; ++step) {
    const double want = eager_step({x, labels})[0].item<double>();
    const double got = compiled_step({x, labels})[0].item<double>();
    EXPECT_NEAR(got, want, 1e-4 * std::abs(want) + 1e-5) << "step " << step;
  }
  EXPECT_EQ(compiled_step.stats().hits, 3) << compiled_step.explain();
  expect_same_parameters(*eager_model, *compiled_model, 1e-4);
}

TEST(CompiledTraining, AnOutOfRangeTargetIsAnErrorAndChangesNothing) {
  manual_seed(12);
  auto model = small_mlp();
  auto opt = std::make_shared<optim::SGD>(model->parameters(), optim::SGDOptions{.lr = 0.1});
  auto step = compile(sgd_step(model, opt));
  const Tensor x = randn({4, 20});
  for (int i = 0; i < 3; ++i) step({x, tensor<int64_t>({1, 2, 3, 4}, {4})});
  ASSERT_EQ(step.stats().hits, 1);
  const auto before = model->parameters()[0].to_vector<float>();
  try {
    step({x, tensor<int64_t>({1, 2, 10, 4}, {4})});
    FAIL() << "class 10 of 10 was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cross_entropy: a target is outside [0, 10)"), std::string::npos) << m;
    EXPECT_NE(m.find("models.h:" + std::to_string(kSgdStepLossLine)), std::string::npos)
        << "the line of the loss (tests/compiler/models.h): " << m;
  }
  EXPECT_EQ(model->parameters()[0].to_vector<float>(), before) << "no write-back after a failed check";
  // ignore_index rows are not errors.
  auto f = compile([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::cross_entropy(in[0], in[1], {.ignore_index = -100})};
  });
  const Tensor logits = randn({3, 5});
  const Tensor targets = tensor<int64_t>({-100, 2, 4}, {3});
  const double want = nn::cross_entropy(logits, targets, {.ignore_index = -100}).item<double>();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(f({logits, targets})[0].item<double>(), want, 1e-6);
  EXPECT_EQ(f.stats().hits, 1);
}

// Slices of one parameter get one gradient each, summed (Note [Slice
// gradients that tile their input]): the compiled step turns sums that tile
// a dim into one cat and must leave the rest to the adds. Each parameter
// is split one way: q/k/v selects that tile dim 0, narrows that tile dim 1,
// selects that leave index 1 unused, and selects that cover dim 0 with one
// index taken twice (negative and positive), whose gradients must add.
TEST(CompiledTraining, SliceGradientsFollowEager) {
  manual_seed(13);
  const auto make = [] {
    return std::vector<Tensor>{randn({3, 4, 5}), randn({4, 7}), randn({3, 5}), randn({2, 5})};
  };
  const auto step_of = [](std::vector<Tensor> params) {
    for (Tensor& p : params) p.requires_grad_();
    auto opt = std::make_shared<optim::SGD>(params, optim::SGDOptions{.lr = 0.1});
    return [params, opt](const std::vector<Tensor>& in) {
      opt->zero_grad();
      const Tensor& x = in[0];  // [4, 5]
      const Tensor q = params[0].select(0, 0), k = params[0].select(0, 1), v = params[0].select(0, 2);
      Tensor loss = (q * x).sum() + (k * k * x).sum() + (v.tanh() * x).sum();
      const Tensor left = params[1].slice(1, 0, 2, 1), right = params[1].slice(1, 2, 7, 1);
      loss = loss + (left * left).sum() + right.matmul(x.transpose(0, 1)).sum();
      loss = loss + (params[2].select(0, 0) * x).sum() + (params[2].select(0, 2) * 2).sum();
      loss = loss + (params[3].select(0, 0) * x).sum() + (params[3].select(0, -1) * x).sum() +
             (params[3].select(0, 1) * 3).sum();
      loss.backward();
      opt->step();
      return std::vector<Tensor>{loss};
    };
  };
  const std::vector<Tensor> eager_params = make();
  std::vector<Tensor> compiled_params;
  for (const Tensor& p : eager_params) compiled_params.push_back(p.clone());
  auto eager_step = step_of(eager_params);
  auto compiled_step = compile(step_of(compiled_params));
  const Tensor x = randn({4, 5});
  for (int i = 0; i < 4; ++i) {
    const double want = eager_step({x})[0].item<double>();
    EXPECT_NEAR(compiled_step({x})[0].item<double>(), want, 1e-5 * std::abs(want) + 1e-5) << "step " << i;
  }
  EXPECT_EQ(compiled_step.stats().hits, 2);
  for (size_t i = 0; i < eager_params.size(); ++i) {
    const auto want = eager_params[i].grad().to_vector<double>(),
               got = compiled_params[i].grad().to_vector<double>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) ASSERT_NEAR(got[k], want[k], 1e-5) << ".grad of parameter " << i;
    const auto p = eager_params[i].to_vector<double>(), q = compiled_params[i].to_vector<double>();
    for (size_t k = 0; k < p.size(); ++k) ASSERT_NEAR(q[k], p[k], 1e-5) << "parameter " << i;
  }
}

// layer_norm over rows of 1024 trains in chunks of 64 lanes (Note [Rows in
// chunks of registers]), its backward's row reductions included.
TEST(CompiledTraining, LongRowLayerNormFollowsEager) {
  manual_seed(14);
  const auto make = [] {
    return std::make_shared<nn::Sequential>(
        std::make_shared<nn::Linear>(16, 1024), std::make_shared<nn::LayerNorm>(std::vector<int64_t>{1024}),
        std::make_shared<nn::GELU>(), std::make_shared<nn::Linear>(1024, 10));
  };
  auto [eager_model, compiled_model] = twins(make);
  const optim::SGDOptions options{.lr = 0.05};
  auto eager_step = sgd_step(eager_model, std::make_shared<optim::SGD>(eager_model->parameters(), options));
  auto compiled_step =
      compile(sgd_step(compiled_model, std::make_shared<optim::SGD>(compiled_model->parameters(), options)));
  const Tensor x = randn({8, 16}), labels = randint(0, 10, {8});
  for (int step = 0; step < 5; ++step) {
    const double want = eager_step({x, labels})[0].item<double>();
    EXPECT_NEAR(compiled_step({x, labels})[0].item<double>(), want, 1e-5 * std::abs(want) + 1e-6) << step;
  }
  EXPECT_EQ(compiled_step.stats().hits, 3);
  expect_same_parameters(*eager_model, *compiled_model, 1e-5);
  const std::string& llvm = compiled_step.stage(compiler::Stage::LLVM);
  EXPECT_EQ(llvm.find("<1024 x float>"), std::string::npos) << "whole rows of 1024 in registers";
  EXPECT_NE(llvm.find("<64 x float>"), std::string::npos) << "the rows were not chunked";
}

}  // namespace
}  // namespace ember::jit
