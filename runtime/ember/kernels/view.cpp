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

void view_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape& shape = c.attrs.ints;
  EMBER_CHECK(shape.numel() == x.numel(), c.loc, "view: shape ", shape, " is invalid for a tensor of ",
              x.numel(), " elements (shape ", x.sizes(), ")");
  auto strides = view_strides(x.sizes(), x.strides(), shape);
  EMBER_CHECK(strides.has_value(), c.loc, "view: shape ", shape,
              " is not compatible with the input's sizes and strides (", x.sizes(), ", ",
              x.strides(), "): the input is not contiguous; use reshape() or contiguous() first");
  set_view(c, shape, *strides, x.storage_offset());
}

void permute_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape& perm = c.attrs.ints;
  EMBER_CHECK(perm.ndim() == x.dim(), c.loc, "permute: ", perm, " has ", perm.ndim(),
              " dims but the input has ", x.dim(), " (shape ", x.sizes(), ")");
  bool seen[kMaxDims] = {};
  Shape sizes, strides;
  for (int64_t i = 0; i < perm.ndim(); ++i) {
    const int64_t d = wrap_dim(perm[i], x.dim(), "permute", c.loc);
    EMBER_CHECK(!seen[d], c.loc, "permute: dimension ", d, " appears twice in ", perm);
    seen[d] = true;
    sizes.push_back(x.size(d));
    strides.push_back(x.stride(d));
  }
  set_view(c, sizes, strides, x.storage_offset());
}

void slice_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  EMBER_CHECK(x.dim() > 0, c.loc, "slice: cannot slice a 0-d tensor");
  const int64_t dim = wrap_dim(c.attrs.dim, x.dim(), "slice", c.loc);
  const int64_t size = x.size(dim);
  int64_t start = c.attrs.ints[0], end = c.attrs.ints[1];
  const int64_t step = c.attrs.ints[2];
  EMBER_CHECK(step > 0, c.loc, "slice: step must be positive, got ", step);
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  Shape sizes = x.sizes(), strides = x.strides();
  sizes[dim] = (end - start + step - 1) / step;
  strides[dim] *= step;
  set_view(c, sizes, strides, x.storage_offset() + start * x.stride(dim));
}

void select_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  EMBER_CHECK(x.dim() > 0, c.loc, "select: cannot index a 0-d tensor");
  const int64_t dim = wrap_dim(c.attrs.dim, x.dim(), "select", c.loc);
  const int64_t size = x.size(dim);
  int64_t index = c.attrs.index;
  EMBER_CHECK(index >= -size && index < size, c.loc, "select: index ", index,
              " is out of range for dimension ", dim, " of size ", size, " (shape ", x.sizes(), ")");
  if (index < 0) index += size;
  Shape sizes = x.sizes(), strides = x.strides();
  sizes.erase(dim);
  strides.erase(dim);
  set_view(c, sizes, strides, x.storage_offset() + index * x.stride(dim));
}

void expand_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const Shape& shape = c.attrs.ints;
  EMBER_CHECK(shape.ndim() >= x.dim(), c.loc, "expand: the target ", shape,
              " has fewer dimensions than the input ", x.sizes());
  Shape sizes = shape, strides = shape;
  const int64_t lead = shape.ndim() - x.dim();
  for (int64_t i = 0; i < shape.ndim(); ++i) {
    if (i < lead) {
      EMBER_CHECK(shape[i] >= 0, c.loc, "expand: -1 is not allowed for a new leading dimension (target ", shape, ")");
      strides[i] = 0;
      continue;
    }
    const int64_t have = x.size(i - lead);
    const int64_t want = shape[i] == -1 ? have : shape[i];
    EMBER_CHECK(want == have || have == 1, c.loc, "expand: the size ", want, " must match the existing size ",
                have, " at dimension ", i, " (input ", x.sizes(), ", target ", shape, ")");
    sizes[i] = want;
    strides[i] = have == want ? x.stride(i - lead) : 0;
  }
  set_view(c, sizes, strides, x.storage_offset());
}

void squeeze_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  bool drop[kMaxDims] = {};
  if (c.attrs.ints.ndim() == 0) {
    for (int64_t d = 0; d < x.dim(); ++d) drop[d] = x.size(d) == 1;
  } else {
    for (int64_t d : c.attrs.ints) {
      const int64_t w = wrap_dim(d, x.dim(), "squeeze", c.loc);
      drop[w] = x.dim() > 0 && x.size(w) == 1;
    }
  }
  Shape sizes, strides;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (drop[d]) continue;
    sizes.push_back(x.size(d));
    strides.push_back(x.stride(d));
  }
  set_view(c, sizes, strides, x.storage_offset());
}

void unsqueeze_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  const int64_t dim = wrap_dim(c.attrs.dim, x.dim() + 1, "unsqueeze", c.loc);
  Shape sizes = x.sizes(), strides = x.strides();
  const int64_t stride = dim < x.dim() ? x.stride(dim) * x.size(dim) : 1;
  sizes.insert(dim, 1, c.loc);
  strides.insert(dim, stride, c.loc);
  set_view(c, sizes, strides, x.storage_offset());
}

// Zeros of the input's shape with the gradient written where the view was.
void slice_backward_forward(const OpCall& c) {
  const Tensor& g = c.inputs[0];
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
