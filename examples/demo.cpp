// demo - what ember is for, in one run on the UCI 8x8 handwritten digits:
//
//   1. prototype eagerly: train an MLP define-by-run (progress line, accuracy);
//   2. JIT-compile the same training step and train a twin of the model from
//      the same initial weights on the same batches: same accuracy, the
//      speed-up and the compile time;
//   3. compile inference, compare it with eager;
//   4. export it as native code with a C entry point, and print the command
//      that builds and runs a C program classifying one test image.
//
//   build/examples/demo [--epochs 10] [--export build/demo-export]
//
// Exits non-zero if the compiled run does not reproduce the eager one.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/classifier.h"
#include "ember/jit/export.h"
#include "ember/jit/jit.h"

using namespace ember;

namespace {

std::shared_ptr<nn::Sequential> make_mlp() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(64, 128), std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(128, 10));
}

// One SGD step of `model`: what gets compiled.
tracer::TracedFn training_step(std::shared_ptr<nn::Sequential> model, std::shared_ptr<optim::SGD> opt) {
  return [model, opt](const std::vector<Tensor>& in) {
    opt->zero_grad();
    Tensor loss = nn::cross_entropy((*model)(in[0]), in[1]);
    loss.backward();
    opt->step();
    return std::vector<Tensor>{loss};
  };
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Trains for `epochs` through `step` (eager or compiled); returns the time
// spent in steps, excluding the first `untimed` calls (warm-up, compile).
double train(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& step,
             nn::Sequential& model, const examples::DigitsSplit& split, int epochs, const char* label,
             int untimed) {
  data::DataLoader loader(split.train, {.batch_size = 32, .shuffle = true, .seed = 0, .drop_last = true});
  examples::Progress progress;
  double step_ms = 0;
  int calls = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    int batches = 0;
    for (const data::Batch& b : loader) {
      const double start = now_ms();
      const Tensor loss = step({b.data, b.target})[0];
      if (++calls > untimed) step_ms += now_ms() - start;
      loss_sum += loss.item<double>();
      ++batches;
    }
    NoGradGuard no_grad;
    const double acc = examples::accuracy(model(split.test_x), split.test_y);
    progress.update("%-9s epoch %2d/%d  loss %.4f  test accuracy %.2f%%", label, epoch, epochs,
                    loss_sum / batches, 100 * acc);
  }
  progress.done();
  return step_ms;
}

}  // namespace

