// loss.cpp - losses built from table ops (cross_entropy and nll_loss are
// fused primitives; label smoothing and the others are composites).
#include "ember/nn/loss.h"

namespace ember::nn {

namespace {
Tensor reduce(const Tensor& per_element, Reduction r, const Loc& loc) {
  if (r == Reduction::Mean) return per_element.mean({}, false, loc);
  if (r == Reduction::Sum) return per_element.sum({}, false, loc);
  return per_element;
}
}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction, const Loc& loc) {
  EMBER_CHECK(input.defined() && target.defined() && input.sizes() == target.sizes(), loc, "mse_loss: input ",
              input.defined() ? input.sizes() : Shape(), " and target ",
              target.defined() ? target.sizes() : Shape(), " must have the same shape");
  const Tensor d = input.sub(target, loc);
  return reduce(d.mul(d, loc), reduction, loc);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, CrossEntropyOptions o, const Loc& loc) {
  EMBER_CHECK(o.label_smoothing >= 0 && o.label_smoothing <= 1, loc,
              "cross_entropy: label_smoothing must be in [0, 1], got ", o.label_smoothing);
  const Tensor hard = ember::cross_entropy(logits, targets, o.reduction, o.ignore_index, loc);
  if (o.label_smoothing == 0) return hard;
  // The smoothing term: the mean over classes of -log p, over the same rows.
  const Tensor valid = targets.ne(o.ignore_index, loc);
  const Tensor smooth_rows = logits.log_softmax(1, loc).mean(1, false, loc).neg(loc).mul(valid, loc);
  Tensor smooth;
  if (o.reduction == Reduction::None)
    smooth = smooth_rows;
  else if (o.reduction == Reduction::Sum)
    smooth = smooth_rows.sum({}, false, loc);
  else
    smooth = smooth_rows.sum({}, false, loc).div(valid.sum({}, false, loc), loc);
  return hard.mul(1 - o.label_smoothing, loc).add(smooth.mul(o.label_smoothing, loc), loc);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, Reduction reduction, int64_t ignore_index,
                const Loc& loc) {
  return ember::nll_loss(log_probs, targets, reduction, ignore_index, loc);
}

Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, Reduction reduction,
                                        const Loc& loc) {
  EMBER_CHECK(x.defined() && y.defined() && x.sizes() == y.sizes(), loc,
              "binary_cross_entropy_with_logits: logits ", x.defined() ? x.sizes() : Shape(), " and targets ",
              y.defined() ? y.sizes() : Shape(), " must have the same shape");
  // softplus(x) - x y, with softplus split at 0 so that each branch is stable
  // and smooth (a max/abs form has a kink whose subgradient at x = 0 is wrong);
  // each branch reads x clamped to its own side, so the other branch's
  // gradient cannot be inf * 0 = NaN.
  const Tensor pos = x.clamp(0.0, std::nullopt, loc), neg = x.clamp(std::nullopt, 0.0, loc);
  const Tensor softplus = where(x.gt(0, loc), pos.add(pos.neg(loc).exp(loc).add(1, loc).log(loc), loc),
                                neg.exp(loc).add(1, loc).log(loc), loc);
  const Tensor per = softplus.sub(x.mul(y, loc), loc);
  return reduce(per, reduction, loc);
}

}  // namespace ember::nn
