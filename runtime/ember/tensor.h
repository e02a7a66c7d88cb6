// tensor.h - Tensor: a cheap ref-counted handle to strided data.
//
//   ember::Tensor x = ember::randn({128, 784});
//   ember::Tensor w = ember::randn({784, 10}).requires_grad_();
//   ember::Tensor loss = x.matmul(w).relu().mean();
//   loss.backward();                       // w.grad() is now [784, 10]
//   std::cout << w.grad();                 // values, shape, dtype
//
// A Tensor is a handle: copying it shares the data, like torch.Tensor. Views
// (view, permute, slice, select, expand, ...) share the storage and its
// version counter (Note [Version counter]).
#pragma once

#include <concepts>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/dtype.h"
#include "ember/error.h"
#include "ember/ref.h"
#include "ember/scalar.h"
#include "ember/shape.h"
#include "ember/storage.h"

namespace ember {

class Tensor;
namespace autograd {
struct AutogradMeta;
struct Node;
}  // namespace autograd

struct TensorImpl : RefCounted {
  TensorImpl(Ref<Storage> storage, const Shape& sizes, const Shape& strides, int64_t offset, DType dtype);
  ~TensorImpl();
  void refresh_contiguous();

  Ref<Storage> storage;  // shared with every view of the same buffer
  Shape sizes;           // extent of each dimension
  Shape strides;         // in elements; 0 for a broadcast (expanded) dimension
  int64_t offset = 0;    // in elements, from storage->data
  int64_t numel = 0;     // product of sizes
  DType dtype;
  bool contiguous = true;                            // row-major dense, so kernels may loop flat
  bool wrapped_number = false;                       // made from a C++ number (Note [Type promotion])
  bool is_view = false;                              // made by a view op: shares another tensor's buffer
  std::unique_ptr<autograd::AutogradMeta> autograd;  // null until autograd needs it
  std::unique_ptr<std::string> name;  // "fc1.weight" once a Module registers it; null otherwise
  uint64_t serial;  // creation order: the tracer tells tensors made before a call from those made in it
};

// The serial number the next TensorImpl will get.
uint64_t next_tensor_serial();

using TensorHook = std::function<Tensor(const Tensor&)>;

class Tensor {
 public:
  Tensor() = default;  // undefined: `defined()` is false
  explicit Tensor(Ref<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return static_cast<bool>(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  bool is_same(const Tensor& other) const { return impl_.get() == other.impl_.get(); }

  // --- metadata -----------------------------------------------------------
  int64_t dim() const { return impl_->sizes.ndim(); }
  int64_t ndim() const { return dim(); }
  const Shape& sizes() const { return impl_->sizes; }
  const Shape& shape() const { return impl_->sizes; }
  const Shape& strides() const { return impl_->strides; }
  int64_t size(int64_t d, const Loc& loc = Loc::current()) const;
  int64_t stride(int64_t d, const Loc& loc = Loc::current()) const;
  int64_t numel() const { return impl_->numel; }
  DType dtype() const { return impl_->dtype; }
  bool is_floating_point() const { return is_floating(dtype()); }
  bool is_contiguous() const { return impl_->contiguous; }
  int64_t storage_offset() const { return impl_->offset; }
  size_t itemsize() const { return ember::itemsize(dtype()); }

  // The dotted name a Module registered this tensor under ("fc1.weight",
  // the outermost module's path); empty if none. Diagnostics use it.
  std::string name() const { return impl_->name ? *impl_->name : std::string(); }
  void set_name(const std::string& name) const;

  // --- data ---------------------------------------------------------------
  void* data_ptr() const { return static_cast<char*>(impl_->storage->data) + impl_->offset * itemsize(); }
  template <typename T>
  T* data_ptr(const Loc& loc = Loc::current()) const {
    EMBER_CHECK(dtype_of<T>::value == dtype(), loc, "data_ptr: tensor is ", dtype_name(dtype()), ", not ",
                dtype_name(dtype_of<T>::value));
    return static_cast<T*>(data_ptr());
  }
  // The value of a one-element tensor. During tracing this marks the trace as
  // data-dependent (the value cannot be known ahead of a replay).
  template <typename T>
  T item(const Loc& loc = Loc::current()) const;
  // A contiguous copy of the values, converted to T.
  template <typename T>
  std::vector<T> to_vector(const Loc& loc = Loc::current()) const;

  // --- autograd -----------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true, const Loc& loc = Loc::current());
  Tensor grad() const;  // undefined until a backward reached this leaf
  void set_grad(const Tensor& grad, const Loc& loc = Loc::current());
  std::shared_ptr<autograd::Node> grad_fn() const;
  uint32_t output_nr() const;
  bool is_leaf() const;
  void backward(const Tensor& gradient = {}, bool retain_graph = false, bool create_graph = false,
                const Loc& loc = Loc::current()) const;
  // Runs on the gradient of this tensor during backward; the returned tensor
  // (if defined) replaces the gradient.
  void register_hook(TensorHook hook, const Loc& loc = Loc::current()) const;
  // Runs once this leaf's .grad holds the gradient of the current backward
  // (after accumulation): what data-parallel training starts its
  // communication from.
  void register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook,
                                          const Loc& loc = Loc::current()) const;
  Tensor detach() const;  // shares data and version counter, no history
  // Makes this tensor (and every handle to it) hold `data`'s values, shape and
  // dtype, keeping its autograd identity; used by Module::to(dtype).
  void set_data(const Tensor& data, const Loc& loc = Loc::current());
  uint32_t version() const { return impl_->storage->version.load(std::memory_order_relaxed); }
  // After writing through data_ptr(): what in-place ops do, so that saved
  // tensors and compiled graphs' packed weights see the change.
  void bump_version() const { impl_->storage->version.fetch_add(1, std::memory_order_relaxed); }

  // --- conversions and copies ---------------------------------------------
  Tensor to(DType dtype, const Loc& loc = Loc::current()) const;
  Tensor contiguous(const Loc& loc = Loc::current()) const;
  Tensor clone(const Loc& loc = Loc::current()) const;

  // --- views --------------------------------------------------------------
  Tensor view(IntArrayRef shape, const Loc& loc = Loc::current()) const;
  Tensor reshape(IntArrayRef shape, const Loc& loc = Loc::current()) const;
  Tensor permute(IntArrayRef dims, const Loc& loc = Loc::current()) const;
  Tensor transpose(int64_t d0, int64_t d1, const Loc& loc = Loc::current()) const;
  Tensor t(const Loc& loc = Loc::current()) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length, const Loc& loc = Loc::current()) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1,
               const Loc& loc = Loc::current()) const;
  Tensor select(int64_t dim, int64_t index, const Loc& loc = Loc::current()) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(IntArrayRef shape, const Loc& loc = Loc::current()) const;
  Tensor expand_as(const Tensor& other, const Loc& loc = Loc::current()) const;
  Tensor squeeze(const Loc& loc = Loc::current()) const;
  Tensor squeeze(int64_t dim, const Loc& loc = Loc::current()) const;
  Tensor unsqueeze(int64_t dim, const Loc& loc = Loc::current()) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1, const Loc& loc = Loc::current()) const;
  Tensor masked_fill(const Tensor& mask, Scalar value, const Loc& loc = Loc::current()) const;
  Tensor tril(int64_t diagonal = 0, const Loc& loc = Loc::current()) const;
  Tensor triu(int64_t diagonal = 0, const Loc& loc = Loc::current()) const;

  // --- elementwise ----------------------------------------------------------
  Tensor add(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor add(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor sub(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor sub(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor mul(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor mul(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor div(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor div(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor pow(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor pow(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor eq(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor eq(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor ne(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor ne(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor lt(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor lt(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor le(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor le(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor gt(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor gt(Scalar o, const Loc& loc = Loc::current()) const;
  Tensor ge(const Tensor& o, const Loc& loc = Loc::current()) const;
  Tensor ge(Scalar o, const Loc& loc = Loc::current()) const;
  // The ops whose method is generated from the op schema (neg, exp, ...,
  // maximum, softmax, ...): declared here by tools/opgen.
#include "ember/tensor_methods.inc"
  Tensor clamp(std::optional<double> min, std::optional<double> max, const Loc& loc = Loc::current()) const;

  // --- in place (bump the version counter) --------------------------------
  Tensor& add_(const Tensor& o, const Loc& loc = Loc::current());
  Tensor& add_(Scalar o, const Loc& loc = Loc::current());
  Tensor& sub_(const Tensor& o, const Loc& loc = Loc::current());
  Tensor& sub_(Scalar o, const Loc& loc = Loc::current());
  Tensor& mul_(const Tensor& o, const Loc& loc = Loc::current());
  Tensor& mul_(Scalar o, const Loc& loc = Loc::current());
  Tensor& div_(const Tensor& o, const Loc& loc = Loc::current());
  Tensor& div_(Scalar o, const Loc& loc = Loc::current());
  Tensor& copy_(const Tensor& src, const Loc& loc = Loc::current());
  Tensor& fill_(Scalar value, const Loc& loc = Loc::current());
  Tensor& zero_(const Loc& loc = Loc::current());

  // --- reductions (dims empty = all) ---------------------------------------
  Tensor sum(IntArrayRef dims = {}, bool keepdim = false, const Loc& loc = Loc::current()) const;
  // One dim. A template, so that `sum({})` (all dims) cannot pick it.
  template <std::integral I>
  Tensor sum(I dim, bool keepdim = false, const Loc& loc = Loc::current()) const {
    const int64_t d = dim;
    return sum(IntArrayRef(&d, 1), keepdim, loc);
  }
  Tensor mean(IntArrayRef dims = {}, bool keepdim = false, const Loc& loc = Loc::current()) const;
  template <std::integral I>
  Tensor mean(I dim, bool keepdim = false, const Loc& loc = Loc::current()) const {
    const int64_t d = dim;
    return mean(IntArrayRef(&d, 1), keepdim, loc);
  }
  Tensor var(IntArrayRef dims = {}, int64_t correction = 1, bool keepdim = false,
             const Loc& loc = Loc::current()) const;
  Tensor logsumexp(IntArrayRef dims, bool keepdim = false, const Loc& loc = Loc::current()) const;
  Tensor amax(IntArrayRef dims = {}, bool keepdim = false, const Loc& loc = Loc::current()) const;
  Tensor amin(IntArrayRef dims = {}, bool keepdim = false, const Loc& loc = Loc::current()) const;
  Tensor max(const Loc& loc = Loc::current()) const;  // of all elements
  Tensor min(const Loc& loc = Loc::current()) const;
  std::pair<Tensor, Tensor> max(int64_t dim, bool keepdim = false,
                                const Loc& loc = Loc::current()) const;  // values, indices
  std::pair<Tensor, Tensor> min(int64_t dim, bool keepdim = false, const Loc& loc = Loc::current()) const;
  Tensor argmax(int64_t dim, bool keepdim = false, const Loc& loc = Loc::current()) const;
  Tensor argmin(int64_t dim, bool keepdim = false, const Loc& loc = Loc::current()) const;

  // --- linear algebra and nn ------------------------------------------------
  Tensor matmul(const Tensor& o, const Loc& loc = Loc::current()) const;

 private:
  Ref<TensorImpl> impl_;
};

// Printing shows values (summarized when large), shape, dtype and grad_fn.
std::ostream& operator<<(std::ostream& out, const Tensor& t);
std::string to_string(const Tensor& t);

// --- C++ operators -----------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator+(Scalar a, const Tensor& b);
Tensor operator-(Scalar a, const Tensor& b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(Scalar a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, Scalar b);
Tensor operator!=(const Tensor& a, Scalar b);
Tensor operator<(const Tensor& a, Scalar b);
Tensor operator<=(const Tensor& a, Scalar b);
Tensor operator>(const Tensor& a, Scalar b);
Tensor operator>=(const Tensor& a, Scalar b);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator/=(Tensor& a, const Tensor& b);
Tensor& operator+=(Tensor& a, Scalar b);
Tensor& operator-=(Tensor& a, Scalar b);
Tensor& operator*=(Tensor& a, Scalar b);
Tensor& operator/=(Tensor& a, Scalar b);

// --- internal constructors used by kernels ----------------------------------
// A new contiguous tensor with uninitialized values.
Tensor make_tensor(const Shape& sizes, DType dtype);
// A view of `base`'s storage with other geometry (no checks: callers check).
Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset);

}  // namespace ember
