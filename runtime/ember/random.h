// random.h - the global random generator behind rand, randn, randint, dropout.
#pragma once

#include <cstdint>
#include <random>

namespace ember {

void manual_seed(uint64_t seed);
// The generator itself, for kernels; not thread-safe (ember draws on one thread).
std::mt19937_64& global_generator();

}  // namespace ember
