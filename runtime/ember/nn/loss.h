// loss.h - loss functions, as in torch.nn.functional.
#pragma once

#include "ember/ops.h"

namespace ember::nn {

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                const Loc& loc = Loc::current());

struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = kIgnoreIndex;
  // Mixes the one-hot target with the uniform distribution: each class gets
  // label_smoothing / C, the true class 1 - label_smoothing more.
  double label_smoothing = 0.0;
};
// logits [N, C], integer targets [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, CrossEntropyOptions options = {},
                     const Loc& loc = Loc::current());
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, Reduction reduction = Reduction::Mean,
                int64_t ignore_index = kIgnoreIndex, const Loc& loc = Loc::current());
// softplus(x) - x * y, stable for large |x|, with the gradient sigmoid(x) - y.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets,
                                        Reduction reduction = Reduction::Mean,
                                        const Loc& loc = Loc::current());

}  // namespace ember::nn
