// random.h - the global random generator behind rand, randn, randint, dropout.
//
// Note [One generator, locked]
// There is one generator per process (manual_seed makes runs repeatable),
// and any thread may draw from it: every draw happens under its mutex. An
// eager kernel holds the lock for the whole tensor (a GeneratorLock), so a
// tensor's values are consecutive draws even while other threads draw;
// compiled code calls ember_random_draw, which locks once per value. Draws
// from several threads at once interleave in no fixed order, as in PyTorch.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace ember {

void manual_seed(uint64_t seed);

// One draw of each random creation op, as the eager kernels make them
// element by element (row-major); compiled code calls the same draws
// (ember_random_draw), so a compiled replay draws the numbers eager would.
enum class RandomKind : int32_t { Uniform = 0, Normal = 1, Integer = 2 };

// The generator, held: draws while the lock lives.
class GeneratorLock {
 public:
  GeneratorLock();
  double draw(RandomKind kind, bool float32, double low, double high);

 private:
  std::unique_lock<std::mutex> lock_;
  std::mt19937_64& generator_;
};

// One draw under the lock.
double random_draw(RandomKind kind, bool float32, double low, double high);

}  // namespace ember

// The C entry of random_draw that JIT-compiled code calls.
extern "C" double ember_random_draw(int32_t kind, int32_t float32, double low, double high);
