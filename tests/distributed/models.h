// models.h - what the DDP tests share: the model and each rank's rows of a
// batch every rank draws alike.
#pragma once

#include "ember/distributed/distributed.h"
#include "ember/ember.h"

namespace ember::distributed {

inline constexpr int64_t kLocalBatch = 4;

inline std::shared_ptr<nn::Sequential> mlp() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(6, 16), std::make_shared<nn::Tanh>(),
                                          std::make_shared<nn::Linear>(16, 4));
}

// This rank's kLocalBatch rows of a global batch.
inline Tensor my_rows(const Tensor& global) {
  return global.slice(0, rank() * kLocalBatch, (rank() + 1) * kLocalBatch).contiguous();
}

}  // namespace ember::distributed
