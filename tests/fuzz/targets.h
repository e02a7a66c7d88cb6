// targets.h - what each fuzz harness does with one input, shared by the
// libFuzzer programs (built with clang by scripts/fuzz.sh) and the normal
// suite's regression test, which replays the seed corpus and every input
// that ever crashed a harness (tests/fuzz/regressions/<target>/).
//
// A target returns whether the input was accepted (false: rejected with an
// ember::Error, which is right for a bad input); anything else (a crash, a sanitizer report, another
// exception escaping) is a bug the fuzzer reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::fuzz {

// load_safetensors on the bytes of a file.
bool safetensors(std::string_view bytes);
// load_export's checks on model.json, model.mlir and model.safetensors,
// given as one input: the three contents joined by kSplit.
bool export_files(std::string_view bytes);
// ember MLIR text as ember-compile reads it: parsed, checked (Note [Modules
// from files]), and when accepted, lowered to the LLVM dialect.
bool ember_text(std::string_view bytes);

inline constexpr std::string_view kSplit = "\n=====ember-fuzz-split=====\n";

struct Target {
  const char* name;
  bool (*run)(std::string_view);
};
const std::vector<Target>& targets();

// Seeds for each target, made by ember itself: safetensors files of several
// dtypes and shapes, exports of an MLP and a CNN, every op of the table as a
// module of its own.
std::vector<std::pair<std::string, std::string>> seeds(const std::string& target);

}  // namespace ember::fuzz
