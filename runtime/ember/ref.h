// ref.h - Ref<T>: an intrusive reference-counted pointer.
//
// Tensors and storages are handed around on every op; an intrusive count in
// the object costs one atomic increment per copy and no control block, which
// keeps per-op overhead low (DESIGN.md, "Dispatch").
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace ember {

struct RefCounted {
  mutable std::atomic<int32_t> refs{0};
};

template <typename T>
class Ref {
 public:
  Ref() = default;
  Ref(T* p) : p_(p) { retain(); }  // NOLINT: adopting a raw pointer is the point
  Ref(const Ref& o) : p_(o.p_) { retain(); }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  ~Ref() { release(); }
  Ref& operator=(const Ref& o) {
    Ref(o).swap(*this);
    return *this;
  }
  Ref& operator=(Ref&& o) noexcept {
    Ref(std::move(o)).swap(*this);
    return *this;
  }
  void swap(Ref& o) noexcept { std::swap(p_, o.p_); }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  int32_t use_count() const { return p_ ? p_->refs.load(std::memory_order_relaxed) : 0; }

 private:
  void retain() {
    if (p_) p_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() {
    if (p_ && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
  }
  T* p_ = nullptr;
};

template <typename T, typename... Args>
Ref<T> make_ref(Args&&... args) {
  return Ref<T>(new T(std::forward<Args>(args)...));
}

}  // namespace ember
