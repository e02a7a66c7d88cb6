// cnn_digits - a small convnet on the 8x8 digits, trained eagerly.
//
// Conv(1->16, 3x3, pad 1)-ReLU-MaxPool(2)-Conv(16->32, 3x3, pad 1)-ReLU-
// MaxPool(2)-Flatten-Linear(128, 10), Adam, mini-batches of 32, the same
// seeded 80/20 split as mlp_digits. Exits non-zero below 95% test accuracy.
//
//   build/examples/cnn_digits [--epochs 12]
#include <iostream>

#include "common/classifier.h"

using namespace ember;

int main(int argc, char** argv) {
  const int epochs = examples::flag(argc, argv, "--epochs", 12);
  manual_seed(0);
  const examples::DigitsSplit split = examples::load_digits_split({1, 8, 8});

  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 16, 3, 1, 1), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Conv2d>(16, 32, 3, 1, 1),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(32 * 2 * 2, 10));
  std::cout << *model << "\n";
  optim::Adam opt(model->parameters(), {.lr = 3e-3});
  std::printf("cnn_digits: ");
  return examples::fit_classifier(*model, split, opt, epochs) >= 0.95 ? 0 : 1;
}
