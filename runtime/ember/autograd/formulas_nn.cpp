// formulas_nn.cpp - gradients of the nn primitives. softmax, layer_norm and
// the losses are written with ember ops (so they have second derivatives);
// conv and pooling call their gradient kernels.
#include "ember/autograd/backward_context.h"
#include "ember/dispatch.h"
#include "ember/ops.h"

namespace ember::autograd {
namespace {

using Ctx = BackwardContext;

void softmax_bw(Ctx& c) {
  const Tensor y = c.output(), g = c.grad();
  const int64_t dim = c.attrs().dim;
  c.set(0, y * (g - (g * y).sum(dim, true)));
}

void log_softmax_bw(Ctx& c) {
  const Tensor y = c.output(), g = c.grad();
  const int64_t dim = c.attrs().dim;
  c.set(0, g - y.exp() * g.sum(dim, true));
}

// With xhat = (x - mean) * rstd over the normalized dims D:
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = g * w
void layer_norm_bw(Ctx& c) {
  const Tensor x = c.input(0), g = c.grad();
  const int64_t nd = c.attrs().index;
  std::vector<int64_t> dims, batch_dims;
  for (int64_t d = x.dim() - nd; d < x.dim(); ++d) dims.push_back(d);
  for (int64_t d = 0; d < x.dim() - nd; ++d) batch_dims.push_back(d);
  const Tensor centered = x - x.mean(dims, true);
  const Tensor rstd = ((centered * centered).mean(dims, true) + c.attrs().scalar).rsqrt();
  const Tensor xhat = centered * rstd;
  const bool has_weight = c.num_inputs() > 1;
  const Tensor dxhat = has_weight ? g * c.input(1) : g;
  if (c.needs_grad(0))
    c.set(0, rstd * (dxhat - dxhat.mean(dims, true) - xhat * (dxhat * xhat).mean(dims, true)));
  auto over_batch = [&](const Tensor& t) { return batch_dims.empty() ? t : t.sum(batch_dims); };
  if (has_weight && c.needs_grad(1)) c.set(1, over_batch(g * xhat));
  if (c.num_inputs() > 2 && c.needs_grad(2)) c.set(2, over_batch(g));
}

// d loss / d input for each row, before the reduction's scale: the row is
// weighted by 0 where the target is ignored.
Tensor loss_scale(const Ctx& c, const Tensor& targets) {
  const Tensor valid = targets.ne(c.attrs().index).unsqueeze(1);
  const auto reduction = static_cast<Reduction>(c.attrs().dim);
  const Tensor g = c.grad();
  if (reduction == Reduction::None) return g.unsqueeze(1) * valid;
  if (reduction == Reduction::Sum) return g * valid;
  return g * valid / valid.sum();
}

// The attention kernel's backward (Note [Tiled attention]) gives dq, and dk
// and dv side by side along the last dim: two slices of that. The
// log-sum-exp output is the kernel's own (no API returns it) and carries no
// gradient (registered so: it has no history); a mask is a constant (scaled_dot_product_attention refuses one
// that requires grad).
void attention_bw(Ctx& c) {
  const Tensor q = c.input(0), k = c.input(1), v = c.input(2), out = c.output(0);
  const Tensor g = c.has_grad(0) ? c.grad(0) : zeros_like(out);
  std::vector<Tensor> operands{g, q, k, v, out, c.output(1)};
  if (c.num_inputs() == 4) operands.push_back(c.input(3));
  const auto [dq, dkv] = dispatch2(OpId::attention_backward, operands, c.attrs(), c.loc());
  const int64_t d = k.size(-1), dv = v.size(-1);
  if (c.needs_grad(0)) c.set(0, dq);
  if (c.needs_grad(1)) c.set(1, dkv.slice(-1, 0, d));
  if (c.needs_grad(2)) c.set(2, dkv.slice(-1, d, d + dv));
}

// The lstm kernel's backward (Note [Fused LSTM]) reads the saved gates
// (output 1; their gradient is the cells', through the API's slice) and
// gives dx, and the weights' gradients (then h0's and c0's, when given) in
// one flat tensor: views of it. Both biases get the same gradient (they are
// added).
void lstm_bw(Ctx& c) {
  const bool state = c.num_inputs() == 7;
  const Tensor w_ih = c.input(1), w_hh = c.input(2), out = c.output(0);
  std::vector<Tensor> operands{c.has_grad(0) ? c.grad(0) : zeros_like(out),
                               c.input(0),
                               w_ih,
                               w_hh,
                               c.input(3),
                               c.input(4),
                               out,
                               c.output(1)};
  if (state) operands.insert(operands.end(), {c.input(5), c.input(6)});
  if (c.has_grad(1)) operands.push_back(c.grad(1));
  const auto [dx, flat] = dispatch2(OpId::lstm_backward, operands, c.attrs(), c.loc());
  const int64_t h = w_hh.size(1), gates = 4 * h, n_ih = w_ih.numel(), n_hh = w_hh.numel();
  if (c.needs_grad(0)) c.set(0, dx);
  if (c.needs_grad(1)) c.set(1, flat.slice(0, 0, n_ih).view({gates, w_ih.size(1)}));
  if (c.needs_grad(2)) c.set(2, flat.slice(0, n_ih, n_ih + n_hh).view({gates, h}));
  const int64_t bias = n_ih + n_hh;
  for (int b : {3, 4})
    if (c.needs_grad(b)) c.set(b, flat.slice(0, bias, bias + gates));
  if (!state) return;
  const int64_t h0 = bias + gates, n_state = c.input(5).numel();
  if (c.needs_grad(5)) c.set(5, flat.slice(0, h0, h0 + n_state).view(c.input(5).sizes()));
  if (c.needs_grad(6)) c.set(6, flat.slice(0, h0 + n_state, h0 + 2 * n_state).view(c.input(6).sizes()));
}

// The gru kernel's backward (Note [Fused GRU]) reads the saved gates
// (output 1: registered below as carrying no gradient, so none reaches
// here) and gives dx, then dW_ih, dW_hh, db_ih, db_hh (and dh0) in one flat
// tensor, taken apart here in that order.
void gru_bw(Ctx& c) {
  const bool state = c.num_inputs() == 6;
  const Tensor out = c.output(0);
  std::vector<Tensor> operands{c.has_grad(0) ? c.grad(0) : zeros_like(out),
                               c.input(0),
                               c.input(1),
                               c.input(2),
                               c.input(3),
                               c.input(4),
                               out,
                               c.output(1)};
  if (state) operands.push_back(c.input(5));
  const auto [dx, flat] = dispatch2(OpId::gru_backward, operands, c.attrs(), c.loc());
  if (c.needs_grad(0)) c.set(0, dx);
  int64_t offset = 0;
  for (int i = 1; i < c.num_inputs(); ++i) {  // the flat gradient's parts, in the inputs' order
    const Shape& shape = c.input_shape(i);
    const int64_t n = shape.numel();
    if (c.needs_grad(i)) c.set(i, flat.slice(0, offset, offset + n).view(shape));
    offset += n;
  }
}

void cross_entropy_bw(Ctx& c) {
  const Tensor x = c.input(0), t = c.input(1);
  c.set(0, (x.softmax(1) - one_hot(t, x.size(1)).to(x.dtype())) * loss_scale(c, t));
}

void nll_loss_bw(Ctx& c) {
  const Tensor x = c.input(0), t = c.input(1);
  c.set(0, one_hot(t, x.size(1)).to(x.dtype()).neg() * loss_scale(c, t));
}

void embedding_bw(Ctx& c) {
  OpAttrs a;
  a.index = c.input_shape(0)[0];
  c.set(0, dispatch(OpId::embedding_backward, {c.grad(), c.input(1)}, a, c.loc()));
}

void embedding_backward_bw(Ctx& c) { c.set(0, embedding(c.grad(), c.input(1))); }

void cat_bw(Ctx& c) {
  const int64_t dim = wrap_dim(c.attrs().dim, c.input_shape(0).ndim(), "cat", c.loc());
  int64_t offset = 0;
  for (int i = 0; i < c.num_inputs(); ++i) {
    const int64_t size = c.input_shape(i)[dim];
    if (c.needs_grad(i)) c.set(i, c.grad().narrow(dim, offset, size));
    offset += size;
  }
}

void conv2d_bw(Ctx& c) {
  const Tensor g = c.grad();
  OpAttrs a;
  a.ints = c.attrs().ints;
  if (c.needs_grad(0)) {
    a.ints2 = c.input_shape(0);
    c.set(0, dispatch(OpId::conv2d_backward_input, {g, c.input(1)}, a, c.loc()));
  }
  if (c.needs_grad(1)) {
    a.ints2 = c.input_shape(1);
    c.set(1, dispatch(OpId::conv2d_backward_weight, {g, c.input(0)}, a, c.loc()));
  }
  if (c.num_inputs() > 2 && c.needs_grad(2)) c.set(2, g.sum({0, 2, 3}));
}

void max_pool2d_bw(Ctx& c) {
  OpAttrs a;
  a.ints = c.attrs().ints;
  c.set(0, dispatch(OpId::max_pool2d_backward, {c.grad(), c.input(0)}, a, c.loc()));
}

void avg_pool2d_bw(Ctx& c) {
  OpAttrs a;
  a.ints = c.attrs().ints;
  a.ints2 = c.input_shape(0);
  c.set(0, dispatch(OpId::avg_pool2d_backward, {c.grad()}, a, c.loc()));
}

}  // namespace
}  // namespace ember::autograd

namespace ember {
void register_nn_formulas(OpRegistry& r) {
  using namespace autograd;
  r.backward(OpId::softmax, &softmax_bw);
  r.backward(OpId::log_softmax, &log_softmax_bw);
  r.backward(OpId::layer_norm, &layer_norm_bw);
  r.backward(OpId::cross_entropy, &cross_entropy_bw);
  r.backward(OpId::nll_loss, &nll_loss_bw);
  r.backward(OpId::embedding, &embedding_bw);
  r.backward(OpId::embedding_backward, &embedding_backward_bw);
  r.backward(OpId::cat, &cat_bw);
  r.backward(OpId::conv2d, &conv2d_bw);
  r.backward(OpId::attention, &attention_bw, /*differentiable_outputs=*/1);
  r.backward(OpId::lstm, &lstm_bw);
  r.backward(OpId::gru, &gru_bw, /*differentiable_outputs=*/1);
  r.backward(OpId::max_pool2d, &max_pool2d_bw);
  r.backward(OpId::avg_pool2d, &avg_pool2d_bw);
}
}  // namespace ember
