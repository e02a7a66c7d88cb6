// tensor.cpp - TensorImpl, tensor metadata, data access and autograd methods.
#include "ember/tensor.h"

#include <atomic>
#include <cstring>

#include "ember/allocator.h"
#include "ember/autograd/node.h"
#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/kernels/common.h"

namespace ember {

void run_backward(const Tensor& root, const Tensor& root_grad, bool retain_graph, bool create_graph,
                  const Loc& loc);

namespace {
std::atomic<uint64_t> g_tensor_serial{0};
}

uint64_t next_tensor_serial() { return g_tensor_serial.load(std::memory_order_relaxed); }

namespace {
// The element count of `sizes`, or a ResourceError when it overflows int64
// (randn({1 << 40, 1 << 40}), a hostile file's shape, a huge expand).
int64_t checked_numel(const Shape& sizes, DType dtype) {
  int64_t n = 1;
  bool zero = false, overflow = false;
  for (int64_t d : sizes) {
    zero = zero || d == 0;
    overflow = overflow || __builtin_mul_overflow(n, d, &n);
  }
  if (zero) return 0;
  if (overflow) [[unlikely]]
    throw ResourceError(std::string("a ") + dtype_name(dtype) + to_string(sizes) +
                        " tensor has more elements than an int64 can count");
  return n;
}
}  // namespace

TensorImpl::TensorImpl(Ref<Storage> s, const Shape& sz, const Shape& st, int64_t off, DType dt)
    : storage(std::move(s)),
      sizes(sz),
      strides(st),
      offset(off),
      numel(checked_numel(sz, dt)),
      dtype(dt),
      serial(g_tensor_serial.fetch_add(1, std::memory_order_relaxed)) {
  refresh_contiguous();
}

TensorImpl::~TensorImpl() = default;

void TensorImpl::refresh_contiguous() {
  int64_t expected = 1;
  contiguous = true;
  for (int64_t i = sizes.ndim() - 1; i >= 0; --i) {
    if (sizes[i] == 1) continue;
    if (strides[i] != expected) {
      contiguous = false;
      return;
    }
    expected *= sizes[i];
  }
}

Tensor make_tensor(const Shape& sizes, DType dtype) {
  for (int64_t d : sizes)
    if (d < 0) [[unlikely]]
      throw ResourceError("a negative size in shape " + to_string(sizes));
  const int64_t numel = checked_numel(sizes, dtype);
  size_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(numel), itemsize(dtype), &nbytes) ||
      nbytes > physical_memory_bytes()) [[unlikely]]
    throw ResourceError(std::string("a ") + dtype_name(dtype) + to_string(sizes) + " tensor needs " +
                        format_bytes(double(numel) * double(itemsize(dtype))) + ", more than the machine's " +
                        format_bytes(double(physical_memory_bytes())) + " of memory");
  auto storage = make_ref<Storage>(nbytes);
  return Tensor(make_ref<TensorImpl>(std::move(storage), sizes, contiguous_strides(sizes), 0, dtype));
}

Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset) {
  return Tensor(make_ref<TensorImpl>(base.impl()->storage, sizes, strides, offset, base.dtype()));
}

int64_t Tensor::size(int64_t d, const Loc& loc) const {
  return impl_->sizes[wrap_dim(d, dim(), "size", loc)];
}

int64_t Tensor::stride(int64_t d, const Loc& loc) const {
  return impl_->strides[wrap_dim(d, dim(), "stride", loc)];
}

template <typename T>
T Tensor::item(const Loc& loc) const {
  EMBER_CHECK(defined(), loc, "item: the tensor is undefined");
  EMBER_CHECK(numel() == 1, loc, "item: only a tensor with one element has an item; this one has shape ",
              sizes(), " (", numel(), " elements)");
  if (observed()) notify_data_read(*this, loc);
  return visit_dtype(dtype(), [&](auto tag) {
    using S = decltype(tag);
    return static_cast<T>(*static_cast<const S*>(data_ptr()));
  });
}

template <typename T>
std::vector<T> Tensor::to_vector(const Loc& loc) const {
  EMBER_CHECK(defined(), loc, "to_vector: the tensor is undefined");
  if (observed()) notify_data_read(*this, loc);
  Tensor c = kernels::contiguous(kernels::cast_if_needed(*this, dtype_of<T>::value));
  const T* p = static_cast<const T*>(c.data_ptr());
  return std::vector<T>(p, p + numel());
}

