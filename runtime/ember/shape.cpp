// shape.cpp - Shape helpers and NumPy broadcasting.
#include "ember/shape.h"

#include <ostream>
#include <sstream>

namespace ember {

Shape::Shape(IntArrayRef dims, const Loc& loc) {
  EMBER_CHECK(dims.size() <= kMaxDims, loc, "shape ", dims, " has ", dims.size(),
              " dimensions; ember supports at most ", kMaxDims);
  n_ = static_cast<int8_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) d_[i] = dims[i];
}

void Shape::push_back(int64_t v, const Loc& loc) { insert(n_, v, loc); }

void Shape::insert(int64_t pos, int64_t v, const Loc& loc) {
  EMBER_CHECK(n_ < kMaxDims, loc, "cannot add a dimension to ", *this, ": ember supports at most ", kMaxDims);
  for (int64_t i = n_; i > pos; --i) d_[i] = d_[i - 1];
  d_[pos] = v;
  ++n_;
}

void Shape::erase(int64_t pos) {
  for (int64_t i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
  --n_;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t i = 0; i < n_; ++i) n *= d_[i];
  return n;
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.n_ != b.n_) return false;
  for (int64_t i = 0; i < a.n_; ++i)
    if (a.d_[i] != b.d_[i]) return false;
  return true;
}

std::ostream& operator<<(std::ostream& out, IntArrayRef s) {
  out << '[';
  for (size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  return out << ']';
}
std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << IntArrayRef(s); }

std::string to_string(IntArrayRef s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

Shape contiguous_strides(const Shape& sizes) {
  Shape strides = sizes;
  int64_t stride = 1;
  for (int64_t i = sizes.ndim() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= sizes[i] > 1 ? sizes[i] : 1;
  }
  return strides;
}

std::optional<Shape> view_strides(const Shape& old_sizes, const Shape& old_strides, const Shape& new_sizes) {
  Shape new_strides = new_sizes;
  if (old_sizes.ndim() == 0) {
    for (int64_t i = 0; i < new_sizes.ndim(); ++i) new_strides[i] = 1;
    return new_strides;
  }
  if (old_sizes.numel() == 0) return contiguous_strides(new_sizes);
  int64_t view_d = new_sizes.ndim() - 1;
  int64_t chunk_base_stride = old_strides[old_sizes.ndim() - 1];
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = old_sizes.ndim() - 1; d >= 0; --d) {
    tensor_numel *= old_sizes[d];
    // A chunk ends where the next dim is not contiguous with this one.
    if (d == 0 || (old_sizes[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

// broadcast_shapes and wrap_dim are the shape rules of meta.h, at the
// caller's line: meta.cpp defines them.

}  // namespace ember
