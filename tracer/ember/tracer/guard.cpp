// guard.cpp - guard keys, their hash and their human diff.
#include "ember/tracer/guard.h"

#include <functional>
#include <sstream>

#include "ember/grad_mode.h"

namespace ember::tracer {

namespace {
TensorSignature signature(const Tensor& t) { return {t.sizes(), t.dtype(), t.requires_grad()}; }

void hash_combine(size_t& h, size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); }

void hash_signature(size_t& h, const TensorSignature& s) {
  for (int64_t d : s.shape) hash_combine(h, std::hash<int64_t>()(d));
  hash_combine(h,
               static_cast<size_t>(s.shape.ndim()) * 31 + static_cast<size_t>(s.dtype) * 7 + s.requires_grad);
}

std::string describe(const TensorSignature& s) {
  std::ostringstream o;
  o << dtype_name(s.dtype) << s.shape << (s.requires_grad ? " requires_grad" : "");
  return o.str();
}

// The differences between two signatures, as lines prefixed with `what`.
void diff_signature(std::ostringstream& out, const std::string& what, const TensorSignature& a,
                    const TensorSignature& b) {
  if (a.shape.ndim() != b.shape.ndim()) {
    out << what << " rank: " << a.shape.ndim() << " -> " << b.shape.ndim() << " (" << a.shape << " -> "
        << b.shape << ")\n";
  } else {
    for (int64_t d = 0; d < a.shape.ndim(); ++d)
      if (a.shape[d] != b.shape[d])
        out << what << " dim " << d << ": " << a.shape[d] << " -> " << b.shape[d] << "\n";
  }
  if (a.dtype != b.dtype)
    out << what << " dtype: " << dtype_name(a.dtype) << " -> " << dtype_name(b.dtype) << "\n";
  if (a.requires_grad != b.requires_grad)
    out << what << " requires_grad: " << (a.requires_grad ? "true" : "false") << " -> "
        << (b.requires_grad ? "true" : "false") << "\n";
}
}  // namespace

GuardKey make_guard_key(const std::vector<Tensor>& inputs, const std::vector<Tensor>& captured,
                        bool training) {
  GuardKey k;
  for (const Tensor& t : inputs) k.inputs.push_back(signature(t));
  for (const Tensor& t : captured) {
    k.captured.push_back(t.impl());
    k.captured_signatures.push_back(signature(t));
  }
  k.grad_mode = is_grad_enabled();
  k.training = training;
  return k;
}

size_t GuardKey::hash() const {
  size_t h = inputs.size() * 1000003 + captured.size();
  for (const auto& s : inputs) hash_signature(h, s);
  for (size_t i = 0; i < captured.size(); ++i) {
    hash_combine(h, std::hash<const void*>()(captured[i]));
    hash_signature(h, captured_signatures[i]);
  }
  hash_combine(h, grad_mode * 2 + training);
  return h;
}

std::string GuardKey::to_string() const {
  std::ostringstream o;
  o << "inputs(";
  for (size_t i = 0; i < inputs.size(); ++i) o << (i ? ", " : "") << describe(inputs[i]);
  o << ") captured(" << captured.size() << " tensors) grad_mode=" << (grad_mode ? "on" : "off")
    << " mode=" << (training ? "train" : "eval");
  return o.str();
}

std::string GuardKey::diff(const GuardKey& now) const {
  std::ostringstream out;
  if (inputs.size() != now.inputs.size())
    out << "number of inputs: " << inputs.size() << " -> " << now.inputs.size() << "\n";
  for (size_t i = 0; i < std::min(inputs.size(), now.inputs.size()); ++i)
    diff_signature(out, "input " + std::to_string(i), inputs[i], now.inputs[i]);
  if (grad_mode != now.grad_mode)
    out << "grad mode: " << (grad_mode ? "on" : "off") << " -> " << (now.grad_mode ? "on" : "off") << "\n";
  if (training != now.training)
    out << "mode: " << (training ? "train" : "eval") << " -> " << (now.training ? "train" : "eval") << "\n";
  if (captured.size() != now.captured.size())
    out << "number of captured tensors: " << captured.size() << " -> " << now.captured.size() << "\n";
  for (size_t i = 0; i < std::min(captured.size(), now.captured.size()); ++i) {
    if (captured[i] != now.captured[i]) out << "captured " << i << ": another tensor\n";
    diff_signature(out, "captured " + std::to_string(i), captured_signatures[i], now.captured_signatures[i]);
  }
  std::string s = out.str();
  if (!s.empty()) s.pop_back();
  return s;
}

}  // namespace ember::tracer
