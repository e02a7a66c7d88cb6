// random.cpp - the seedable global generator.
#include "ember/random.h"

namespace ember {

std::mt19937_64& global_generator() {
  static std::mt19937_64 gen(5489u);
  return gen;
}

void manual_seed(uint64_t seed) { global_generator().seed(seed); }

}  // namespace ember
