// jit_test.cpp - jit::compile: warm-up, trace and compile per guard key,
// native hits, recompiles with their reasons, the budget, eager fallbacks.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/jit/jit.h"
#include "ember/tracer/trace.h"

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
  EXPECT_NE(f.explain().find("4 calls: 2 native, 1 eager; 1 traces, 1 compiles"), std::string::npos)
      << f.explain();
}

// Sizes that change compile each (automatic dynamic dims off; dynamic_test.cpp has them on).
Options static_sizes() {
  Options options;
  options.automatic_dynamic = false;
  return options;
}

TEST(Jit, ANewSignatureRecompilesAndSaysWhy) {
  auto f = compile(chain, static_sizes());
  for (int64_t n : {128, 128, 64, 64, 64}) f({randn({n})});
  const Stats& s = f.stats();
  EXPECT_EQ(s.compiles, 2);
  ASSERT_EQ(s.recompile_reasons.size(), 1u);
  EXPECT_EQ(s.recompile_reasons[0], "input 0 dim 0: 128 -> 64");
  EXPECT_NE(f.explain().find("recompile 1: input 0 dim 0: 128 -> 64"), std::string::npos) << f.explain();
}

TEST(Jit, TheRecompileBudgetKeepsTheFunctionEager) {
  Options options = static_sizes();
  options.recompile_budget = 2;
  auto f = compile(chain, options);
  for (int64_t n : {10, 11, 12})
    for (int i = 0; i < 3; ++i) f({randn({n})});
  const Stats& s = f.stats();
  EXPECT_EQ(s.compiles, 2);
  ASSERT_FALSE(s.eager_reasons.empty());
  EXPECT_NE(s.eager_reasons.back().find("recompile budget of 2"), std::string::npos)
      << s.eager_reasons.back();
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
  EXPECT_NE(s.eager_reasons[0].find("jit_test.cpp:" + std::to_string(line)), std::string::npos)
      << s.eager_reasons[0];
  EXPECT_EQ(f({ones({3})})[0].to_vector<float>(), (std::vector<float>{2, 2, 2}));
}

TEST(Jit, ACompileOverItsBudgetLeavesTheSignatureEagerAndStillAnswers) {
  Options options;
  options.budget.llvm_ops = 10;
  auto f = compile(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(in[1]).tanh()}; }, options);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(f({ones({2, 2}), ones({2, 2, 2})})[0].to_vector<float>(),
              std::vector<float>(8, std::tanh(2.0f)));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(f.stats().compiles, 0);
  ASSERT_EQ(f.stats().eager_reasons.size(), 1u);
  EXPECT_NE(f.stats().eager_reasons[0].find("LLVM-dialect module has"), std::string::npos);
  EXPECT_NE(err.find("this signature runs eagerly"), std::string::npos) << err;
  EXPECT_NE(f.explain().find("over its budget of 10"), std::string::npos) << f.explain();
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
  Options options;
  options.training = [&] { return training; };
  auto f = compile(chain, options);
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

// Note [Captured tensors are guarded]: each kind of change to a captured
// tensor, and what a compiled function does about it.
struct TwoLayers : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  TwoLayers() : Module("TwoLayers") {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(8, 16));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(16, 4));
  }
  Tensor operator()(const Tensor& x) { return (*fc2)((*fc1)(x).relu()); }
};

// Compiled on float32 weights; the weights become float64 and the input
// stays float32: eager raises, so the compiled function raises the same
// error, never reads the float64 buffers as float32.
TEST(JitCapturedGuard, ADtypeChangeIsNeverReadAsTheOldDtype) {
  manual_seed(31);
  auto net = std::make_shared<TwoLayers>();
  NoGradGuard no_grad;
  auto f = compile([net](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*net)(in[0])}; });
  const Tensor x = randn({5, 8});
  for (int i = 0; i < 3; ++i) f({x});
  ASSERT_EQ(f.stats().hits, 1);
  net->to(DType::Float64);
  try {
    f({x});
    FAIL() << "a float64 model ran on a float32 input: " << f.explain();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("matmul"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("dtype"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.stats().hits, 1) << "no native call on the changed weights";
}

// A function that follows the weights' dtype: the change recompiles, the
// reason names the tensor and the change, and the answer is eager's.
TEST(JitCapturedGuard, ADtypeChangeRecompilesSayingWhichTensor) {
  manual_seed(32);
  auto net = std::make_shared<TwoLayers>();
  NoGradGuard no_grad;
  auto forward = [net](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*net)(in[0].to(net->fc1->weight.dtype()))};
  };
  auto f = compile(forward);
  const Tensor x = randn({5, 8});
  for (int i = 0; i < 3; ++i) f({x});
  net->to(DType::Float64);
  for (int i = 0; i < 3; ++i) {
    const Tensor got = f({x})[0], want = forward({x})[0];
    ASSERT_EQ(got.dtype(), DType::Float64);
    EXPECT_EQ(got.to_vector<double>(), want.to_vector<double>());
  }
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 2);
  ASSERT_EQ(s.recompile_reasons.size(), 1u) << f.explain();
  EXPECT_NE(s.recompile_reasons[0].find("captured fc1.weight: float32[16, 8] -> float64[16, 8]"),
            std::string::npos)
      << f.explain();
  EXPECT_NE(f.explain().find("recompile 1: captured fc1.weight: float32[16, 8] -> float64[16, 8]"),
            std::string::npos)
      << f.explain();
}

