// creation.cpp - kernels of the creation ops (full, arange, linspace, eye,
// rand, randn, randint). Draws come from the global generator in order, so
// a seed gives the same tensors on every run.
#include <cmath>

#include "ember/kernels/common.h"
#include "ember/random.h"

namespace ember::kernels {
namespace {

template <typename Fn>
void fill_each(Tensor& out, const Fn& value_at) {
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(out.data_ptr());
    for (int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(value_at(i));
  });
}

// Every creation op checks its shape and dtype by its shape rule (meta.h).
void check_shape(const OpCall& c) { call_meta(c); }

void full_forward(const OpCall& c) {
  check_shape(c);
  c.outputs[0] = make_tensor(c.attrs.ints, c.attrs.dtype);
  const double v = c.attrs.scalar;
  fill_each(c.outputs[0], [v](int64_t) { return v; });
}

void arange_forward(const OpCall& c) {
  check_shape(c);
  c.outputs[0] = make_tensor(c.attrs.ints, c.attrs.dtype);
  const double start = c.attrs.scalar, step = c.attrs.scalar2;
  fill_each(c.outputs[0], [=](int64_t i) { return start + step * double(i); });
}

void linspace_forward(const OpCall& c) {
  check_shape(c);
  c.outputs[0] = make_tensor(c.attrs.ints, c.attrs.dtype);
  const int64_t n = c.attrs.ints[0];
  const double start = c.attrs.scalar, end = c.attrs.scalar2;
  const double step = n > 1 ? (end - start) / double(n - 1) : 0.0;
  // Symmetric from both ends, as in PyTorch, so the last value is exactly `end`.
  fill_each(c.outputs[0],
            [=](int64_t i) { return i < n / 2 ? start + step * double(i) : end - step * double(n - 1 - i); });
}

void eye_forward(const OpCall& c) {
  check_shape(c);
  c.outputs[0] = make_tensor(c.attrs.ints, c.attrs.dtype);
  const int64_t cols = c.attrs.ints[1];
  fill_each(c.outputs[0], [cols](int64_t i) { return i / cols == i % cols ? 1.0 : 0.0; });
}

void rand_forward(const OpCall& c) {
  check_shape(c);
  c.outputs[0] = make_tensor(c.attrs.ints, c.attrs.dtype);
  const bool f32 = c.attrs.dtype == DType::Float32;
  GeneratorLock generator;
  fill_each(c.outputs[0], [&](int64_t) { return generator.draw(RandomKind::Uniform, f32, 0, 1); });
}

void randn_forward(const OpCall& c) {
  check_shape(c);
  c.outputs[0] = make_tensor(c.attrs.ints, c.attrs.dtype);
  GeneratorLock generator;
  fill_each(c.outputs[0], [&](int64_t) { return generator.draw(RandomKind::Normal, false, 0, 0); });
}

void randint_forward(const OpCall& c) {
  check_shape(c);
  const int64_t low = static_cast<int64_t>(c.attrs.scalar), high = static_cast<int64_t>(c.attrs.scalar2);
  c.outputs[0] = make_tensor(c.attrs.ints, c.attrs.dtype);
  GeneratorLock generator;
  fill_each(c.outputs[0],
            [&](int64_t) { return generator.draw(RandomKind::Integer, false, double(low), double(high)); });
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_creation_kernels(OpRegistry& r) {
  using namespace kernels;
  r.forward(OpId::full, &full_forward);
  r.forward(OpId::arange, &arange_forward);
  r.forward(OpId::linspace, &linspace_forward);
  r.forward(OpId::eye, &eye_forward);
  r.forward(OpId::rand, &rand_forward);
  r.forward(OpId::randn, &randn_forward);
  r.forward(OpId::randint, &randint_forward);
}
}  // namespace ember
