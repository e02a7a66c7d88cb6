// char_lstm_words - a character-level LSTM language model over English words.
//
// Words from /usr/share/dict/words, batches of 64 words of different lengths:
// every batch is padded only to its own longest word, so the graph has a
// different shape at every step (the dynamic case a define-by-run framework
// handles for free). Embedding(27, 32)-LSTM(32, 128)-Linear(128, 27), Adam.
// Prints the per-character loss falling and a few sampled words; exits
// non-zero unless the loss fell below 2.5 nats per character (uniform: 3.30).
//
// --jit trains through jit::compile: nn::LSTM is one lstm op per layer
// (Note [Fused LSTM]), so a new word length is a new size of dim 0, and
// automatic dynamic dims make the whole run two compiles (the first length,
// then one with `?` T); it prints explain() and exits non-zero after more.
//
//   build/examples/char_lstm_words [--steps 400] [--samples 8] [--jit]
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <random>

#include "common/progress.h"
#if EMBER_EXAMPLE_JIT
#include "ember/jit/jit.h"
#endif

using namespace ember;

struct CharModel : nn::Module {
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> head;
  CharModel() : Module("CharModel") {
    embed = register_module("embed", std::make_shared<nn::Embedding>(data::kVocabSize, 32));
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(32, 128));
    head = register_module("head", std::make_shared<nn::Linear>(128, data::kVocabSize));
  }
  // inputs [T, B] -> logits [T, B, vocab], and the final state.
  std::pair<Tensor, nn::LSTMState> forward(const Tensor& inputs, const nn::LSTMState& state = {}) {
    auto [out, next] = lstm->forward((*embed)(inputs), state);
    return {(*head)(out), next};
  }
};

std::string sample_word(CharModel& model, std::mt19937_64& gen, int max_len = 14) {
  NoGradGuard no_grad;
  std::string word;
  nn::LSTMState state;
  int64_t token = data::kBoundary;
  while (static_cast<int>(word.size()) < max_len) {
    auto [logits, next] = model.forward(tensor<int64_t>({token}, {1, 1}), state);
    state = next;
    const auto p = logits.view({data::kVocabSize}).softmax(0).to_vector<double>();
    token = std::discrete_distribution<int64_t>(p.begin(), p.end())(gen);
    if (token == data::kBoundary) break;
    word += data::id_char(token);
  }
  return word;
}

int main(int argc, char** argv) {
  const int steps = examples::flag(argc, argv, "--steps", 400);
  const int samples = examples::flag(argc, argv, "--samples", 8);
  manual_seed(0);

  auto words = std::make_shared<data::WordDataset>(data::load_words());
  data::DataLoader loader(words, {.batch_size = 64, .shuffle = true, .seed = 0, .drop_last = true});
  CharModel model;
  std::cout << model << "\n" << words->size() << " words\n";
  optim::Adam opt(model.parameters(), {.lr = 5e-3});

  // One training step as a function of (inputs [T, B], targets [T, B]).
  const auto train_step = [&](const std::vector<Tensor>& in) {
    opt.zero_grad();
    auto [logits, state] = model.forward(in[0]);
    Tensor loss = nn::cross_entropy(logits.view({-1, data::kVocabSize}), in[1].view({-1}));
    loss.backward();
    opt.step();
    return std::vector<Tensor>{loss};
  };
  const bool use_jit = examples::has_flag(argc, argv, "--jit");
#if EMBER_EXAMPLE_JIT
  std::optional<jit::CompiledFunction> compiled;
  if (use_jit) compiled = jit::compile(train_step);
  const auto run_step = [&](const std::vector<Tensor>& in) {
    return use_jit ? (*compiled)(in) : train_step(in);
  };
#else
  EMBER_CHECK(!use_jit, Loc::current(), "char_lstm_words: --jit needs ember built with its compiler");
  const auto run_step = train_step;
#endif

  examples::Progress progress;
  double smoothed = std::log(double(data::kVocabSize));
  int step = 0;
  int64_t chars = 0;
  std::vector<double> step_ms;  // their median: the step's time without the compiles
  while (step < steps) {
    for (const data::Batch& b : loader) {
      if (step++ >= steps) break;
      const double start = progress.seconds();
      const Tensor loss = run_step({b.data, b.target})[0];
      step_ms.push_back(1e3 * (progress.seconds() - start));
      smoothed = 0.95 * smoothed + 0.05 * loss.item<double>();
      chars += b.target.ne(kIgnoreIndex).sum().item<int64_t>();
      if (step % 10 == 0 || step == steps)
        progress.update("step %4d/%d  loss %.3f nats/char  batch length %2lld  %.0f chars/s", step, steps,
                        smoothed, (long long)b.data.size(0), double(chars) / progress.seconds());
    }
  }
  progress.done();
  std::mt19937_64 gen(0);
  std::printf("samples:");
  for (int i = 0; i < samples; ++i) std::printf(" %s", sample_word(model, gen).c_str());
  std::nth_element(step_ms.begin(), step_ms.begin() + step_ms.size() / 2, step_ms.end());
  std::printf(
      "\nchar_lstm_words: loss %.5f nats/char after %d steps (uniform %.3f), %.1f s; %s step: median %.2f "
      "ms\n",
      smoothed, steps, std::log(double(data::kVocabSize)), progress.seconds(), use_jit ? "compiled" : "eager",
      step_ms.empty() ? 0.0 : step_ms[step_ms.size() / 2]);
#if EMBER_EXAMPLE_JIT
  if (use_jit) {
    std::cout << compiled->explain();
    if (compiled->stats().compiles > 2) {
      std::printf("char_lstm_words: %lld compiles (at most 2 expected)\n",
                  (long long)compiled->stats().compiles);
      return 1;
    }
  }
#endif
  return smoothed < 2.5 ? 0 : 1;
}
