// jit_test.cpp - jit::compile: warm-up, trace and compile per guard key,
// native hits, recompiles with their reasons, the budget, eager fallbacks.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/jit/jit.h"

namespace ember::jit {
namespace {

std::vector<Tensor> chain(const std::vector<Tensor>& in) {
  return {(in[0] * 1.5 + 0.5).tanh() * in[0].sigmoid() + in[0]};
}

void expect_near_tensors(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], 1e-6 + 1e-5 * std::abs(y[i]));
}

TEST(Jit, WarmsUpTracesCompilesThenRunsNative) {
  auto f = compile(chain);
  const Tensor x = randn({1000});
  const Tensor want = chain({x})[0];
  for (int i = 0; i < 4; ++i) expect_near_tensors(f({x})[0], want);
  const Stats& s = f.stats();
  EXPECT_EQ(s.calls, 4);
  EXPECT_EQ(s.eager_calls, 1) << "the warm-up";
  EXPECT_EQ(s.traces, 1);
  EXPECT_EQ(s.compiles, 1);
  EXPECT_EQ(s.hits, 2);
  EXPECT_GT(s.compile_ms, 0);
  EXPECT_NE(f.graph_text().find("tanh"), std::string::npos);
  EXPECT_NE(f.stage(compiler::Stage::Ember).find("ember.tanh"), std::string::npos);
  EXPECT_NE(f.stage(compiler::Stage::Linalg).find("linalg.generic"), std::string::npos);
  EXPECT_NE(f.stage(compiler::Stage::Buffers).find("memref"), std::string::npos);
  EXPECT_NE(f.stage(compiler::Stage::LLVM).find("define void @_mlir_ciface_forward"), std::string::npos);
  EXPECT_NE(f.explain().find("4 calls: 2 native, 1 eager; 1 traces, 1 compiles"), std::string::npos) << f.explain();
}

TEST(Jit, ANewSignatureRecompilesAndSaysWhy) {
  auto f = compile(chain);
  for (int64_t n : {128, 128, 64, 64, 64}) f({randn({n})});
  const Stats& s = f.stats();
  EXPECT_EQ(s.compiles, 2);
  ASSERT_EQ(s.recompile_reasons.size(), 1u);
  EXPECT_EQ(s.recompile_reasons[0], "input 0 dim 0: 128 -> 64");
  EXPECT_NE(f.explain().find("recompile 1: input 0 dim 0: 128 -> 64"), std::string::npos) << f.explain();
}

TEST(Jit, TheRecompileBudgetKeepsTheFunctionEager) {
  auto f = compile(chain, {.recompile_budget = 2});
  for (int64_t n : {10, 11, 12})
    for (int i = 0; i < 3; ++i) f({randn({n})});
  const Stats& s = f.stats();
  EXPECT_EQ(s.compiles, 2);
  ASSERT_FALSE(s.eager_reasons.empty());
  EXPECT_NE(s.eager_reasons.back().find("recompile budget of 2"), std::string::npos) << s.eager_reasons.back();
  const Tensor x = randn({12});
  expect_near_tensors(f({x})[0], chain({x})[0]);  // still right, eagerly
}

TEST(Jit, DataDependentTracesStayEagerNamingTheLine) {
  auto f = compile([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].max().item<double>() > 0 ? in[0] * 2 : in[0]};
  });
  const int line = __LINE__ - 2;
  for (int i = 0; i < 3; ++i) f({ones({3})});
  const Stats& s = f.stats();
  EXPECT_EQ(s.compiles, 0);
  EXPECT_EQ(s.hits, 0);
  ASSERT_EQ(s.eager_reasons.size(), 1u) << "said once";
  EXPECT_NE(s.eager_reasons[0].find("jit_test.cpp:" + std::to_string(line)), std::string::npos) << s.eager_reasons[0];
  EXPECT_EQ(f({ones({3})})[0].to_vector<float>(), (std::vector<float>{2, 2, 2}));
}

TEST(Jit, OpsWithoutALoweringStayEagerAndStillAnswer) {
  // A matrix times a batch (batch broadcasting) has no lowering yet.
  auto f = compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(in[1])}; });
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(f({ones({2, 2}), ones({2, 2, 2})})[0].to_vector<float>(), std::vector<float>(8, 2.0f));
  ASSERT_EQ(f.stats().eager_reasons.size(), 1u);
  EXPECT_NE(f.stats().eager_reasons[0].find("ember.matmul has no lowering yet"), std::string::npos);
}

TEST(Jit, CapturedTensorsAreReadAtCallTime) {
  Tensor w = ones({3});
  auto f = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * w}; });
  for (int i = 0; i < 3; ++i) f({full({3}, 2.0)});
  EXPECT_EQ(f.stats().hits, 1);
  {
    NoGradGuard no_grad;
    w.fill_(5);  // e.g. an optimizer step between calls
  }
  EXPECT_EQ(f({full({3}, 2.0)})[0].to_vector<float>(), (std::vector<float>{10, 10, 10}));
  EXPECT_EQ(f.stats().hits, 2);
}

TEST(Jit, GradModeAndTrainingArePartOfTheKey) {
  bool training = true;
  auto f = compile(chain, {.training = [&] { return training; }});
  for (int i = 0; i < 2; ++i) f({ones({3})});
  training = false;
  for (int i = 0; i < 2; ++i) f({ones({3})});
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 2; ++i) f({ones({3})});
  }
  ASSERT_EQ(f.stats().recompile_reasons.size(), 2u);
  EXPECT_EQ(f.stats().recompile_reasons[0], "mode: train -> eval");
  EXPECT_EQ(f.stats().recompile_reasons[1], "grad mode: on -> off");
}

}  // namespace
}  // namespace ember::jit
