// layers.h - the standard layers, with PyTorch's default initializations.
//
//   auto model = std::make_shared<nn::Sequential>(
//       std::make_shared<nn::Linear>(64, 128), std::make_shared<nn::ReLU>(),
//       std::make_shared<nn::Linear>(128, 10));
//   Tensor logits = (*model)(x);
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "ember/nn/module.h"
#include "ember/ops.h"

namespace ember::nn {

// y = x W^T + b, W: [out, in]. Init: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Layer {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight, bias;
  int64_t in_features, out_features;
};

// x [N, C, H, W] -> [N, out, H', W']. Init as Linear with fan_in = C*kh*kw.
class Conv2d : public Layer {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
         int64_t padding = 0, int64_t dilation = 1, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight, bias;
  int64_t in_channels, out_channels, kernel_size;
  Conv2dOptions options;
};

class MaxPool2d : public Layer {
 public:
  explicit MaxPool2d(int64_t kernel_size, std::optional<int64_t> stride = {}, int64_t padding = 0);
  Tensor forward(const Tensor& x) override { return max_pool2d(x, options); }
  std::string extra_repr() const override;
  Pool2dOptions options;
};

class AvgPool2d : public Layer {
 public:
  explicit AvgPool2d(int64_t kernel_size, std::optional<int64_t> stride = {}, int64_t padding = 0);
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, options); }
  std::string extra_repr() const override;
  Pool2dOptions options;
};

class Flatten : public Layer {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Layer("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim, end_dim); }
  int64_t start_dim, end_dim;
};

// indices (int) -> [..., dim]. Init: N(0, 1).
class Embedding : public Layer {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim);
  Tensor forward(const Tensor& indices) override { return embedding(weight, indices); }
  std::string extra_repr() const override;
  Tensor weight;
  int64_t num_embeddings, embedding_dim;
};

class LayerNorm : public Layer {
 public:
  explicit LayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5,
                     bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight, bias;
  std::vector<int64_t> normalized_shape;
  double eps;
};

// Batch normalization over the channel dim 1 of [N, C] / [N, C, L] (1d) or
// [N, C, H, W] (2d). Training: batch statistics, and running statistics
// updated with `momentum`; eval: the running statistics.
class BatchNorm : public Layer {
 public:
  BatchNorm(std::string type_name, int64_t expected_dims_lo, int64_t expected_dims_hi, int64_t num_features,
            double eps, double momentum);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  int64_t num_features;
  double eps, momentum;

 private:
  int64_t dims_lo_, dims_hi_;
};
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm("BatchNorm1d", 2, 3, num_features, eps, momentum) {}
};
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm("BatchNorm2d", 4, 4, num_features, eps, momentum) {}
};

class Dropout : public Layer {
 public:
  explicit Dropout(double p = 0.5) : Layer("Dropout"), p(p) {}
  Tensor forward(const Tensor& x) override { return dropout(x, p, is_training()); }
  std::string extra_repr() const override;
  double p;
};

class ReLU : public Layer {
 public:
  ReLU() : Layer("ReLU") {}
  Tensor forward(const Tensor& x) override { return x.relu(); }
};
class GELU : public Layer {
 public:
  GELU() : Layer("GELU") {}
  Tensor forward(const Tensor& x) override { return x.gelu(); }
};
class Tanh : public Layer {
 public:
  Tanh() : Layer("Tanh") {}
  Tensor forward(const Tensor& x) override { return x.tanh(); }
};
class Sigmoid : public Layer {
 public:
  Sigmoid() : Layer("Sigmoid") {}
  Tensor forward(const Tensor& x) override { return x.sigmoid(); }
};

// Layers applied in order; children are named "0", "1", ...
class Sequential : public Layer {
 public:
  Sequential() : Layer("Sequential") {}
  template <typename... Layers>
  explicit Sequential(std::shared_ptr<Layers>... layers) : Sequential() {
    (push_back(std::move(layers)), ...);
  }
  void push_back(std::shared_ptr<Layer> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  Layer& operator[](size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

// Modules held in a list (registered, so their parameters are found).
// `ModuleListOf<Block>` indexes and iterates as Blocks (`blocks[i](x)`,
// `for (Block& b : blocks)`); `ModuleList` holds any module, cast with
// `at<T>(i)`.
template <typename M>
class ModuleListOf : public Module {
  using Items = std::vector<std::shared_ptr<M>>;

 public:
  ModuleListOf() : Module("ModuleList") {}
  template <typename T>
  std::shared_ptr<T> push_back(std::shared_ptr<T> m) {
    static_assert(std::is_base_of_v<M, T>, "the list holds another type of module");
    modules_.push_back(m);
    return register_module(std::to_string(modules_.size() - 1), std::move(m));
  }
  size_t size() const { return modules_.size(); }
  M& operator[](size_t i) { return *modules_.at(i); }
  template <typename T = M>
  T& at(size_t i) {
    return dynamic_cast<T&>(*modules_.at(i));
  }

  class iterator {
   public:
    explicit iterator(typename Items::iterator it) : it_(it) {}
    M& operator*() const { return **it_; }
    iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return it_ != o.it_; }

   private:
    typename Items::iterator it_;
  };
  iterator begin() { return iterator(modules_.begin()); }
  iterator end() { return iterator(modules_.end()); }

 private:
  Items modules_;
};
using ModuleList = ModuleListOf<Module>;

}  // namespace ember::nn
