// meta.cpp - per-tensor autograd metadata, leaf accumulation, saved tensors.
#include <atomic>

#include "ember/autograd/node.h"
#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember::autograd {
namespace {

// Adds incoming gradients into a leaf's `.grad`.
struct AccumulateGrad : Node {
  explicit AccumulateGrad(Tensor v) : variable(std::move(v)) {
    sequence_nr = UINT64_MAX;  // run as soon as ready: frees gradients early
    output_shapes.push_back(variable.sizes());
    output_dtypes.push_back(variable.dtype());
  }
  const char* name() const override { return "AccumulateGrad"; }

  std::vector<Tensor> apply(std::vector<Tensor>& grads) override {
    if (accumulate(grads))
      for (auto& hook : meta(variable).post_accumulate_hooks) hook(variable);
    return {};
  }

  // Whether a gradient arrived (and is now in .grad).
  bool accumulate(std::vector<Tensor>& grads) {
    Tensor g = std::move(grads[0]);
    AutogradMeta& m = meta(variable);
    for (auto& hook : m.leaf_hooks) {
      if (!g.defined()) break;
      Tensor r = hook(g);
      if (r.defined()) g = r;
    }
    if (!g.defined()) return false;
    if (g.dtype() != variable.dtype()) g = g.to(variable.dtype());
    if (is_grad_enabled()) {  // create_graph: keep the gradient's own history
      m.grad = m.grad.defined() ? m.grad + g : g;
      if (observed()) notify_grad_set(variable, m.grad);
      return true;
    }
    if (!m.grad.defined()) {
      // Steal the buffer when nothing else can see it; otherwise copy, so that
      // two leaves never share one .grad buffer.
      const bool unique = g.impl()->refs.load() == 1 && g.impl()->storage->refs.load() == 1 &&
                          g.is_contiguous() && !g.requires_grad();
      m.grad = unique ? g : g.clone();
      if (observed()) notify_grad_set(variable, m.grad);
    } else if (m.grad.requires_grad()) {
      m.grad = m.grad + g;
      if (observed()) notify_grad_set(variable, m.grad);
    } else {
      m.grad.add_(g);  // in place: the observer sees the write to the grad tensor itself
    }
    return true;
  }

  Tensor variable;
};

}  // namespace

AutogradMeta& meta(const Tensor& t) {
  auto& m = t.impl()->autograd;
  if (!m) m = std::make_unique<AutogradMeta>();
  return *m;
}

Edge gradient_edge(const Tensor& t) {
  AutogradMeta* m = meta_if(t);
  if (!m) return {};
  if (m->grad_fn) return {m->grad_fn, m->output_nr};
  if (!m->requires_grad) return {};
  std::shared_ptr<Node> acc = m->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    m->grad_accumulator = acc;
  }
  return {acc, 0};
}

void set_history(const std::shared_ptr<Node>& node, Tensor* outputs, int num_outputs, int differentiable) {
  node->output_shapes.resize(num_outputs);
  node->output_dtypes.resize(num_outputs);
  for (int i = 0; i < num_outputs; ++i) {
    node->output_shapes[i] = outputs[i].sizes();
    node->output_dtypes[i] = outputs[i].dtype();
    if (!is_floating(outputs[i].dtype()) || (differentiable >= 0 && i >= differentiable)) continue;
    AutogradMeta& m = meta(outputs[i]);
    m.grad_fn = node;
    m.output_nr = static_cast<uint32_t>(i);
    m.requires_grad = true;
  }
}

uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : version_(t.version()), is_output_(is_output) {
  if (is_output) {
    // Without its history: the output's grad_fn is the node that saves it.
    data_ = make_view(t, t.sizes(), t.strides(), t.storage_offset());
    if (AutogradMeta* m = meta_if(t)) output_nr_ = m->output_nr;
  } else {
    data_ = t;
  }
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, const char* op_name, const Loc& loc) const {
  EMBER_CHECK(data_.defined(), loc, "backward of ", op_name,
              ": its saved tensors were freed by an earlier backward(); call backward(..., "
              "retain_graph=true) the first time to backward through the graph twice");
  EMBER_CHECK(data_.version() == version_, loc, "backward of ", op_name, ": a tensor it saved (shape ",
              data_.sizes(), ", ", dtype_name(data_.dtype()),
              ") was modified in place after the op ran (version ", data_.version(), ", expected ", version_,
              "); clone() it before the in-place op, or use the out-of-place form");
  if (!is_output_ || !is_grad_enabled()) return data_;
  // create_graph: the saved output gets its history back, so that the
  // gradient formula that uses it is differentiable.
  Tensor t = make_view(data_, data_.sizes(), data_.strides(), data_.storage_offset());
  AutogradMeta& m = meta(t);
  m.grad_fn = owner;
  m.output_nr = output_nr_;
  m.requires_grad = true;
  return t;
}

}  // namespace ember::autograd
