// storage.cpp - storage lifetime through the caching allocator.
#include "ember/storage.h"

#include "ember/allocator.h"

namespace ember {

namespace {
uint64_t next_storage_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

Storage::Storage(size_t n) : data(n ? allocate(n) : nullptr), nbytes(n), id(next_storage_id()) {}

Storage::Storage(void* d, size_t n, std::function<void()> f)
    : data(d), nbytes(n), id(next_storage_id()), owned(false), on_free(std::move(f)) {}

Storage::~Storage() {
  if (owned)
    deallocate(data, nbytes);
  else if (on_free)
    on_free();
}

}  // namespace ember
