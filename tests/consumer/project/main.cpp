// Two SGD steps eagerly, then the same computation through jit::compile;
// fails unless the loss fell and the compiled function ran natively with
// eager's numbers.
#include <cmath>
#include <iostream>

#include "ember/ember.h"
#include "ember/jit/jit.h"

int main() {
  using namespace ember;
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(4, 16), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(16, 3));
  optim::SGD opt(model->parameters(), {.lr = 0.1});
  const Tensor x = randn({32, 4}), y = randint(0, 3, {32});
  double first = 0, last = 0;
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    Tensor loss = nn::cross_entropy((*model)(x), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  NoGradGuard no_grad;
  auto forward = [model](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(*model)(in[0]).softmax(-1)};
  };
  auto compiled = jit::compile(forward);
  Tensor got;
  for (int call = 0; call < 3; ++call) got = compiled({x})[0];
  const double difference = (got - forward({x})[0]).abs().max().item<double>();
  std::cout << "consumer: loss " << first << " -> " << last << "; compiled vs eager " << difference << "\n"
            << compiled.explain();
  return last < first && compiled.stats().hits == 1 && difference < 1e-5 ? 0 : 1;
}
