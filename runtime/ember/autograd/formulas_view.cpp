// formulas_view.cpp - gradients of the view ops and of their own gradients.
#include "ember/autograd/backward_context.h"
#include "ember/dispatch.h"
#include "ember/ops.h"

namespace ember::autograd {
namespace {

using Ctx = BackwardContext;

void reshape_bw(Ctx& c) { c.set(0, c.grad().reshape(c.input_shape(0))); }

void permute_bw(Ctx& c) {
  const Shape& perm = c.attrs().ints;
  std::vector<int64_t> inverse(perm.ndim());
  for (int64_t i = 0; i < perm.ndim(); ++i) inverse[wrap_dim(perm[i], perm.ndim(), "permute", c.loc())] = i;
  c.set(0, c.grad().permute(inverse));
}

void slice_bw(Ctx& c) {
  OpAttrs a;
  a.dim = c.attrs().dim;
  a.ints = c.input_shape(0);
  a.ints2 = c.attrs().ints;  // start, end, step
  c.set(0, dispatch(OpId::slice_backward, {c.grad()}, a, c.loc()));
}

void select_bw(Ctx& c) {
  OpAttrs a;
  a.dim = c.attrs().dim;
  a.index = c.attrs().index;
  a.ints = c.input_shape(0);
  c.set(0, dispatch(OpId::select_backward, {c.grad()}, a, c.loc()));
}

void expand_bw(Ctx& c) { c.set(0, sum_to(c.grad(), c.input_shape(0), c.loc())); }

// The gradient of slice_backward/select_backward is the slice/select itself.
void slice_backward_bw(Ctx& c) {
  const OpAttrs& a = c.attrs();
  c.set(0, c.grad().slice(a.dim, a.ints2[0], a.ints2[1], a.ints2[2]));
}
void select_backward_bw(Ctx& c) { c.set(0, c.grad().select(c.attrs().dim, c.attrs().index)); }

}  // namespace
}  // namespace ember::autograd

namespace ember {
void register_view_formulas(OpRegistry& r) {
  using namespace autograd;
  r.backward(OpId::view, &reshape_bw);
  r.backward(OpId::permute, &permute_bw);
  r.backward(OpId::slice, &slice_bw);
  r.backward(OpId::select, &select_bw);
  r.backward(OpId::expand, &expand_bw);
  r.backward(OpId::squeeze, &reshape_bw);
  r.backward(OpId::unsqueeze, &reshape_bw);
  r.backward(OpId::slice_backward, &slice_backward_bw);
  r.backward(OpId::select_backward, &select_backward_bw);
}
}  // namespace ember
