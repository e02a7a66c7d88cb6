// random.h - the global random generator behind rand, randn, randint, dropout.
#pragma once

#include <cstdint>
#include <random>

namespace ember {

void manual_seed(uint64_t seed);
// The generator itself, for kernels; not thread-safe (ember draws on one thread).
std::mt19937_64& global_generator();

// One draw of each random creation op from the global generator, as the
// eager kernels make them element by element (row-major); compiled code
// calls the same draws (ember_random_draw), so a compiled replay draws the
// numbers eager would.
enum class RandomKind : int32_t { Uniform = 0, Normal = 1, Integer = 2 };
double random_draw(RandomKind kind, bool float32, double low, double high);

}  // namespace ember

// The C entry of random_draw that JIT-compiled code calls.
extern "C" double ember_random_draw(int32_t kind, int32_t float32, double low, double high);