int main(int argc, char** argv) {
  const int epochs = examples::flag(argc, argv, "--epochs", 10);
  const std::string dir = examples::flag(argc, argv, "--export", "build/demo-export");
  manual_seed(0);
  const examples::DigitsSplit split = examples::load_digits_split({64});
  auto eager_model = make_mlp(), compiled_model = make_mlp();
  {
    NoGradGuard no_grad;  // the same initial weights
    auto from = eager_model->parameters(), to = compiled_model->parameters();
    for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  const optim::SGDOptions sgd{.lr = 0.05, .momentum = 0.9};
  auto eager_opt = std::make_shared<optim::SGD>(eager_model->parameters(), sgd);
  auto compiled_opt = std::make_shared<optim::SGD>(compiled_model->parameters(), sgd);
  std::cout << *eager_model << "\n";

  // 1. Eager.
  std::printf("1. eager training (define-by-run: every op runs as it is called)\n");
  std::fflush(stdout);  // progress lines go to stderr
  const double eager_ms =
      train(training_step(eager_model, eager_opt), *eager_model, split, epochs, "eager", 2);

  // 2. The same step, compiled.
  std::printf("2. the same training step through jit::compile (traced once, fused native code after)\n");
  std::fflush(stdout);
  auto step =
      std::make_shared<jit::CompiledFunction>(jit::compile(training_step(compiled_model, compiled_opt)));
  const double compiled_ms = train([step](const std::vector<Tensor>& in) { return (*step)(in); },
                                   *compiled_model, split, epochs, "compiled", 2);
  const jit::Stats& stats = step->stats();
  double max_diff = 0;
  {
    auto a = eager_model->parameters(), b = compiled_model->parameters();
    for (size_t i = 0; i < a.size(); ++i)
      max_diff = std::max(max_diff, (a[i] - b[i]).abs().max().item<double>());
  }
  NoGradGuard no_grad;
  const double eager_acc = examples::accuracy((*eager_model)(split.test_x), split.test_y);
  const double compiled_acc = examples::accuracy((*compiled_model)(split.test_x), split.test_y);
  std::printf("   test accuracy: eager %.2f%%, compiled %.2f%%; largest parameter difference %.2g\n",
              100 * eager_acc, 100 * compiled_acc, max_diff);
  std::printf(
      "   training steps: eager %.3f ms, compiled %.3f ms per step (%.2fx); compiled once in %.0f ms; %lld "
      "of "
      "%lld calls native\n",
      eager_ms / double(stats.calls - 2), compiled_ms / double(stats.calls - 2), eager_ms / compiled_ms,
      stats.compile_ms, (long long)stats.hits, (long long)stats.calls);

  // 3. Inference, compiled: the whole test set in one call, and one image
  // at a time (what a server does), each against eager.
  std::printf("3. inference, compiled\n");
  double infer_diff = 0;
  auto infer = jit::compile([compiled_model](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*compiled_model)(in[0])};
  });
  const Tensor one_image = split.test_x.slice(0, 0, 1).contiguous();
  for (const Tensor& x : {split.test_x, one_image}) {
    // Warm-up, trace and compile, then two native calls: the second keeps
    // the weights in oneDNN's layout (Note [Pre-packed weights]).
    for (int i = 0; i < 4; ++i) infer({x});
    const int calls = x.size(0) == 1 ? 5000 : 500;
    const auto time_calls = [&](const std::function<void()>& call) {
      const double start = now_ms();
      for (int i = 0; i < calls; ++i) call();
      return (now_ms() - start) / calls;
    };
    const double eager_infer = time_calls([&] { (*compiled_model)(x); });
    const double compiled_infer = time_calls([&] { infer({x}); });
    const double diff = (infer({x})[0] - (*compiled_model)(x)).abs().max().item<double>();
    infer_diff = std::max(infer_diff, diff);
    std::printf(
        "   %lld image%s per call: eager %.2f us, compiled %.2f us (%.2fx); largest difference %.2g\n",
        (long long)x.size(0), x.size(0) == 1 ? "" : "s", 1000 * eager_infer, 1000 * compiled_infer,
        eager_infer / compiled_infer, diff);
  }

  // 4. Export one image's classification as native code with a C entry point.
  std::printf("4. export for one image at a time\n");
  const Tensor& image = one_image;
  auto classify = jit::compile([compiled_model](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*compiled_model)(in[0])};
  });
  const auto files = jit::export_graph(classify, {image}, dir);
  for (const auto& f : files) std::printf("   %s\n", f.c_str());
  {
    std::ofstream(dir + "/digit.bin", std::ios::binary)
        .write(static_cast<const char*>(image.data_ptr()), static_cast<std::streamsize>(image.numel() * 4));
    // The C program both demos print the command for (examples/common/classify_digit.c).
    std::filesystem::copy_file(EMBER_CLASSIFY_DIGIT_C, dir + "/main.c",
                               std::filesystem::copy_options::overwrite_existing);
  }
  const int64_t predicted = (*compiled_model)(image).argmax(1).item<int64_t>();
  std::printf("   ember predicts %lld for %s/digit.bin (label %lld). Build and run the C program:\n",
              (long long)predicted, dir.c_str(), (long long)split.test_y[0].item<int64_t>());
  std::printf(
      "   cc -O2 -o %s/classify %s/main.c %s/model.o %s -lm -Wl,-rpath,%s && %s/classify %s/digit.bin\n",
      dir.c_str(), dir.c_str(), dir.c_str(), EMBER_OPENBLAS_LIBRARY, EMBER_OPENBLAS_DIR, dir.c_str(),
      dir.c_str());
  const bool same = std::abs(eager_acc - compiled_acc) < 0.01 && max_diff < 1e-3 && infer_diff < 1e-4;
  if (!same) std::printf("the compiled run does not reproduce the eager one\n");
  return same ? 0 : 1;
}
