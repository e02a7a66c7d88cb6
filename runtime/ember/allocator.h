// allocator.h - the caching allocator behind every tensor's storage.
//
// Note [Caching allocator]
// glibc returns large freed blocks to the kernel (mmap/munmap), so an op chain
// over 16 MiB tensors page-faults its output buffers back in on every op:
// 8,000-12,000 faults per ew_chain iteration made ember twice PyTorch's time
// when it was first measured (an early session, which did not record the
// CPU). Freed blocks are therefore kept, by size class, for the next
// allocation of that class; `empty_cache()` gives them back.
// Size classes are the powers of two and three quarter-steps between them,
// so a block wastes at most 25%.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ember {

inline constexpr size_t kAlignment = 64;

// 64-byte aligned; never null: a request above the machine's physical
// memory, or one the system refuses, throws ResourceError.
void* allocate(size_t nbytes);
void deallocate(void* p, size_t nbytes);  // nbytes as given to allocate

struct MemoryStats {
  int64_t allocated_bytes;       // in live tensors (by size class)
  int64_t peak_allocated_bytes;  // since the last reset_peak_memory_stats()
  int64_t cached_bytes;          // freed, kept for reuse
  int64_t cache_hits, cache_misses;
};
MemoryStats memory_stats();
void reset_peak_memory_stats();
void empty_cache();  // frees every cached block

// Bytes of physical memory: no tensor may be larger.
size_t physical_memory_bytes();
// "1.50 GiB"
std::string format_bytes(double bytes);

}  // namespace ember
