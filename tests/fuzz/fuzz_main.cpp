// fuzz_main.cpp - a libFuzzer program for one target of targets.h, chosen
// at build time (EMBER_FUZZ_TARGET: safetensors, export or ember_text).
// With EMBER_FUZZ_WRITE_SEEDS=<dir> it writes the target's seeds there and
// exits (scripts/fuzz.sh starts each campaign from them).
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "targets.h"

namespace {
const ember::fuzz::Target& target() {
  for (const auto& t : ember::fuzz::targets())
    if (std::strcmp(t.name, EMBER_FUZZ_TARGET) == 0) return t;
  __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("EMBER_FUZZ_WRITE_SEEDS")) {
    for (const auto& [name, bytes] : ember::fuzz::seeds(EMBER_FUZZ_TARGET))
      std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  target().run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
