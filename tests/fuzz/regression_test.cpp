// regression_test.cpp - the fuzz targets in the normal suite: every seed,
// and every input that ever crashed a harness (tests/fuzz/regressions/),
// runs through its target without crashing (accepted, or rejected with an
// ember::Error).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "targets.h"

namespace ember::fuzz {
namespace {

namespace fs = std::filesystem;

class FuzzTarget : public ::testing::TestWithParam<Target> {};

}  // namespace

void PrintTo(const Target& t, std::ostream* os) { *os << t.name; }

namespace {

TEST_P(FuzzTarget, SeedsAreAcceptedAndTheirTruncationsRejected) {
  const auto seeds = fuzz::seeds(GetParam().name);
  ASSERT_FALSE(seeds.empty());
  for (const auto& [name, bytes] : seeds) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(GetParam().run(bytes)) << "a seed the fuzzer starts from must be valid input";
    // Cut anywhere, a seed is a truncated file: still no crash.
    for (size_t cut : {size_t{0}, size_t{7}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 3}) {
      if (cut >= bytes.size()) continue;
      EXPECT_FALSE(GetParam().run(std::string_view(bytes).substr(0, cut))) << "cut at " << cut;
    }
  }
}

TEST_P(FuzzTarget, EveryInputThatCrashedOnceRunsThrough) {
  const fs::path dir = fs::path(EMBER_FUZZ_REGRESSIONS) / GetParam().name;
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == ".gitkeep") continue;
    SCOPED_TRACE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    GetParam().run(bytes.str());
    ++count;
  }
  RecordProperty("regressions", count);
}

INSTANTIATE_TEST_SUITE_P(All, FuzzTarget, ::testing::ValuesIn(targets()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ember::fuzz
