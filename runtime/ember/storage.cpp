// storage.cpp - storage lifetime through the caching allocator.
#include "ember/storage.h"

#include "ember/allocator.h"

namespace ember {

Storage::Storage(size_t n) : data(n ? allocate(n) : nullptr), nbytes(n) {}

Storage::Storage(void* d, size_t n, std::function<void()> f)
    : data(d), nbytes(n), owned(false), on_free(std::move(f)) {}

Storage::~Storage() {
  if (owned) deallocate(data, nbytes);
  else if (on_free) on_free();
}

}  // namespace ember
