// function.h - custom autograd functions with user-written forward/backward.
//
//   struct Square : ember::Function<Square> {
//     static ember::Tensor forward(ember::AutogradContext& ctx, const ember::Tensor& x) {
//       ctx.save_for_backward({x});
//       return x * x;
//     }
//     static std::vector<ember::Tensor> backward(ember::AutogradContext& ctx,
//                                                const std::vector<ember::Tensor>& grads) {
//       return {grads[0] * 2 * ctx.saved()[0]};
//     }
//   };
//   ember::Tensor y = Square::apply(x);
//
// forward runs without recording history; backward returns one gradient per
// tensor argument of forward (undefined where there is none).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ember/autograd/node.h"
#include "ember/grad_mode.h"

namespace ember {

class AutogradContext;
using CustomBackward = std::vector<Tensor> (*)(AutogradContext&, const std::vector<Tensor>&);
namespace detail {
void connect_custom(AutogradContext& ctx, std::vector<Tensor> inputs, Tensor& output, CustomBackward backward,
                    const char* name);
}

class AutogradContext {
 public:
  void save_for_backward(std::vector<Tensor> tensors) { to_save_ = std::move(tensors); }
  // The saved tensors, checked against in-place modification since saving.
  std::vector<Tensor> saved() const;
  bool needs_input_grad(size_t i) const { return i < needs_grad_.size() && needs_grad_[i]; }

 private:
  friend struct CustomFunctionNode;
  friend void detail::connect_custom(AutogradContext&, std::vector<Tensor>, Tensor&, CustomBackward,
                                     const char*);
  void finish_saving(const Tensor& output);

  std::vector<Tensor> to_save_;
  std::vector<autograd::SavedTensor> saved_;
  std::vector<bool> needs_grad_;
  std::weak_ptr<autograd::Node> node_;
  std::string name_;
  Loc loc_;
};

// The node of a custom function in the autograd graph.
struct CustomFunctionNode : autograd::Node {
  CustomFunctionNode(AutogradContext ctx, CustomBackward backward)
      : ctx(std::move(ctx)), backward_fn(backward) {}
  const char* name() const override { return ctx.name_.c_str(); }
  std::vector<Tensor> apply(std::vector<Tensor>& grads) override;
  void release_saved() override {
    for (auto& s : ctx.saved_) s.reset();
  }
  AutogradContext ctx;
  CustomBackward backward_fn;
};

namespace detail {
// The name of T without RTTI (the MLIR layers build with -fno-rtti).
template <typename T>
constexpr std::string_view type_name() {
  const std::string_view p = __PRETTY_FUNCTION__;  // "... type_name() [with T = ns::Name; ...]"
  const size_t start = p.find("T = ") + 4;
  return p.substr(start, p.find_first_of(";]", start) - start);
}
inline void collect_tensors(std::vector<Tensor>&) {}
template <typename A, typename... Rest>
void collect_tensors(std::vector<Tensor>& out, const A& a, const Rest&... rest) {
  if constexpr (std::is_same_v<std::decay_t<A>, Tensor>) out.push_back(a);
  collect_tensors(out, rest...);
}
}  // namespace detail

template <typename Derived>
struct Function {
  template <typename... Args>
  static Tensor apply(const Args&... args) {
    AutogradContext ctx;
    std::vector<Tensor> inputs;
    detail::collect_tensors(inputs, args...);
    Tensor output;
    {
      NoGradGuard no_grad;
      output = Derived::forward(ctx, args...);
    }
    detail::connect_custom(ctx, std::move(inputs), output, &Derived::backward,
                           std::string(detail::type_name<Derived>()).c_str());
    return output;
  }
};

}  // namespace ember
