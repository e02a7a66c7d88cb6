// models.h - what several compiler tests train and compile: a small MLP and
// one optimizer step over it, as a user writes them.
#pragma once

#include <memory>

#include "ember/ember.h"
#include "ember/tracer/trace.h"

namespace ember::testing {

inline std::shared_ptr<nn::Sequential> small_mlp() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(20, 32), std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(32, 10));
}

// One optimizer step as a function of (x, labels): what a user compiles.
inline tracer::TracedFn sgd_step(std::shared_ptr<nn::Sequential> model,
                                 std::shared_ptr<optim::Optimizer> opt) {
  return [model, opt](const std::vector<Tensor>& in) {
    opt->zero_grad();
    Tensor loss = nn::cross_entropy((*model)(in[0]), in[1]);
    loss.backward();
    opt->step();
    return std::vector<Tensor>{loss};
  };
}

}  // namespace ember::testing
