// gpt_fortunes - a character-level GPT trained on the fortune cookies of
// Debian's `fortunes` package (/usr/share/games/fortunes, installed by
// scripts/setup.sh), eagerly and compiled from the same initial weights.
//
// The model is examples/common/gpt.h's (pre-norm blocks, causal attention,
// GELU MLP), AdamW. The first --compare steps train two copies side by side
// on the same batches, one eager and one jit::compile'd, and print both
// losses (they agree to float32 rounding) and the per-step speed-up; the
// rest of the run trains the compiled copy alone. Ends with sampled text;
// exits non-zero unless the loss fell below --goal times the unigram
// entropy of the text (what a model that ignores context achieves).
//
//   build/examples/gpt_fortunes [--steps 600] [--compare 20] [--batch 16]
//                               [--layers 2] [--channels 256] [--goal 0.75]
//                               [--attention fused|written]
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "common/gpt.h"
#include "common/progress.h"
#include "ember/jit/jit.h"

using namespace ember;

namespace {

// '\n' is 0, printable ASCII ' '..'~' are 1..95; other bytes are dropped.
constexpr int64_t kVocab = 96;
int64_t char_id(unsigned char c) { return c == '\n' ? 0 : c - ' ' + 1; }
char id_char(int64_t id) { return id == 0 ? '\n' : static_cast<char>(' ' + id - 1); }

// Every fortune file of the package (the text files: not the .dat indexes
// or the .u8 links), in name order, as token ids.
std::vector<int64_t> load_fortunes(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error))
    if (entry.is_regular_file() && !entry.path().has_extension()) files.push_back(entry.path());
  if (error || files.empty()) {
    std::cerr << "gpt_fortunes: no fortune files in " << dir
              << " (Debian's `fortunes` package; scripts/setup.sh installs it)\n";
    std::exit(2);
  }
  std::sort(files.begin(), files.end());
  std::vector<int64_t> ids;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    for (unsigned char c : text.str())
      if (c == '\n' || (c >= ' ' && c <= '~')) ids.push_back(char_id(c));
  }
  return ids;
}

// The entropy of the text's character frequencies, in nats per character.
double unigram_entropy(const std::vector<int64_t>& ids) {
  std::vector<double> counts(kVocab, 0);
  for (int64_t id : ids) counts[id] += 1;
  double h = 0;
  for (double c : counts)
    if (c > 0) h -= c / ids.size() * std::log(c / ids.size());
  return h;
}

// A batch of random windows: inputs [B, T] and the next characters [B, T].
std::pair<Tensor, Tensor> batch(const std::vector<int64_t>& ids, int64_t b, int64_t t, std::mt19937_64& gen) {
  std::uniform_int_distribution<size_t> start(0, ids.size() - t - 2);
  std::vector<int64_t> x, y;
  for (int64_t i = 0; i < b; ++i) {
    const size_t s = start(gen);
    x.insert(x.end(), ids.begin() + s, ids.begin() + s + t);
    y.insert(y.end(), ids.begin() + s + 1, ids.begin() + s + t + 1);
  }
  return {tensor<int64_t>(x, {b, t}), tensor<int64_t>(y, {b, t})};
}

