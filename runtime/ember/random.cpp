// random.cpp - the seedable global generator; see Note [One generator, locked].
#include "ember/random.h"

#include <cmath>

namespace ember {

namespace {
struct Generator {
  std::mutex mutex;
  std::mt19937_64 engine{5489u};
};

Generator& generator() {
  static Generator* g = new Generator;  // never destroyed: threads may draw during exit
  return *g;
}

double uniform01(std::mt19937_64& g) { return double(g() >> 11) * 0x1.0p-53; }
}  // namespace

void manual_seed(uint64_t seed) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.engine.seed(seed);
}

GeneratorLock::GeneratorLock() : lock_(generator().mutex), generator_(generator().engine) {}

double GeneratorLock::draw(RandomKind kind, bool float32, double low, double high) {
  auto& g = generator_;
  switch (kind) {
    case RandomKind::Uniform:
      // float32: 24 random bits, so that every value is < 1 after rounding.
      return float32 ? double(g() >> 40) * 0x1.0p-24 : uniform01(g);
    case RandomKind::Normal: {  // Box-Muller, one pair of uniforms per value
      const double u1 = 1.0 - uniform01(g), u2 = uniform01(g);
      return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    }
    case RandomKind::Integer: {
      const auto lo = static_cast<int64_t>(low);
      const uint64_t range = static_cast<uint64_t>(static_cast<int64_t>(high) - lo);
      return double(lo + static_cast<int64_t>(g() % range));
    }
  }
  return 0;
}

double random_draw(RandomKind kind, bool float32, double low, double high) {
  return GeneratorLock().draw(kind, float32, low, high);
}

}  // namespace ember

extern "C" double ember_random_draw(int32_t kind, int32_t float32, double low, double high) {
  return ember::random_draw(static_cast<ember::RandomKind>(kind), float32 != 0, low, high);
}