#define EMBER_INSTANTIATE(T)                    \
  template T Tensor::item<T>(const Loc&) const; \
  template std::vector<T> Tensor::to_vector<T>(const Loc&) const;
EMBER_INSTANTIATE(bool)
EMBER_INSTANTIATE(int32_t)
EMBER_INSTANTIATE(int64_t)
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

// --- autograd -----------------------------------------------------------------

bool Tensor::requires_grad() const {
  const auto* m = impl_->autograd.get();
  return m && m->requires_grad;
}

Tensor& Tensor::requires_grad_(bool requires_grad, const Loc& loc) {
  EMBER_CHECK(!requires_grad || is_floating(dtype()), loc,
              "requires_grad_: only floating-point tensors can require gradients, not ", dtype_name(dtype()));
  EMBER_CHECK(requires_grad || is_leaf(), loc,
              "requires_grad_: cannot turn off requires_grad of a non-leaf tensor; use detach()");
  autograd::meta(*this).requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const {
  const auto* m = impl_->autograd.get();
  return m ? m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& grad, const Loc& loc) {
  EMBER_CHECK(!grad.defined() || grad.sizes() == sizes(), loc, "set_grad: gradient of shape ",
              grad.defined() ? grad.sizes() : Shape(), " does not match the tensor's shape ", sizes());
  autograd::meta(*this).grad = grad;
  if (observed()) notify_grad_set(*this, grad);
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  const auto* m = impl_->autograd.get();
  return m ? m->grad_fn : nullptr;
}

uint32_t Tensor::output_nr() const {
  const auto* m = impl_->autograd.get();
  return m ? m->output_nr : 0;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph, const Loc& loc) const {
  EMBER_CHECK(defined(), loc, "backward: the tensor is undefined");
  EMBER_CHECK(requires_grad(), loc, "backward: the tensor (shape ", sizes(),
              ") does not require grad and has no grad_fn; call requires_grad_() on an input first");
  Tensor g = gradient;
  if (!g.defined()) {
    EMBER_CHECK(numel() == 1, loc,
                "backward: a gradient can be created implicitly only for a "
                "one-element output; this one has shape ",
                sizes(), ": pass a gradient");
    g = ones(sizes(), dtype(), loc);
  }
  EMBER_CHECK(g.sizes() == sizes(), loc, "backward: the gradient has shape ", g.sizes(),
              " but the tensor has shape ", sizes());
  run_backward(*this, g, retain_graph || create_graph, create_graph, loc);
}

void Tensor::register_hook(TensorHook hook, const Loc& loc) const {
  EMBER_CHECK(requires_grad(), loc,
              "register_hook: the tensor does not require grad, so no "
              "gradient will reach the hook");
  auto& m = autograd::meta(*this);
  if (!m.grad_fn) {
    m.leaf_hooks.push_back(std::move(hook));
    return;
  }
  auto& hooks = m.grad_fn->output_hooks;
  if (hooks.size() <= m.output_nr) hooks.resize(m.output_nr + 1);
  hooks[m.output_nr].push_back(std::move(hook));
}

void Tensor::register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook,
                                                const Loc& loc) const {
  EMBER_CHECK(requires_grad() && is_leaf(), loc,
              "register_post_accumulate_grad_hook: the tensor must be a leaf that requires grad (its .grad "
              "is what the hook sees)");
  autograd::meta(*this).post_accumulate_hooks.push_back(std::move(hook));
}

void Tensor::set_data(const Tensor& data, const Loc& loc) {
  EMBER_CHECK(defined() && data.defined(), loc, "set_data: both tensors must be defined");
  EMBER_CHECK(!requires_grad() || is_floating(data.dtype()), loc,
              "set_data: a tensor that requires grad needs floating-point data, not ",
              dtype_name(data.dtype()));
  TensorImpl& self = *impl_;
  const TensorImpl& other = *data.impl();
  self.storage = other.storage;
  self.sizes = other.sizes;
  self.strides = other.strides;
  self.offset = other.offset;
  self.numel = other.numel;
  self.contiguous = other.contiguous;
  if (self.dtype != other.dtype && self.autograd) self.autograd->grad = Tensor();
  self.dtype = other.dtype;
}

void Tensor::set_name(const std::string& name) const { impl_->name = std::make_unique<std::string>(name); }

Tensor Tensor::detach() const { return make_view(*this, sizes(), strides(), storage_offset()); }

}  // namespace ember