// set_data with another shape (here one that still broadcasts), then with
// the same shape but other strides: each recompiles and gives eager's
// answer.
TEST(JitCapturedGuard, ShapeAndStrideChangesRecompile) {
  manual_seed(33);
  Tensor scale = randn({6});
  scale.set_name("scale");
  auto fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * scale + 1}; };
  auto f = compile(fn);
  const Tensor x = randn({4, 6});
  for (int i = 0; i < 3; ++i) f({x});
  scale.set_data(randn({1}));
  EXPECT_EQ(f({x})[0].to_vector<float>(), fn({x})[0].to_vector<float>());
  Tensor square = randn({6, 6});
  auto g = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(square)}; });
  for (int i = 0; i < 3; ++i) g({x});
  square.set_data(randn({6, 6}).t());  // same shape, transposed strides
  const Tensor got = g({x})[0], want = x.matmul(square);
  const auto a = got.to_vector<float>(), b = want.to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * (1 + std::abs(b[i])));
  ASSERT_EQ(f.stats().recompile_reasons.size(), 1u) << f.explain();
  EXPECT_EQ(f.stats().recompile_reasons[0], "captured scale: float32[6] -> float32[1]");
  ASSERT_EQ(g.stats().recompile_reasons.size(), 1u) << g.explain();
  EXPECT_EQ(g.stats().recompile_reasons[0], "captured 0: strides [6, 1] -> [1, 6]");
}

// requires_grad decides which gradients a compiled backward makes: a change
// recompiles, and the gradient then reaches the tensor.
TEST(JitCapturedGuard, ARequiresGradChangeRecompiles) {
  manual_seed(34);
  Tensor w = randn({3});
  auto f = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{(in[0] * w).sum()}; });
  const Tensor x = randn({3}).requires_grad_();
  for (int i = 0; i < 3; ++i) f({x});
  w.requires_grad_();
  f({x})[0].backward();
  ASSERT_TRUE(w.grad().defined()) << f.explain();
  EXPECT_EQ(w.grad().to_vector<float>(), x.detach().to_vector<float>());
  ASSERT_EQ(f.stats().recompile_reasons.size(), 1u) << f.explain();
  EXPECT_EQ(f.stats().recompile_reasons[0], "captured 0: requires_grad false -> true");
}

// What needs no recompile: new values in place (an optimizer step), and a
// new buffer of the same type (set_data): the next call reads them.
TEST(JitCapturedGuard, NewValuesAndNewBuffersOfTheSameTypeNeedNoRecompile) {
  manual_seed(35);
  auto net = std::make_shared<TwoLayers>();
  NoGradGuard no_grad;
  auto forward = [net](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*net)(in[0])}; };
  auto f = compile(forward);
  const Tensor x = randn({5, 8});
  for (int i = 0; i < 4; ++i)
    f({x});  // native twice: the second packs fc1.weight (Note [Pre-packed weights])
  const auto expect_eager = [&] {
    const auto got = f({x})[0].to_vector<float>(), want = forward({x})[0].to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * (1 + std::abs(want[i])));
  };
  net->fc1->weight.mul_(-2);
  expect_eager();
  net->fc2->weight.set_data(randn({4, 16}));
  expect_eager();
  net->fc1->weight.set_data(randn({16, 8}));
  expect_eager();
  expect_eager();
  EXPECT_EQ(f.stats().compiles, 1) << f.explain();
}

// A CompiledGraph called directly on changed captured tensors refuses.
TEST(JitCapturedGuard, ACompiledGraphRefusesChangedCapturedTensors) {
  Tensor w = ones({3});
  w.set_name("w");
  auto traced = tracer::trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + w}; },
                              {ones({3})});
  auto graph = compiler::CompiledGraph::compile(traced.graph);
  w.set_data(ones({3}, DType::Float64));
  try {
    graph->run({ones({3})});
    FAIL() << "ran on a float64 tensor compiled as float32";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("captured w: float32[3] -> float64[3]"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ember::jit
