// words.h - the English word list of Debian's wamerican package
// (/usr/share/dict/words), for character-level models over words of varying
// length.
#pragma once

#include <string>
#include <vector>

#include "ember/data/dataset.h"

namespace ember::data {

inline constexpr const char* kWordsPath = "/usr/share/dict/words";

// Lower-case words of letters a-z only, of min_len..max_len letters, in file order.
std::vector<std::string> load_words(const std::string& path = kWordsPath, int min_len = 2, int max_len = 12);

// Character vocabulary: 0 is the boundary token (start and end of a word),
// 1..26 are 'a'..'z'.
inline constexpr int64_t kBoundary = 0;
inline constexpr int64_t kVocabSize = 27;
inline int64_t char_id(char c) { return c - 'a' + 1; }
inline char id_char(int64_t id) { return static_cast<char>('a' + id - 1); }

// Next-character prediction over a batch of words. A batch of words of
// lengths L_i becomes inputs [T, B] = boundary + letters and targets [T, B] =
// letters + boundary, where T = max L_i + 1: each batch has its own length
// (the graph changes shape with every batch). Padding targets are
// kIgnoreIndex, so the loss skips them.
class WordDataset : public Dataset {
 public:
  explicit WordDataset(std::vector<std::string> words);
  int64_t size() const override { return static_cast<int64_t>(words_.size()); }
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  const std::vector<std::string>& words() const { return words_; }

 private:
  std::vector<std::string> words_;
};

}  // namespace ember::data
