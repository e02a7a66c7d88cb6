// optimizer.cpp - SGD, Adam/AdamW and the schedules, following torch.optim's
// update rules step for step (tests compare two steps with hand-computed values).
#include "ember/optim/optimizer.h"

#include <cmath>

#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember::optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  for (size_t i = 0; i < params_.size(); ++i) {
    EMBER_CHECK(params_[i].defined() && params_[i].requires_grad(), Loc::current(), "optimizer: parameter ",
                i, " is undefined or does not require grad");
  }
  EMBER_CHECK(lr >= 0, Loc::current(), "optimizer: the learning rate must be non-negative, got ", lr);
  lr_tensor_ = full({}, lr, DType::Float64);
}

void Optimizer::set_lr(double lr) {
  lr_ = lr;
  NoGradGuard no_grad;
  lr_tensor_.fill_(lr);
}

void Optimizer::step(const Loc& loc) {
  UserLocScope user_line(loc);
  update();
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

SGD::SGD(std::vector<Tensor> params, SGDOptions o) : Optimizer(std::move(params), o.lr), options_(o) {
  EMBER_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), Loc::current(),
              "SGD: nesterov momentum needs momentum > 0 and dampening 0");
  momentum_.resize(params_.size());
}

void SGD::update() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor d = p.grad();
    if (!d.defined()) continue;
    if (options_.weight_decay != 0) d = d + p * options_.weight_decay;
    if (options_.momentum != 0) {
      Tensor& buf = momentum_[i];
      if (!buf.defined())
        buf = d.clone();
      else
        buf.mul_(options_.momentum).add_(options_.dampening == 0 ? d : d * (1 - options_.dampening));
      d = options_.nesterov ? d + buf * options_.momentum : buf;
    }
    p.sub_(d * lr_tensor_);
  }
}

Adam::Adam(std::vector<Tensor> params, AdamOptions o, bool decoupled)
    : Optimizer(std::move(params), o.lr), options_(o), decoupled_(decoupled) {
  EMBER_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, Loc::current(),
              "Adam: betas must be in [0, 1), got ", o.beta1, " and ", o.beta2);
  exp_avg_.resize(params_.size());
  exp_avg_sq_.resize(params_.size());
  step_ = zeros({}, DType::Float64);
}

int64_t Adam::steps() const { return static_cast<int64_t>(step_.item<double>()); }

void Adam::update() {
  NoGradGuard no_grad;
  step_.add_(1);
  // 1 - beta^t from the step tensor, not from a C++ count (Note [Hyperparameters a trace must not bake]).
  const Tensor c1 = 1 - full({}, options_.beta1, DType::Float64).pow(step_);
  const Tensor c2 = 1 - full({}, options_.beta2, DType::Float64).pow(step_);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (options_.weight_decay != 0) {
      if (decoupled_)
        p.mul_(1 - lr_tensor_ * options_.weight_decay);
      else
        g = g + p * options_.weight_decay;
    }
    if (!exp_avg_[i].defined()) {
      exp_avg_[i] = zeros_like(p);
      exp_avg_sq_[i] = zeros_like(p);
    }
    exp_avg_[i].mul_(options_.beta1).add_(g * (1 - options_.beta1));
    exp_avg_sq_[i].mul_(options_.beta2).add_(g * g * (1 - options_.beta2));
    const Tensor denom = (exp_avg_sq_[i].sqrt() / c2.sqrt()).add(options_.eps);
    p.sub_(exp_avg_[i] / denom * (lr_tensor_ / c1));
  }
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma)
    : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  EMBER_CHECK(step_size > 0, Loc::current(), "StepLR: step_size must be positive, got ", step_size);
}

double StepLR::lr_at(int64_t epoch) const { return base_lr_ * std::pow(gamma_, double(epoch / step_size_)); }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t t_max, double eta_min)
    : LRScheduler(opt), t_max_(t_max), eta_min_(eta_min) {
  EMBER_CHECK(t_max > 0, Loc::current(), "CosineAnnealingLR: t_max must be positive, got ", t_max);
}

double CosineAnnealingLR::lr_at(int64_t epoch) const {
  return eta_min_ + (base_lr_ - eta_min_) * (1 + std::cos(M_PI * double(epoch) / double(t_max_))) / 2;
}

}  // namespace ember::optim
