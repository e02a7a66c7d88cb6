// shape.h - fixed-capacity shapes and strides, and broadcasting.
//
// A Shape lives inline in the tensor (no heap allocation per op). ember
// tensors have at most kMaxDims dimensions; more is an error, not a crash.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "ember/error.h"

namespace ember {

inline constexpr int kMaxDims = 8;

// A read-only view of a list of integers: accepts `{2, 3}`, a std::vector or a
// Shape, like c10::IntArrayRef. Valid only for the call it is passed to.
class IntArrayRef {
 public:
  IntArrayRef() = default;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
  // Like c10::IntArrayRef: the list lives until the end of the full expression.
  IntArrayRef(std::initializer_list<int64_t> list) : data_(list.begin()), size_(list.size()) {}
#pragma GCC diagnostic pop
  IntArrayRef(const std::vector<int64_t>& v) : data_(v.data()), size_(v.size()) {}
  IntArrayRef(const int64_t* data, size_t size) : data_(data), size_(size) {}
  const int64_t* begin() const { return data_; }
  const int64_t* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t operator[](size_t i) const { return data_[i]; }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

 private:
  const int64_t* data_ = nullptr;
  size_t size_ = 0;
};

class Shape {
 public:
  Shape() = default;
  Shape(IntArrayRef dims, const Loc& loc = Loc::current());
  Shape(std::initializer_list<int64_t> dims, const Loc& loc = Loc::current())
      : Shape(IntArrayRef(dims), loc) {}

  int64_t ndim() const { return n_; }
  int64_t operator[](int64_t i) const { return d_[i]; }
  int64_t& operator[](int64_t i) { return d_[i]; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }
  int64_t* data() { return d_; }
  operator IntArrayRef() const { return {d_, static_cast<size_t>(n_)}; }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  void push_back(int64_t v, const Loc& loc = Loc::current());
  void insert(int64_t pos, int64_t v, const Loc& loc = Loc::current());
  void erase(int64_t pos);
  void resize(int64_t n) { n_ = static_cast<int8_t>(n); }
  int64_t numel() const;

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  int64_t d_[kMaxDims] = {};
  int8_t n_ = 0;
};

std::ostream& operator<<(std::ostream& out, const Shape& s);
std::ostream& operator<<(std::ostream& out, IntArrayRef s);
std::string to_string(IntArrayRef s);

// Strides that let a tensor of `sizes`/`strides` be viewed as `new_sizes`
// without a copy, if any (PyTorch's computeStride).
std::optional<Shape> view_strides(const Shape& sizes, const Shape& strides, const Shape& new_sizes);

// Strides (in elements) of a row-major contiguous tensor of this shape.
Shape contiguous_strides(const Shape& sizes);

// NumPy broadcasting; `op` names the caller in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op, const Loc& loc);

// Wraps a possibly negative dim into [0, ndim); an error names op and range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op, const Loc& loc);

}  // namespace ember
