// module.cpp - registration, traversal, modes, hooks and printing of modules.
#include "ember/nn/module.h"

#include <ostream>
#include <sstream>

#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember::nn {

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  EMBER_CHECK(t.defined(), Loc::current(), type_name_, ": parameter '", name, "' is undefined");
  if (requires_grad) t.requires_grad_(true);
  t.set_name(name);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  if (t.defined()) t.set_name(name);
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  EMBER_CHECK(m != nullptr, Loc::current(), type_name_, ": submodule '", name, "' is null");
  // Its tensors' names gain this module's prefix: the outermost registration
  // names them by their full path ("encoder.fc1.weight").
  for (const auto& [n, t] : m->state())
    if (t.defined()) t.set_name(name + "." + n);
  children_.emplace_back(name, std::move(m));
}

void Module::collect(const std::string& prefix, bool recurse, bool params, bool buffers,
                     NamedTensors& out) const {
  if (params)
    for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  if (buffers)
    for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
  if (!recurse) return;
  for (const auto& [n, child] : children_) child->collect(prefix + n + ".", true, params, buffers, out);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", recurse, true, false, out);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", recurse, false, true, out);
  return out;
}

NamedTensors Module::state(bool recurse) const {
  NamedTensors out = named_parameters(recurse);
  collect("", recurse, false, true, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (const auto& [n, child] : children_)
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(sub.empty() ? n : n + "." + sub, m);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, child] : children_) child->train(on);
}

void Module::to(DType dtype) {
  NoGradGuard no_grad;
  for (auto& [n, t] : state())
    if (is_floating(t.dtype()) && t.dtype() != dtype) t.set_data(t.to(dtype));
}

int Module::register_forward_pre_hook(ForwardPreHook hook) {
  pre_hooks_[next_hook_] = std::move(hook);
  return next_hook_++;
}

int Module::register_forward_hook(ForwardHook hook) {
  hooks_[next_hook_] = std::move(hook);
  return next_hook_++;
}

void Module::remove_hook(int handle) {
  pre_hooks_.erase(handle);
  hooks_.erase(handle);
}

Tensor Module::call_with_hooks(const std::vector<Tensor>& inputs, const std::function<Tensor()>& forward,
                               const Loc& loc) {
  UserLocScope user_line(loc);
  for (auto& [h, hook] : pre_hooks_) hook(*this, inputs);
  Tensor out = forward();
  for (auto& [h, hook] : hooks_) hook(*this, inputs, out);
  return out;
}

namespace {
std::string with_commas(int64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}
}  // namespace

void Module::repr_into(std::ostream& out, int indent) const {
  out << type_name_ << "(" << extra_repr();
  if (!children_.empty()) {
    out << "\n";
    for (const auto& [n, child] : children_) {
      out << std::string(indent + 2, ' ') << "(" << n << "): ";
      child->repr_into(out, indent + 2);
      out << "\n";
    }
    out << std::string(indent, ' ');
  }
  out << ")";
  const int64_t own = [&] {
    int64_t k = 0;
    for (const auto& [n, t] : params_) k += t.numel();
    return k;
  }();
  if (own > 0 && !children_.empty())
    out << "  [" << with_commas(own) << " own params]";
  else if (own > 0)
    out << "  [" << with_commas(own) << " params]";
}

std::string Module::repr() const {
  std::ostringstream out;
  repr_into(out, 0);
  out << "\nTotal parameters: " << with_commas(num_parameters());
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Module& m) { return out << m.repr(); }

}  // namespace ember::nn
