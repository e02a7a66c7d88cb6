// classifier.h - what the digits examples share: the seeded 80/20 split and
// the epoch loop with its progress line.
#pragma once

#include "common/progress.h"

namespace examples {

struct DigitsSplit {
  std::shared_ptr<ember::data::TensorDataset> train;
  ember::Tensor test_x, test_y;
};

// The digits, images reshaped to `image_shape` per example (e.g. {64} or
// {1, 8, 8}), split 80/20 with a fixed seed.
inline DigitsSplit load_digits_split(ember::IntArrayRef image_shape) {
  using namespace ember;
  const data::Digits digits = data::load_digits();
  std::vector<int64_t> shape{digits.images.size(0)};
  shape.insert(shape.end(), image_shape.begin(), image_shape.end());
  const Tensor images = digits.images.view(shape);
  const auto [train_idx, test_idx] = data::random_split(images.size(0), 0.8, /*seed=*/0);
  return {std::make_shared<data::TensorDataset>(data::gather_rows(images, train_idx),
                                                data::gather_rows(digits.labels, train_idx)),
          data::gather_rows(images, test_idx), data::gather_rows(digits.labels, test_idx)};
}

// Trains with cross-entropy for `epochs`, printing one progress line per
// epoch; returns the final test accuracy.
inline double fit_classifier(ember::nn::Layer& model, const DigitsSplit& split, ember::optim::Optimizer& opt,
                             int epochs, ember::optim::LRScheduler* schedule = nullptr) {
  using namespace ember;
  data::DataLoader loader(split.train, {.batch_size = 32, .shuffle = true, .seed = 0});
  Progress progress;
  double test_acc = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    model.train();
    double loss_sum = 0;
    int64_t seen = 0;
    for (const data::Batch& b : loader) {
      opt.zero_grad();
      Tensor loss = nn::cross_entropy(model(b.data), b.target);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * double(b.target.size(0));
      seen += b.target.size(0);
    }
    if (schedule) schedule->step();
    model.eval();
    test_acc = accuracy(model(split.test_x), split.test_y);
    progress.update("epoch %2d/%d  loss %.4f  test accuracy %.2f%%  %.0f samples/s", epoch, epochs,
                    loss_sum / double(seen), 100 * test_acc, double(seen) * epoch / progress.seconds());
  }
  progress.done();
  std::printf("test accuracy %.2f%% on %lld held-out images after %d epochs (%.2f s)\n", 100 * test_acc,
              (long long)split.test_y.size(0), epochs, progress.seconds());
  return test_acc;
}

}  // namespace examples
