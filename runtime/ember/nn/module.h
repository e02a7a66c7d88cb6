// module.h - nn::Module: parameters, buffers, submodules, train/eval, hooks,
// and printing the module tree.
//
//   struct Net : nn::Layer {
//     std::shared_ptr<nn::Linear> fc1, fc2;
//     Net() : Layer("Net") {
//       fc1 = register_module("fc1", std::make_shared<nn::Linear>(784, 128));
//       fc2 = register_module("fc2", std::make_shared<nn::Linear>(128, 10));
//     }
//     Tensor forward(const Tensor& x) override { return (*fc2)((*fc1)(x).relu()); }
//   };
//   auto net = std::make_shared<Net>();
//   std::cout << *net;                       // the tree, with parameter counts
//   Tensor y = (*net)(x);                    // runs forward hooks around forward
//
// Parameters are shared handles: the registry and the layer's member refer to
// the same tensor, so in-place optimizer updates are seen by both.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/tensor.h"

namespace ember::nn {

class Module;
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using ForwardPreHook = std::function<void(Module& module, const std::vector<Tensor>& inputs)>;
using ForwardHook =
    std::function<void(Module& module, const std::vector<Tensor>& inputs, const Tensor& output)>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& type_name() const { return type_name_; }

  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  // Parameters and buffers by dotted name ("fc1.weight"): what save/load use.
  NamedTensors state(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // This module ("") and every descendant, depth first, by dotted name.
  std::vector<std::pair<std::string, Module*>> named_modules();
  int64_t num_parameters() const;

  void zero_grad();  // sets every parameter's grad to undefined (frees it)
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Converts floating-point parameters and buffers in place (handles stay valid).
  void to(DType dtype);

  int register_forward_pre_hook(ForwardPreHook hook);
  int register_forward_hook(ForwardHook hook);
  void remove_hook(int handle);

  // Shown after the type name when printing, e.g. "in_features=784, out_features=10".
  virtual std::string extra_repr() const { return ""; }
  std::string repr() const;

 protected:
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  // Runs the pre-hooks, `forward`, then the hooks.
  Tensor call_with_hooks(const std::vector<Tensor>& inputs, const std::function<Tensor()>& forward,
                         const Loc& loc = Loc::current());

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void collect(const std::string& prefix, bool recurse, bool params, bool buffers, NamedTensors& out) const;
  void repr_into(std::ostream& out, int indent) const;

  std::string type_name_;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::map<int, ForwardPreHook> pre_hooks_;
  std::map<int, ForwardHook> hooks_;
  int next_hook_ = 0;
  bool training_ = true;
};

// A module with tensors in and one out: `y = layer(x)`, `y = block(x, mask)`.
// Hooks see every input (an input may be undefined: an optional mask).
template <typename... Inputs>
class LayerOf : public Module {
  static_assert(sizeof...(Inputs) > 0 && (std::is_same_v<Inputs, Tensor> && ...),
                "a layer's inputs are tensors: LayerOf<Tensor, Tensor>");

 public:
  using Module::Module;
  // Ops of the forward pass report `loc`, the caller's line (Note [The user's line]).
  Tensor operator()(const Inputs&... xs, const Loc& loc = Loc::current()) {
    return call_with_hooks(
        {xs...}, [&] { return forward(xs...); }, loc);
  }
  virtual Tensor forward(const Inputs&... xs) = 0;
};

// The common case: one tensor in, one out.
class Layer : public LayerOf<Tensor> {
 public:
  using LayerOf::LayerOf;
};

std::ostream& operator<<(std::ostream& out, const Module& m);

}  // namespace ember::nn
