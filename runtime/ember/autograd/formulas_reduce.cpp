// formulas_reduce.cpp - gradients of reductions and matmul.
#include "ember/autograd/backward_context.h"
#include "ember/kernels/common.h"
#include "ember/ops.h"

namespace ember::autograd {
namespace {

using Ctx = BackwardContext;

// The gradient of a reduction, broadcast back over the input's shape: the
// reduced dims are restored as size 1 (when keepdim was off) and expanded.
Tensor unreduce(const Ctx& c, const Tensor& g) {
  const kernels::ReduceDims rd = meta::reduce_dims(c.input_shape(0), c.attrs().ints, true, "backward");
  return g.reshape(rd.kept_shape).expand(c.input_shape(0));
}
int64_t reduced_count(const Ctx& c) {
  return meta::reduce_dims(c.input_shape(0), c.attrs().ints, true, "backward").count;
}

void sum_bw(Ctx& c) { c.set(0, unreduce(c, c.grad())); }
void mean_bw(Ctx& c) { c.set(0, unreduce(c, c.grad()) / double(reduced_count(c))); }
void var_bw(Ctx& c) {
  const Tensor x = c.input(0);
  const double denom = double(reduced_count(c) - c.attrs().index);
  c.set(0, unreduce(c, c.grad()) * (x - x.mean(c.attrs().ints, true)) * (2.0 / denom));
}
void logsumexp_bw(Ctx& c) { c.set(0, unreduce(c, c.grad()) * (c.input(0) - unreduce(c, c.output())).exp()); }
// Equal maxima share the gradient evenly.
void amax_amin_bw(Ctx& c) {
  const Tensor mask = c.input(0).eq(unreduce(c, c.output()));
  const Tensor share = mask / mask.sum(c.attrs().ints, true);
  c.set(0, unreduce(c, c.grad()) * share);
}
// max/min along a dim: the gradient goes to the selected index.
void index_reduce_bw(Ctx& c) {
  const int64_t dim = wrap_dim(c.attrs().dim, c.input_shape(0).ndim(), "backward", c.loc());
  Tensor g = c.grad(0), idx = c.output(1);
  if (!c.attrs().has(kKeepdim) && c.input_shape(0).ndim() > 0) {
    g = g.unsqueeze(dim);
    idx = idx.unsqueeze(dim);
  }
  if (c.input_shape(0).ndim() == 0) {
    c.set(0, g);
    return;
  }
  Shape pos_shape;
  for (int64_t d = 0; d < c.input_shape(0).ndim(); ++d)
    pos_shape.push_back(d == dim ? c.input_shape(0)[d] : 1);
  const Tensor positions = arange(0, c.input_shape(0)[dim], 1, DType::Int64).view(pos_shape);
  c.set(0, g * positions.eq(idx));
}

// Note [Weight gradient layout]
// linear() multiplies by w.t(), a transposed view. Its gradient computed as
// A^T G comes out [in, out] and reaches w through the view's backward as a
// transposed (strided) tensor, which then costs a transposing copy. When the
// right operand is a transposed view, the gradient is computed as (G^T A)^T
// instead: the view's backward then turns it back into w's own contiguous
// layout, and the copy disappears (mlp_train: 23 ms -> see README).
void matmul_bw(Ctx& c) {
  const Tensor a = c.input(0), b = c.input(1);
  const Tensor g = c.grad();
  if (a.dim() == 1 && b.dim() == 1) {
    if (c.needs_grad(0)) c.set(0, g * b);
    if (c.needs_grad(1)) c.set(1, g * a);
    return;
  }
  const Tensor A = a.dim() == 1 ? a.unsqueeze(0) : a;
  const Tensor B = b.dim() == 1 ? b.unsqueeze(-1) : b;
  Tensor G = g;
  if (a.dim() == 1) G = G.unsqueeze(-2);
  if (b.dim() == 1) G = G.unsqueeze(-1);
  if (c.needs_grad(0)) c.set(0, sum_to(G.matmul(B.transpose(-1, -2)), A.sizes(), c.loc()).reshape(a.sizes()));
  if (!c.needs_grad(1)) return;
  if (B.dim() == 2) {
    // A shared matrix: fold every batch dim into one GEMM instead of summing per-batch products.
    const Tensor A2 = A.reshape({-1, A.size(-1)}), G2 = G.reshape({-1, G.size(-1)});
    const bool transposed_view = B.stride(0) == 1 && B.stride(1) != 1;
    const Tensor gB = transposed_view ? G2.t().matmul(A2).t() : A2.t().matmul(G2);
    c.set(1, gB.reshape(b.sizes()));
    return;
  }
  c.set(1, sum_to(A.transpose(-1, -2).matmul(G), B.sizes(), c.loc()).reshape(b.sizes()));
}

}  // namespace
}  // namespace ember::autograd

namespace ember {
void register_reduce_formulas(OpRegistry& r) {
  using namespace autograd;
  r.backward(OpId::sum, &sum_bw);
  r.backward(OpId::mean, &mean_bw);
  r.backward(OpId::var, &var_bw);
  r.backward(OpId::logsumexp, &logsumexp_bw);
  r.backward(OpId::amax, &amax_amin_bw);
  r.backward(OpId::amin, &amax_amin_bw);
  r.backward(OpId::max_dim, &index_reduce_bw);
  r.backward(OpId::min_dim, &index_reduce_bw);
  r.backward(OpId::matmul, &matmul_bw);
}
}  // namespace ember
