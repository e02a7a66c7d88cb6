// words.cpp - reading the word list and padding batches of words.
#include "ember/data/words.h"

#include <algorithm>
#include <fstream>

#include "ember/ops.h"

namespace ember::data {

std::vector<std::string> load_words(const std::string& path, int min_len, int max_len) {
  std::ifstream in(path);
  EMBER_CHECK(in.good(), Loc::current(), "load_words: cannot open ", path,
              " (on Debian it comes with the wamerican package: scripts/setup.sh installs it)");
  std::vector<std::string> words;
  std::string w;
  while (std::getline(in, w)) {
    if (static_cast<int>(w.size()) < min_len || static_cast<int>(w.size()) > max_len) continue;
    if (std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; })) words.push_back(w);
  }
  EMBER_CHECK(!words.empty(), Loc::current(), "load_words: ", path, " has no words of ", min_len, "..",
              max_len, " lower-case letters");
  return words;
}

WordDataset::WordDataset(std::vector<std::string> words) : words_(std::move(words)) {
  for (const auto& w : words_)
    EMBER_CHECK(!w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }),
                Loc::current(), "WordDataset: '", w, "' is not a word of letters a-z");
}

Batch WordDataset::get_batch(const std::vector<int64_t>& indices) const {
  size_t longest = 0;
  for (int64_t i : indices) longest = std::max(longest, words_.at(i).size());
  const int64_t t = static_cast<int64_t>(longest) + 1, b = static_cast<int64_t>(indices.size());
  std::vector<int64_t> inputs(t * b, kBoundary), targets(t * b, kIgnoreIndex);
  for (int64_t j = 0; j < b; ++j) {
    const std::string& w = words_[indices[j]];
    for (size_t k = 0; k <= w.size(); ++k) {
      if (k > 0) inputs[k * b + j] = char_id(w[k - 1]);
      targets[k * b + j] = k < w.size() ? char_id(w[k]) : kBoundary;
    }
  }
  return {tensor(inputs, {t, b}), tensor(targets, {t, b})};
}

}  // namespace ember::data
