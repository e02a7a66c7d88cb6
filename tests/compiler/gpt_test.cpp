// gpt_test.cpp - the GPT of examples/common/gpt.h trained compiled against
// eager from the same weights, with the attention op and with attention
// written out (matmul, masked_fill, softmax, matmul: batched and transposed
// matmuls, a bool mask read by a row-fused softmax backward).
#include <gtest/gtest.h>

#include "common/gpt.h"
#include "ember/ember.h"
#include "ember/jit/jit.h"

namespace ember::jit {
namespace {

// Two GPTs from the same weights, each with its AdamW, and a training step
// of each: the eager one as it is, the other through jit::compile.
struct TwinGpts {
  std::shared_ptr<examples::GPT> eager_model, compiled_model;
  std::unique_ptr<optim::AdamW> eager_opt, compiled_opt;
  tracer::TracedFn eager_step;
  CompiledFunction compiled_step;

  TwinGpts(const examples::GPTConfig& config, uint64_t seed)
      : eager_model(seeded(config, seed)),
        compiled_model(seeded(config, seed)),
        eager_opt(std::make_unique<optim::AdamW>(eager_model->parameters(), adam())),
        compiled_opt(std::make_unique<optim::AdamW>(compiled_model->parameters(), adam())),
        eager_step(step_of(*eager_model, *eager_opt)),
        compiled_step(compile(step_of(*compiled_model, *compiled_opt))) {}
  static std::shared_ptr<examples::GPT> seeded(const examples::GPTConfig& config, uint64_t seed) {
    manual_seed(seed);
    return std::make_shared<examples::GPT>(config);
  }
  static optim::AdamOptions adam() { return {.lr = 1e-2, .weight_decay = 0.01}; }
  static tracer::TracedFn step_of(examples::GPT& model, optim::Optimizer& opt) {
    return [&model, &opt](const std::vector<Tensor>& in) {
      opt.zero_grad();
      Tensor loss = examples::next_token_loss(model(in[0]), in[1]);
      loss.backward();
      opt.step();
      return std::vector<Tensor>{loss};
    };
  }
};

class CompiledGpt : public ::testing::TestWithParam<bool> {};

TEST_P(CompiledGpt, TrainingStepsFollowEagerAndEveryMatmulIsABlasCall) {
  TwinGpts twins(
      {.vocab = 16, .block_size = 32, .layers = 1, .heads = 2, .channels = 32, .fused_attention = GetParam()},
      3);
  auto& eager_step = twins.eager_step;
  auto& compiled_step = twins.compiled_step;
  const Tensor tokens = randint(0, 16, {4, 32}), targets = randint(0, 16, {4, 32});
  for (int step = 0; step < 5; ++step) {
    const double want = eager_step({tokens, targets})[0].item<double>();
    const double got = compiled_step({tokens, targets})[0].item<double>();
    // float32 sums in another order, compounded over the steps' updates.
    EXPECT_NEAR(got, want, 1e-5 * std::abs(want)) << "step " << step;
  }
  EXPECT_EQ(compiled_step.stats().compiles, 1);
  EXPECT_EQ(compiled_step.stats().hits, 3);
  const std::string explain = compiled_step.explain();
  EXPECT_NE(explain.find("matmul "), std::string::npos) << explain;
  EXPECT_EQ(explain.find(": loops"), std::string::npos) << "a matmul stayed loops:\n" << explain;
}

INSTANTIATE_TEST_SUITE_P(Attention, CompiledGpt, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Fused" : "WrittenOut");
                         });

// Training on sequences of changing length: attention's gradient (dq, and
// dk and dv side by side) and every other op of the step take a `?` T, so
// one dynamic compile trains at every length, loss for loss with eager.
TEST(CompiledGptTraining, SequencesOfChangingLengthTrainInOneDynamicCompile) {
  TwinGpts twins(
      {.vocab = 16, .block_size = 32, .layers = 1, .heads = 2, .channels = 32, .fused_attention = true}, 6);
  auto& eager_step = twins.eager_step;
  auto& compiled_step = twins.compiled_step;
  for (int64_t length : {24, 24, 24, 17, 31, 9, 24, 12}) {
    const Tensor tokens = randint(0, 16, {3, length}), targets = randint(0, 16, {3, length});
    const double want = eager_step({tokens, targets})[0].item<double>();
    const double got = compiled_step({tokens, targets})[0].item<double>();
    // float32 sums in another order, compounded over the steps' updates.
    ASSERT_NEAR(got, want, 1e-4 * std::abs(want)) << "length " << length;
  }
  EXPECT_EQ(compiled_step.stats().compiles, 2) << compiled_step.explain();
}

// Inference on batches of changing size (a server batching requests as they
// come): the attention op reads the batch at run time, so one dynamic
// compile serves every batch, each answer eager's.
TEST(CompiledGptInference, ABatchOfAnySizeRunsTheOneDynamicCompile) {
  manual_seed(4);
  examples::GPT model(
      {.vocab = 16, .block_size = 16, .layers = 2, .heads = 2, .channels = 32, .fused_attention = true});
  NoGradGuard no_grad;
  auto infer = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{model(in[0])}; });
  const auto check = [&](int64_t batch) {
    const Tensor tokens = randint(0, 16, {batch, 16});
    const auto want = model(tokens).to_vector<double>(), got = infer({tokens})[0].to_vector<double>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-5 + 2e-5 * std::abs(want[i])) << "batch " << batch << " element " << i;
  };
  for (int64_t batch : {4, 4, 4, 3, 7, 2, 5}) check(batch);
  EXPECT_EQ(infer.stats().compiles, 2) << infer.explain();
  EXPECT_NE(infer.stage(compiler::Stage::Buffers).find("memref.alloc(%"), std::string::npos)
      << "the attention kernel's results are allocated at the batch read at run time";
  for (int i = 0; i < 2; ++i) check(1);  // the right answer, whatever a batch of 1 compiles to
}

// Prompts of changing length: the positions (arange(0, T)) and every
// activation have a `?` T, read from the tokens' dim 1 at run time (Note
// [Sizes in a generalized graph]); one dynamic compile serves every length.
TEST(CompiledGptInference, APromptOfAnyLengthRunsTheOneDynamicCompile) {
  manual_seed(5);
  examples::GPT model(
      {.vocab = 16, .block_size = 32, .layers = 2, .heads = 2, .channels = 32, .fused_attention = true});
  NoGradGuard no_grad;
  auto infer = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{model(in[0])}; });
  for (int64_t length : {16, 16, 16, 9, 12, 5, 31, 2}) {
    const Tensor tokens = randint(0, 16, {3, length});
    const auto want = model(tokens).to_vector<double>(), got = infer({tokens})[0].to_vector<double>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-5 + 2e-5 * std::abs(want[i]))
          << "length " << length << " element " << i;
  }
  EXPECT_EQ(infer.stats().compiles, 2) << infer.explain();
}

}  // namespace
}  // namespace ember::jit
