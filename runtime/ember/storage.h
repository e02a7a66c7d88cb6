// storage.h - the buffer under a tensor and all of its views.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "ember/ref.h"

namespace ember {

// Note [Version counter]
// The version counter lives in the storage, so every view of a buffer (and
// `detach()`, which shares the buffer) sees one counter, as in PyTorch. In-place
// ops bump it; autograd records it when it saves a tensor, and backward
// refuses to use a saved tensor whose buffer changed since.
struct Storage : RefCounted {
  // Owns `nbytes` from the caching allocator.
  explicit Storage(size_t nbytes);
  // Borrows memory the caller owns; `on_free` (may be empty) runs when the
  // last tensor using it dies.
  Storage(void* data, size_t nbytes, std::function<void()> on_free);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data = nullptr;
  size_t nbytes = 0;
  std::atomic<uint32_t> version{0};
  // Unique over the process's life (addresses are reused): with `version`,
  // says that a buffer's contents are what they were (Note [Pre-packed
  // weights], kernels/sgemm.h).
  const uint64_t id;
  bool owned = true;
  std::function<void()> on_free;
};

}  // namespace ember
