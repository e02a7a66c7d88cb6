// guard.h - the guard key of a call: what must match for a compiled trace to
// be reused. Printable, hashable, comparable, with a human diff.
//
//   GuardKey a = make_guard_key(inputs, graph.captured, /*training=*/true);
//   a.diff(b)   // "input 0 dim 0: 128 -> 64"
#pragma once

#include <string>
#include <vector>

#include "ember/tensor.h"

namespace ember::tracer {

struct TensorSignature {
  Shape shape;
  DType dtype;
  bool requires_grad;
  friend bool operator==(const TensorSignature&, const TensorSignature&) = default;
};

struct GuardKey {
  std::vector<TensorSignature> inputs;
  std::vector<const TensorImpl*> captured;  // identity of each captured tensor
  std::vector<TensorSignature> captured_signatures;
  bool grad_mode = true;
  bool training = true;

  friend bool operator==(const GuardKey&, const GuardKey&) = default;
  size_t hash() const;
  std::string to_string() const;
  // What differs, one reason per line, e.g. "input 0 dim 0: 128 -> 64"
  // (this is the old key, `now` the new one); empty when equal.
  std::string diff(const GuardKey& now) const;
};

GuardKey make_guard_key(const std::vector<Tensor>& inputs, const std::vector<Tensor>& captured,
                        bool training);

struct GuardKeyHash {
  size_t operator()(const GuardKey& k) const { return k.hash(); }
};

}  // namespace ember::tracer