// `length` characters drawn from the model after a newline, temperature 0.8.
std::string sample(ember::examples::GPT& model, int length, std::mt19937_64& gen) {
  NoGradGuard no_grad;
  std::vector<int64_t> context{0};
  std::string text;
  for (int i = 0; i < length; ++i) {
    const int64_t t = std::min<int64_t>(context.size(), model.config.block_size);
    const std::vector<int64_t> window(context.end() - t, context.end());
    const Tensor logits = model(tensor<int64_t>(window, {1, t})).select(1, t - 1).view({kVocab});
    const auto p = (logits / 0.8).softmax(0).to_vector<double>();
    const int64_t next = std::discrete_distribution<int64_t>(p.begin(), p.end())(gen);
    context.push_back(next);
    text += id_char(next);
  }
  return text;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = ::examples::flag(argc, argv, "--steps", 600);
  const int compare = std::min(steps, ::examples::flag(argc, argv, "--compare", 20));
  const int64_t b = ::examples::flag(argc, argv, "--batch", 16);
  const double goal = std::atof(::examples::flag(argc, argv, "--goal", "0.75").c_str());
  const ember::examples::GPTConfig config{
      .vocab = kVocab,
      .block_size = 128,
      .layers = ::examples::flag(argc, argv, "--layers", 2),
      .heads = 4,
      .channels = ::examples::flag(argc, argv, "--channels", 256),
      .fused_attention = ::examples::flag(argc, argv, "--attention", "fused") != "written"};
  const std::vector<int64_t> ids = load_fortunes("/usr/share/games/fortunes");
  const double entropy = unigram_entropy(ids);
  std::printf("%zu characters of fortunes, unigram entropy %.3f nats/char (uniform %.3f)\n", ids.size(),
              entropy, std::log(double(kVocab)));

  // Two copies from the same initial weights.
  manual_seed(0);
  auto eager_model = std::make_shared<ember::examples::GPT>(config);
  manual_seed(0);
  auto compiled_model = std::make_shared<ember::examples::GPT>(config);
  std::cout << *compiled_model << "\n";
  const optim::AdamOptions adam{.lr = 1e-3, .weight_decay = 0.01};
  optim::AdamW eager_opt(eager_model->parameters(), adam), compiled_opt(compiled_model->parameters(), adam);
  const auto training_step = [](ember::examples::GPT& model, optim::Optimizer& opt) {
    return [&model, &opt](const std::vector<Tensor>& in) {
      opt.zero_grad();
      Tensor loss = ember::examples::next_token_loss(model(in[0]), in[1]);
      loss.backward();
      opt.step();
      return std::vector<Tensor>{loss};
    };
  };
  auto eager_step = training_step(*eager_model, eager_opt);
  auto compiled_step = jit::compile(training_step(*compiled_model, compiled_opt));

  std::mt19937_64 gen(1);
  ::examples::Progress progress;
  std::vector<double> eager_ms, compiled_ms;
  double max_difference = 0, smoothed = std::log(double(kVocab));
  const auto ms_since = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  for (int step = 1; step <= steps; ++step) {
    const auto [x, y] = batch(ids, b, config.block_size, gen);
    double eager_loss = NAN;
    if (step <= compare) {
      const auto start = std::chrono::steady_clock::now();
      eager_loss = eager_step({x, y})[0].item<double>();
      eager_ms.push_back(ms_since(start));
    }
    const auto start = std::chrono::steady_clock::now();
    const double loss = compiled_step({x, y})[0].item<double>();
    if (step > 2) compiled_ms.push_back(ms_since(start));  // 1: the trace, 2: the compile
    if (step <= compare) {
      max_difference = std::max(max_difference, std::abs(loss - eager_loss) / std::abs(eager_loss));
      std::printf("step %3d  eager loss %.6f  compiled loss %.6f\n", step, eager_loss, loss);
    }
    smoothed = step == 1 ? loss : 0.95 * smoothed + 0.05 * loss;
    if (step > compare && (step % 10 == 0 || step == steps))
      progress.update("step %4d/%d  loss %.3f nats/char  %.0f ms/step", step, steps, smoothed,
                      median(compiled_ms));
  }
  progress.done();
  const jit::Stats stats = compiled_step.stats();
  std::printf("compiled: %lld compile(s), %.0f ms; step %.1f ms compiled", (long long)stats.compiles,
              stats.compile_ms, median(compiled_ms));
  if (!eager_ms.empty())  // --compare 0: no eager steps to compare with
    std::printf(", %.1f ms eager: %.2fx", median(eager_ms), median(eager_ms) / median(compiled_ms));
  std::printf("\n");
  std::printf("largest relative loss difference, eager vs compiled, over %d steps: %.2e\n", compare,
              max_difference);
  std::mt19937_64 sampler(0);
  std::printf("--- sampled text ---\n%s\n--------------------\n",
              sample(*compiled_model, 300, sampler).c_str());
  std::printf("gpt_fortunes: loss %.3f nats/char after %d steps (unigram entropy %.3f), %.1f s\n", smoothed,
              steps, entropy, progress.seconds());
  // float32 rounding differs between the two modes' kernels and grows a
  // little over the compared steps; anything near 1e-3 would be a bug.
  const bool agree = max_difference < 1e-4;
  if (!agree) std::printf("gpt_fortunes: eager and compiled losses disagree\n");
  if (stats.compiles != 1)
    std::printf("gpt_fortunes: expected one compile, got %lld\n", (long long)stats.compiles);
  return agree && stats.compiles == 1 && smoothed < goal * entropy ? 0 : 1;
}
