// models.h - what several compiler tests train and compile: a small MLP and
// one optimizer step over it, as a user writes them.
#pragma once

#include <functional>
#include <memory>

#include "ember/ember.h"
#include "ember/tracer/trace.h"

namespace ember::testing {

inline std::shared_ptr<nn::Sequential> small_mlp() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(20, 32), std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(32, 10));
}

// One optimizer step on the loss `loss_of` computes from the inputs, as a
// user writes one to compile: zero_grad, backward, step; returns the loss.
inline tracer::TracedFn optimizer_step(std::function<Tensor(const std::vector<Tensor>&)> loss_of,
                                       std::shared_ptr<optim::Optimizer> opt) {
  return [loss_of, opt](const std::vector<Tensor>& in) {
    opt->zero_grad();
    Tensor loss = loss_of(in);
    loss.backward();
    opt->step();
    return std::vector<Tensor>{loss};
  };
}

// One optimizer step of the MLP as a function of (x, labels). Errors in
// its loss name kSgdStepLossLine of models.h.
inline constexpr int kSgdStepLossLine = __LINE__ + 4;
inline tracer::TracedFn sgd_step(std::shared_ptr<nn::Sequential> model,
                                 std::shared_ptr<optim::Optimizer> opt) {
  return optimizer_step(
      [model](const std::vector<Tensor>& in) { return nn::cross_entropy((*model)(in[0]), in[1]); }, opt);
}

}  // namespace ember::testing
