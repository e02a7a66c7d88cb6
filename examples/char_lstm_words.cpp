// char_lstm_words - a character-level LSTM language model over English words.
//
// Words from /usr/share/dict/words, batches of 64 words of different lengths:
// every batch is padded only to its own longest word, so the graph has a
// different shape at every step (the dynamic case a define-by-run framework
// handles for free). Embedding(27, 32)-LSTM(32, 128)-Linear(128, 27), Adam.
// Prints the per-character loss falling and a few sampled words; exits
// non-zero unless the loss fell below 2.5 nats per character (uniform: 3.30).
//
//   build/examples/char_lstm_words [--steps 400] [--samples 8]
#include <cmath>
#include <iostream>
#include <random>

#include "common/progress.h"

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

  examples::Progress progress;
  double smoothed = std::log(double(data::kVocabSize));
  int step = 0;
  int64_t chars = 0;
  while (step < steps) {
    for (const data::Batch& b : loader) {
      if (step++ >= steps) break;
      opt.zero_grad();
      auto [logits, state] = model.forward(b.data);
      Tensor loss = nn::cross_entropy(logits.view({-1, data::kVocabSize}), b.target.view({-1}));
      loss.backward();
      opt.step();
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
  std::printf("\nchar_lstm_words: loss %.3f nats/char after %d steps (uniform %.3f), %.1f s\n", smoothed,
              steps, std::log(double(data::kVocabSize)), progress.seconds());
  return smoothed < 2.5 ? 0 : 1;
}
