// cnn_digits - a small convnet on the 8x8 digits, trained eagerly.
//
// Conv(1->16, 3x3, pad 1)-ReLU-MaxPool(2)-Conv(16->32, 3x3, pad 1)-ReLU-
// MaxPool(2)-Flatten-Linear(128, 10), Adam, mini-batches of 32, the same
// seeded 80/20 split as mlp_digits. Exits non-zero below 95% test accuracy.
//
//   build/examples/cnn_digits [--epochs 12]
#include <iostream>

#include "common/progress.h"

using namespace ember;

int main(int argc, char** argv) {
  const int epochs = examples::flag(argc, argv, "--epochs", 12);
  manual_seed(0);

  const data::Digits digits = data::load_digits();
  const Tensor images = digits.images.view({-1, 1, 8, 8});
  const auto [train_idx, test_idx] = data::random_split(images.size(0), 0.8, /*seed=*/0);
  auto train = std::make_shared<data::TensorDataset>(data::gather_rows(images, train_idx),
                                                     data::gather_rows(digits.labels, train_idx));
  const Tensor test_x = data::gather_rows(images, test_idx), test_y = data::gather_rows(digits.labels, test_idx);
  data::DataLoader loader(train, {.batch_size = 32, .shuffle = true, .seed = 0});

  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 16, 3, 1, 1), std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Conv2d>(16, 32, 3, 1, 1), std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(32 * 2 * 2, 10));
  std::cout << *model << "\n";
  optim::Adam opt(model->parameters(), {.lr = 3e-3});

  examples::Progress progress;
  double test_acc = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    model->train();
    double loss_sum = 0;
    int64_t seen = 0;
    for (const data::Batch& b : loader) {
      opt.zero_grad();
      Tensor loss = nn::cross_entropy((*model)(b.data), b.target);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * double(b.target.size(0));
      seen += b.target.size(0);
    }
    model->eval();
    test_acc = examples::accuracy((*model)(test_x), test_y);
    progress.update("epoch %2d/%d  loss %.4f  test accuracy %.2f%%  %.0f samples/s", epoch, epochs,
                    loss_sum / double(seen), 100 * test_acc, double(seen) * epoch / progress.seconds());
  }
  progress.done();
  std::printf("cnn_digits: test accuracy %.2f%% on %lld held-out images after %d epochs (%.2f s)\n", 100 * test_acc,
              (long long)test_y.size(0), epochs, progress.seconds());
  return test_acc >= 0.95 ? 0 : 1;
}
