// allocator.cpp - size-classed free lists; see Note [Caching allocator].
#include "ember/allocator.h"

#include <unistd.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "ember/error.h"

namespace ember {
namespace {

// Class index of a size: 4 classes per power of two (1, 1.25, 1.5, 1.75).
constexpr int kClassesPerOctave = 4;
constexpr int kNumClasses = 64 * kClassesPerOctave;

size_t class_size(int c) {
  const int octave = c / kClassesPerOctave, step = c % kClassesPerOctave;
  const size_t base = size_t{1} << octave;
  return base + (base / kClassesPerOctave) * step;
}

int size_class(size_t nbytes) {
  if (nbytes < kAlignment) nbytes = kAlignment;
  const int octave = std::bit_width(nbytes) - 1;
  const size_t base = size_t{1} << octave;
  const size_t quarter = base / kClassesPerOctave;
  int step = static_cast<int>((nbytes - base + quarter - 1) / quarter);
  int c = octave * kClassesPerOctave + step;
  return c;  // step may be kClassesPerOctave, which is the next octave's base
}

struct Cache {
  std::mutex mutex;
  std::vector<void*> free_blocks[kNumClasses];
  int64_t allocated = 0, peak = 0, cached = 0, hits = 0, misses = 0;
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: tensors may die after main
  return *c;
}

}  // namespace

size_t physical_memory_bytes() {
  static const size_t bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : SIZE_MAX;
  }();
  return bytes;
}

std::string format_bytes(double bytes) {
  static const char* const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
  return text;
}

void* allocate(size_t nbytes) {
  // Above physical memory the kernel may still hand out address space
  // (overcommit) and kill the process when it is touched: refuse up front.
  if (nbytes > physical_memory_bytes())
    throw ResourceError("cannot allocate " + format_bytes(double(nbytes)) + ", more than the machine's " +
                        format_bytes(double(physical_memory_bytes())) + " of memory");
  const int c = size_class(nbytes);
  const size_t size = class_size(c);
  Cache& k = cache();
  {
    std::lock_guard<std::mutex> lock(k.mutex);
    k.allocated += size;
    if (k.allocated > k.peak) k.peak = k.allocated;
    auto& list = k.free_blocks[c];
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      k.cached -= size;
      ++k.hits;
      return p;
    }
    ++k.misses;
  }
  const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) {  // the cache holds memory the system may need back: return it, try once more
    empty_cache();
    p = std::aligned_alloc(kAlignment, rounded);
  }
  if (!p) {
    int64_t live;
    {
      std::lock_guard<std::mutex> lock(k.mutex);
      k.allocated -= size;
      live = k.allocated;
    }
    throw ResourceError("out of memory allocating " + format_bytes(double(size)) + " (" +
                        format_bytes(double(live)) + " in live tensors)");
  }
  return p;
}

void deallocate(void* p, size_t nbytes) {
  if (!p) return;
  const int c = size_class(nbytes);
  const size_t size = class_size(c);
  Cache& k = cache();
  std::lock_guard<std::mutex> lock(k.mutex);
  k.allocated -= size;
  k.cached += size;
  k.free_blocks[c].push_back(p);
}

MemoryStats memory_stats() {
  Cache& k = cache();
  std::lock_guard<std::mutex> lock(k.mutex);
  return {k.allocated, k.peak, k.cached, k.hits, k.misses};
}

void reset_peak_memory_stats() {
  Cache& k = cache();
  std::lock_guard<std::mutex> lock(k.mutex);
  k.peak = k.allocated;
}

void empty_cache() {
  Cache& k = cache();
  std::lock_guard<std::mutex> lock(k.mutex);
  for (auto& list : k.free_blocks) {
    for (void* p : list) std::free(p);
    list.clear();
  }
  k.cached = 0;
}

}  // namespace ember
