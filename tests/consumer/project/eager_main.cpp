// Two SGD steps of a small MLP with ember's runtime alone; fails unless the
// loss fell and libMLIR is not in the process (an eager-only program must
// not load the compiler's dependencies).
#include <fstream>
#include <iostream>
#include <string>

#include "ember/ember.h"

int main() {
  using namespace ember;
  manual_seed(0);
  nn::Sequential model(std::make_shared<nn::Linear>(4, 16), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Linear>(16, 3));
  optim::SGD opt(model.parameters(), {.lr = 0.1});
  const Tensor x = randn({32, 4}), y = randint(0, 3, {32});
  double first = 0, last = 0;
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    Tensor loss = nn::cross_entropy(model(x), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find("libMLIR") != std::string::npos || line.find("libLLVM") != std::string::npos) {
      std::cerr << "consumer_eager: an eager-only program loaded " << line << "\n";
      return 1;
    }
  std::cout << "consumer_eager: loss " << first << " -> " << last << "\n";
  return last < first ? 0 : 1;
}
