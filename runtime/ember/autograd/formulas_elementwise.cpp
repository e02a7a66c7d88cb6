// formulas_elementwise.cpp - gradients of the elementwise ops, written with
// ember ops so that they are differentiable themselves (create_graph) and
// traceable. Operands that were broadcast get their gradient summed back to
// their own shape (sum_to).
#include <cmath>

#include "ember/autograd/backward_context.h"
#include "ember/ops.h"

namespace ember::autograd {
namespace {

using Ctx = BackwardContext;

// Sets the gradient of operand i, summed down to its shape.
void set_summed(Ctx& c, int i, const Tensor& g) {
  if (c.needs_grad(i)) c.set(i, sum_to(g, c.input_shape(i), c.loc()));
}

void neg_bw(Ctx& c) { c.set(0, c.grad().neg()); }
void exp_bw(Ctx& c) { c.set(0, c.grad() * c.output()); }
void log_bw(Ctx& c) { c.set(0, c.grad() / c.input(0)); }
void sqrt_bw(Ctx& c) { c.set(0, c.grad() / (c.output() * 2)); }
void rsqrt_bw(Ctx& c) { c.set(0, c.grad() * c.output().pow(3) * -0.5); }
void abs_bw(Ctx& c) { c.set(0, c.grad() * c.input(0).sign()); }
void sin_bw(Ctx& c) { c.set(0, c.grad() * c.input(0).cos()); }
void cos_bw(Ctx& c) { c.set(0, -(c.grad() * c.input(0).sin())); }
void tanh_bw(Ctx& c) {
  const Tensor y = c.output();
  c.set(0, c.grad() * (1 - y * y));
}
void sigmoid_bw(Ctx& c) {
  const Tensor y = c.output();
  c.set(0, c.grad() * y * (1 - y));
}
void relu_bw(Ctx& c) { c.set(0, c.grad() * c.output().gt(0)); }
void gelu_bw(Ctx& c) {
  const Tensor x = c.input(0);
  const Tensor cdf = ((x * M_SQRT1_2).erf() + 1) * 0.5;
  const Tensor pdf = (x * x * -0.5).exp() * (0.5 * M_2_SQRTPI * M_SQRT1_2);
  c.set(0, c.grad() * (cdf + x * pdf));
}
void silu_bw(Ctx& c) {
  const Tensor x = c.input(0);
  const Tensor s = x.sigmoid();
  c.set(0, c.grad() * s * (1 + x * (1 - s)));
}
// d softplus / dx = sigmoid(x)
void softplus_bw(Ctx& c) { c.set(0, c.grad() * c.input(0).sigmoid()); }
void erf_bw(Ctx& c) {
  const Tensor x = c.input(0);
  c.set(0, c.grad() * (x * x).neg().exp() * M_2_SQRTPI);
}
void clamp_bw(Ctx& c) {
  const Tensor x = c.input(0);
  const OpAttrs& a = c.attrs();
  Tensor g = c.grad();
  if (a.has(kHasMin)) g = g * x.ge(a.scalar);
  if (a.has(kHasMax)) g = g * x.le(a.scalar2);
  c.set(0, g);
}
void copy_bw(Ctx& c) { c.set(0, c.grad().to(c.input_dtype(0))); }

void add_bw(Ctx& c) {
  set_summed(c, 0, c.grad());
  set_summed(c, 1, c.grad());
}
void sub_bw(Ctx& c) {
  set_summed(c, 0, c.grad());
  if (c.needs_grad(1)) set_summed(c, 1, c.grad().neg());
}
void mul_bw(Ctx& c) {
  if (c.needs_grad(0)) set_summed(c, 0, c.grad() * c.input(1));
  if (c.needs_grad(1)) set_summed(c, 1, c.grad() * c.input(0));
}
void div_bw(Ctx& c) {
  const Tensor b = c.input(1);
  if (c.needs_grad(0)) set_summed(c, 0, c.grad() / b);
  if (c.needs_grad(1)) set_summed(c, 1, -(c.grad() * c.input(0)) / (b * b));
}
void pow_bw(Ctx& c) {
  const Tensor a = c.input(0), b = c.input(1);
  if (c.needs_grad(0)) set_summed(c, 0, c.grad() * b * a.pow(b - 1));
  if (c.needs_grad(1)) {
    // d(a^b)/db = a^b log a; taken as 0 where a == 0 (as PyTorch does).
    const Tensor t = c.grad() * c.output() * a.log();
    set_summed(c, 1, where(a.eq(0), zeros_like(t), t));
  }
}
// Ties split the gradient evenly, as in PyTorch.
void max_min_bw(Ctx& c, bool is_max) {
  const Tensor a = c.input(0), b = c.input(1);
  const Tensor ties = a.eq(b) * 0.5;
  if (c.needs_grad(0)) set_summed(c, 0, c.grad() * ((is_max ? a.gt(b) : a.lt(b)) + ties));
  if (c.needs_grad(1)) set_summed(c, 1, c.grad() * ((is_max ? b.gt(a) : b.lt(a)) + ties));
}
void maximum_bw(Ctx& c) { max_min_bw(c, true); }
void minimum_bw(Ctx& c) { max_min_bw(c, false); }
void where_bw(Ctx& c) {
  const Tensor cond = c.input(0);
  const Tensor g = c.grad();
  const Tensor zero = zeros_like(g);
  if (c.needs_grad(1)) set_summed(c, 1, where(cond, g, zero));
  if (c.needs_grad(2)) set_summed(c, 2, where(cond, zero, g));
}

}  // namespace
}  // namespace ember::autograd

namespace ember {
void register_elementwise_formulas(OpRegistry& r) {
  using namespace autograd;
  r.backward(OpId::neg, &neg_bw);
  r.backward(OpId::exp, &exp_bw);
  r.backward(OpId::log, &log_bw);
  r.backward(OpId::sqrt, &sqrt_bw);
  r.backward(OpId::rsqrt, &rsqrt_bw);
  r.backward(OpId::abs, &abs_bw);
  r.backward(OpId::sin, &sin_bw);
  r.backward(OpId::cos, &cos_bw);
  r.backward(OpId::tanh, &tanh_bw);
  r.backward(OpId::sigmoid, &sigmoid_bw);
  r.backward(OpId::relu, &relu_bw);
  r.backward(OpId::gelu, &gelu_bw);
  r.backward(OpId::silu, &silu_bw);
  r.backward(OpId::softplus, &softplus_bw);
  r.backward(OpId::erf, &erf_bw);
  r.backward(OpId::clamp, &clamp_bw);
  r.backward(OpId::copy, &copy_bw);
  r.backward(OpId::add, &add_bw);
  r.backward(OpId::sub, &sub_bw);
  r.backward(OpId::mul, &mul_bw);
  r.backward(OpId::div, &div_bw);
  r.backward(OpId::pow, &pow_bw);
  r.backward(OpId::maximum, &maximum_bw);
  r.backward(OpId::minimum, &minimum_bw);
  r.backward(OpId::where, &where_bw);
}
}  // namespace ember
