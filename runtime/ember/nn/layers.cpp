// layers.cpp - layer construction (PyTorch's default initializations) and
// forward passes.
#include "ember/nn/layers.h"

#include <cmath>
#include <sstream>

#include "ember/grad_mode.h"
#include "ember/nn/init.h"

namespace ember::nn {

namespace {
// torch.nn.Linear/Conv2d reset_parameters: kaiming_uniform(a=sqrt(5)) on the
// weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias.
void default_init(Tensor& weight, Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(double(init::fans(weight).first));
    init::uniform_(bias, -bound, bound);
  }
}

std::string join(const std::vector<int64_t>& v) {
  std::ostringstream s;
  s << IntArrayRef(v);
  return s.str();
}

std::string pool_repr(const Pool2dOptions& o) {
  std::ostringstream s;
  s << "kernel_size=" << o.kernel.first << ", stride=" << o.stride->first << ", padding=" << o.padding.first;
  return s.str();
}
}  // namespace

Linear::Linear(int64_t in, int64_t out, bool with_bias)
    : Layer("Linear"), in_features(in), out_features(out) {
  EMBER_CHECK(in > 0 && out > 0, Loc::current(), "Linear: sizes must be positive, got ", in, " and ", out);
  weight = register_parameter("weight", empty({out, in}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}

Tensor Linear::forward(const Tensor& x) {
  EMBER_CHECK(x.dim() >= 1 && x.size(-1) == in_features, Loc::current(), "Linear(", in_features, ", ",
              out_features, "): input of shape ", x.sizes(), " does not end in ", in_features, " features");
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(out_features) +
         ", bias=" + (bias.defined() ? "true" : "false");
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding, int64_t dilation,
               bool with_bias)
    : Layer("Conv2d"), in_channels(in), out_channels(out), kernel_size(k) {
  options = {{stride, stride}, {padding, padding}, {dilation, dilation}};
  weight = register_parameter("weight", empty({out, in, k, k}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, options); }

std::string Conv2d::extra_repr() const {
  std::ostringstream s;
  s << in_channels << ", " << out_channels << ", kernel_size=" << kernel_size
    << ", stride=" << options.stride.first << ", padding=" << options.padding.first;
  if (options.dilation.first != 1) s << ", dilation=" << options.dilation.first;
  if (!bias.defined()) s << ", bias=false";
  return s.str();
}

MaxPool2d::MaxPool2d(int64_t k, std::optional<int64_t> stride, int64_t padding) : Layer("MaxPool2d") {
  const int64_t s = stride.value_or(k);
  options = {{k, k}, std::pair<int64_t, int64_t>{s, s}, {padding, padding}};
}
std::string MaxPool2d::extra_repr() const { return pool_repr(options); }

AvgPool2d::AvgPool2d(int64_t k, std::optional<int64_t> stride, int64_t padding) : Layer("AvgPool2d") {
  const int64_t s = stride.value_or(k);
  options = {{k, k}, std::pair<int64_t, int64_t>{s, s}, {padding, padding}};
}
std::string AvgPool2d::extra_repr() const { return pool_repr(options); }

Embedding::Embedding(int64_t num, int64_t dim) : Layer("Embedding"), num_embeddings(num), embedding_dim(dim) {
  weight = register_parameter("weight", empty({num, dim}));
  init::normal_(weight);
}
std::string Embedding::extra_repr() const {
  return std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim);
}

LayerNorm::LayerNorm(std::vector<int64_t> shape, double eps, bool affine)
    : Layer("LayerNorm"), normalized_shape(std::move(shape)), eps(eps) {
  if (affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    bias = register_parameter("bias", zeros(normalized_shape));
  }
}
Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, normalized_shape, weight, bias, eps); }
std::string LayerNorm::extra_repr() const {
  std::ostringstream s;
  s << join(normalized_shape) << ", eps=" << eps
    << ", elementwise_affine=" << (weight.defined() ? "true" : "false");
  return s.str();
}

BatchNorm::BatchNorm(std::string type_name, int64_t lo, int64_t hi, int64_t n, double eps, double momentum)
    : Layer(std::move(type_name)), num_features(n), eps(eps), momentum(momentum), dims_lo_(lo), dims_hi_(hi) {
  weight = register_parameter("weight", ones({n}));
  bias = register_parameter("bias", zeros({n}));
  running_mean = register_buffer("running_mean", zeros({n}));
  running_var = register_buffer("running_var", ones({n}));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
}

Tensor BatchNorm::forward(const Tensor& x) {
  EMBER_CHECK(x.dim() >= dims_lo_ && x.dim() <= dims_hi_ && x.size(1) == num_features, Loc::current(),
              type_name(), "(", num_features, "): expected input with ", dims_lo_,
              dims_lo_ == dims_hi_ ? "" : " or " + std::to_string(dims_hi_), " dims and ", num_features,
              " channels in dim 1, got ", x.sizes());
  std::vector<int64_t> reduce_dims{0}, stat_shape{1, num_features};
  for (int64_t d = 2; d < x.dim(); ++d) {
    reduce_dims.push_back(d);
    stat_shape.push_back(1);
  }
  Tensor mean, var;
  if (is_training()) {
    int64_t count = 1;
    for (int64_t d : reduce_dims) count *= x.size(d);
    EMBER_CHECK(count > 1, Loc::current(), type_name(),
                ": training needs more than one value per channel, got input ", x.sizes());
    mean = x.mean(reduce_dims, true);
    var = x.var(reduce_dims, 0, true);  // the biased variance normalizes
    NoGradGuard no_grad;
    // The running variance is unbiased, as in PyTorch.
    const Tensor unbiased = var.detach().view({num_features}) * (double(count) / double(count - 1));
    running_mean.mul_(1 - momentum).add_(mean.detach().view({num_features}) * momentum);
    running_var.mul_(1 - momentum).add_(unbiased * momentum);
    num_batches_tracked.add_(1);
  } else {
    mean = running_mean.view(stat_shape);
    var = running_var.view(stat_shape);
  }
  return (x - mean) * (var + eps).rsqrt() * weight.view(stat_shape) + bias.view(stat_shape);
}

std::string BatchNorm::extra_repr() const {
  std::ostringstream s;
  s << num_features << ", eps=" << eps << ", momentum=" << momentum;
  return s.str();
}

std::string Dropout::extra_repr() const {
  std::ostringstream s;
  s << "p=" << p;
  return s.str();
}

void Sequential::push_back(std::shared_ptr<Layer> layer) {
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (auto& layer : layers_) y = (*layer)(y);
  return y;
}

}  // namespace ember::nn
