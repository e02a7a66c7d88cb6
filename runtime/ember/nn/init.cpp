// init.cpp - the formulas of torch.nn.init.
#include "ember/nn/init.h"

#include <cmath>

#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember::nn::init {

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity == "conv2d") return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  throw_error("calculate_gain: unknown nonlinearity '" + nonlinearity + "'", Loc::current());
}

std::pair<int64_t, int64_t> fans(const Tensor& w) {
  EMBER_CHECK(w.dim() >= 2, Loc::current(), "init: fan in and fan out need a weight of at least 2 dims, got ",
              w.sizes());
  int64_t receptive = 1;
  for (int64_t d = 2; d < w.dim(); ++d) receptive *= w.size(d);
  return {w.size(1) * receptive, w.size(0) * receptive};
}

void uniform_(Tensor& t, double low, double high) {
  NoGradGuard no_grad;
  t.copy_(rand(t.sizes(), DType::Float64) * (high - low) + low);
}

void normal_(Tensor& t, double mean, double std) {
  NoGradGuard no_grad;
  t.copy_(randn(t.sizes(), DType::Float64) * std + mean);
}

void constant_(Tensor& t, double value) {
  NoGradGuard no_grad;
  t.fill_(value);
}
void zeros_(Tensor& t) { constant_(t, 0); }
void ones_(Tensor& t) { constant_(t, 1); }

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const auto [fan_in, fan_out] = fans(t);
  return calculate_gain(nonlinearity, a) / std::sqrt(double(mode == FanMode::FanIn ? fan_in : fan_out));
}
}  // namespace

void kaiming_uniform_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  uniform_(t, -bound, bound);
}

void kaiming_normal_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  normal_(t, 0, kaiming_std(t, a, mode, nonlinearity));
}

void xavier_uniform_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  const double bound = gain * std::sqrt(6.0 / double(fan_in + fan_out));
  uniform_(t, -bound, bound);
}

void xavier_normal_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  normal_(t, 0, gain * std::sqrt(2.0 / double(fan_in + fan_out)));
}

}  // namespace ember::nn::init
