// optimizer.h - optimizers and learning-rate schedules, as in torch.optim.
//
//   optim::SGD opt(model->parameters(), {.lr = 0.01, .momentum = 0.9});
//   optim::CosineAnnealingLR schedule(opt, /*t_max=*/epochs);
//   for (...) {
//     opt.zero_grad();
//     loss(model, batch).backward();
//     opt.step();                     // in place, unrecorded: parameters keep their identity
//   }
//   schedule.step();                  // once per epoch
#pragma once

#include <cstdint>
#include <vector>

#include "ember/tensor.h"

namespace ember::optim {

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  // Updates every parameter that has a gradient, in place, under no_grad.
  // The update's ops report the caller's line (Note [The user's line]).
  void step(const Loc& loc = Loc::current());
  // Sets every gradient to undefined (which frees it), like set_to_none=True.
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;
  double lr_;
  // Note [Hyperparameters a trace must not bake]
  // A C++ number in an update is a constant in a jit trace: a step compiled
  // at lr 0.1 would keep 0.1 after a scheduler lowered it, silently. The
  // learning rate (and Adam's step count) therefore also live in 0-d f64
  // tensors, updated in place, which updates read: a trace captures them
  // by reference, so a compiled step sees the scheduler's new value.
  Tensor lr_tensor_;

 private:
  virtual void update() = 0;
};

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;  // L2: adds weight_decay * p to the gradient
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  const SGDOptions& options() const { return options_; }

 private:
  void update() override;
  SGDOptions options_;
  std::vector<Tensor> momentum_;  // undefined until the first step
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// Adam; with `decoupled_weight_decay` (AdamW) the decay shrinks the weights
// directly instead of joining the gradient.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled_weight_decay = false);
  int64_t steps() const;

 private:
  void update() override;
  AdamOptions options_;
  bool decoupled_;
  Tensor step_;  // 0-d f64 (Note [Hyperparameters a trace must not bake])
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

class AdamW : public Adam {
 public:
  // PyTorch's AdamW default weight decay is 0.01.
  AdamW(std::vector<Tensor> params, AdamOptions options = {.weight_decay = 0.01})
      : Adam(std::move(params), options, true) {}
};

// Learning-rate schedules: call step() once per epoch.
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}
  virtual ~LRScheduler() = default;
  void step() { optimizer_.set_lr(lr_at(++epoch_)); }
  int64_t epoch() const { return epoch_; }
  virtual double lr_at(int64_t epoch) const = 0;

 protected:
  Optimizer& optimizer_;
  double base_lr_;
  int64_t epoch_ = 0;
};

// lr = base * gamma^(epoch / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  double lr_at(int64_t epoch) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr = eta_min + (base - eta_min) * (1 + cos(pi * epoch / t_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);
  double lr_at(int64_t epoch) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

}  // namespace ember::optim
