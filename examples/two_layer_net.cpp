// two_layer_net - trains a two-layer network eagerly on generated data.
//
// The target is a smooth function of 8 inputs; the network is
// Linear(8, 64) -> tanh -> Linear(64, 1), trained by full-batch gradient
// descent with hand-written SGD under NoGradGuard. The loss printed each
// 50 steps should fall by two orders of magnitude.
//
//   build/examples/two_layer_net [--steps N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ember/ember.h"

using namespace ember;

int main(int argc, char** argv) {
  int steps = 500;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoi(argv[i + 1]);

  manual_seed(0);
  const int64_t n = 1024, features = 8, hidden = 64;
  // Data: y = sin(x . a) + 0.5 * (x . b)^2 / features.
  Tensor x = randn({n, features});
  Tensor a = randn({features, 1}) * 0.5, b = randn({features, 1}) * 0.5;
  Tensor y = x.matmul(a).sin() + x.matmul(b).pow(2) * (0.5 / features);

  // Parameters, initialized like torch.nn.Linear: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  auto uniform = [](IntArrayRef shape, double bound) {
    return ((rand(shape) * 2 - 1) * bound).requires_grad_();
  };
  Tensor w1 = uniform({hidden, features}, 1 / std::sqrt(double(features)));
  Tensor b1 = uniform({hidden}, 1 / std::sqrt(double(features)));
  Tensor w2 = uniform({1, hidden}, 1 / std::sqrt(double(hidden)));
  Tensor b2 = uniform({1}, 1 / std::sqrt(double(hidden)));
  std::vector<Tensor*> params{&w1, &b1, &w2, &b2};

  const double lr = 0.1, momentum = 0.9;
  std::vector<Tensor> velocity;
  for (Tensor* p : params) velocity.push_back(zeros_like(*p));

  std::printf("two_layer_net: %lld samples, %lld -> %lld -> 1, SGD lr %.2f momentum %.1f\n", (long long)n,
              (long long)features, (long long)hidden, lr, momentum);
  const auto start = std::chrono::steady_clock::now();
  double first = 0, last = 0;
  for (int step = 0; step <= steps; ++step) {
    Tensor pred = linear(linear(x, w1, b1).tanh(), w2, b2);
    Tensor loss = (pred - y).pow(2).mean();
    loss.backward();
    {
      NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) {
        velocity[i].mul_(momentum).add_(params[i]->grad());
        params[i]->sub_(velocity[i] * lr);
        params[i]->set_grad(Tensor());
      }
    }
    last = loss.item<double>();
    if (step == 0) first = last;
    if (step % 50 == 0) std::printf("step %4d  loss %.6f\n", step, last);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("loss %.6f -> %.6f in %d steps (%.2f s, %.2f ms/step)\n", first, last, steps, seconds,
              1000 * seconds / (steps + 1));
  return last < first / 10 ? 0 : 1;
}
