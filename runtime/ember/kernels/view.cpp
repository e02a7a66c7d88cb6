// view.cpp - view ops (no copy: new geometry over the same storage) and the
// gradients of slice and select.
#include "ember/kernels/common.h"

namespace ember::kernels {
namespace {

Tensor& set_view(const OpCall& c, const Shape& sizes, const Shape& strides, int64_t offset) {
  c.outputs[0] = make_view(c.inputs[0], sizes, strides, offset);
  c.outputs[0].impl()->is_view = true;
  return c.outputs[0];
}

// Each view's shape (and every check) is its shape rule's (meta.h); the
// kernel adds the strides and offset over the same storage.
void view_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape shape = meta::view_shape(meta_of(x), c.attrs.ints);
  auto strides = view_strides(x.sizes(), x.strides(), shape);
  EMBER_CHECK(strides.has_value(), c.loc, "view: shape ", shape,
              " is not compatible with the input's sizes and strides (", x.sizes(), ", ", x.strides(),
              "): the input is not contiguous; use reshape() or contiguous() first");
  set_view(c, shape, *strides, x.storage_offset());
}

void permute_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape sizes = meta::permute_shape(meta_of(x), c.attrs.ints);
  Shape strides;
  for (int64_t d : c.attrs.ints) strides.push_back(x.stride(d < 0 ? d + x.dim() : d));
  set_view(c, sizes, strides, x.storage_offset());
}

void slice_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const meta::Slice s =
      meta::slice(x.sizes(), c.attrs.dim, c.attrs.ints[0], c.attrs.ints[1], c.attrs.ints[2]);
  Shape sizes = x.sizes(), strides = x.strides();
  sizes[s.dim] = s.length;
  strides[s.dim] *= s.step;
  set_view(c, sizes, strides, x.storage_offset() + s.start * x.stride(s.dim));
}

void select_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape sizes = meta::select_shape(meta_of(x), c.attrs.dim, c.attrs.index);
  const int64_t dim = meta::wrap_dim(c.attrs.dim, x.dim(), "select");
  const int64_t index = c.attrs.index < 0 ? c.attrs.index + x.size(dim) : c.attrs.index;
  Shape strides = x.strides();
  strides.erase(dim);
  set_view(c, sizes, strides, x.storage_offset() + index * x.stride(dim));
}

void expand_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape sizes = meta::expand_shape(meta_of(x), c.attrs.ints);
  Shape strides = sizes;
  const int64_t lead = sizes.ndim() - x.dim();
  for (int64_t i = 0; i < sizes.ndim(); ++i)
    strides[i] = i >= lead && x.size(i - lead) == sizes[i] ? x.stride(i - lead) : 0;
  set_view(c, sizes, strides, x.storage_offset());
}

void squeeze_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape sizes = meta::squeeze_shape(meta_of(x), c.attrs.ints);
  bool drop[kMaxDims] = {};
  if (c.attrs.ints.ndim() == 0) {
    for (int64_t d = 0; d < x.dim(); ++d) drop[d] = x.size(d) == 1;
  } else {
    for (int64_t d : c.attrs.ints) {
      const int64_t w = meta::wrap_dim(d, x.dim(), "squeeze");
      drop[w] = x.dim() > 0 && x.size(w) == 1;
    }
  }
  Shape strides;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!drop[d]) strides.push_back(x.stride(d));
  set_view(c, sizes, strides, x.storage_offset());
}

void unsqueeze_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape sizes = meta::unsqueeze_shape(meta_of(x), c.attrs.dim);
  const int64_t dim = meta::wrap_dim(c.attrs.dim, x.dim() + 1, "unsqueeze");
  Shape strides = x.strides();
  strides.insert(dim, dim < x.dim() ? x.stride(dim) * x.size(dim) : 1, c.loc);
  set_view(c, sizes, strides, x.storage_offset());
}

// Zeros of the input's shape with the gradient written where the view was.
void slice_backward_forward(const OpCall& c) {
  const Tensor& g = c.inputs[0];
  meta::scatter_shape(c.op, meta_of(g), c.attrs);
  Tensor& out = c.outputs[0];
  InternalScope scope;
  out = zeros_internal(c.attrs.ints, g.dtype());
  Tensor region = c.op == OpId::slice_backward
                      ? out.slice(c.attrs.dim, c.attrs.ints2[0], c.attrs.ints2[1], c.attrs.ints2[2])
                      : out.select(c.attrs.dim, c.attrs.index);
  copy_convert(region, g);
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_view_kernels(OpRegistry& r) {
  using namespace kernels;
  r.forward(OpId::view, &view_forward);
  r.forward(OpId::permute, &permute_forward);
  r.forward(OpId::slice, &slice_forward);
  r.forward(OpId::select, &select_forward);
  r.forward(OpId::expand, &expand_forward);
  r.forward(OpId::squeeze, &squeeze_forward);
  r.forward(OpId::unsqueeze, &unsqueeze_forward);
  r.forward(OpId::slice_backward, &slice_backward_forward);
  r.forward(OpId::select_backward, &slice_backward_forward);
}
}  // namespace ember
