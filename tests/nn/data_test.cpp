// data_test.cpp - DataLoader batching and seeded shuffling, and the two real
// data sets (digits from python3-sklearn, words from wamerican).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "ember/ember.h"

namespace ember::data {
namespace {

std::vector<int64_t> targets_of(DataLoader& loader) {
  std::vector<int64_t> out;
  for (const Batch& b : loader)
    for (int64_t v : b.target.to_vector<int64_t>()) out.push_back(v);
  return out;
}

TEST(Data, BatchesInOrderWithAndWithoutDropLast) {
  auto ds = std::make_shared<TensorDataset>(arange(0.0, 20.0, 1.0).view({10, 2}), arange(10));
  DataLoader loader(ds, {.batch_size = 4});
  EXPECT_EQ(loader.num_batches(), 3);
  std::vector<int64_t> sizes;
  for (const Batch& b : loader) {
    sizes.push_back(b.data.size(0));
    EXPECT_EQ(b.data.size(1), 2);
    EXPECT_EQ(b.data.to_vector<int64_t>()[0], 2 * b.target.to_vector<int64_t>()[0]) << "rows stay paired";
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  DataLoader dropping(ds, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(dropping.num_batches(), 2);
  EXPECT_EQ(targets_of(dropping), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(Data, ShufflingIsSeededAndChangesEachEpoch) {
  auto ds = std::make_shared<TensorDataset>(zeros({50, 1}), arange(50));
  DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 3}),
      b(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader c(ds, {.batch_size = 8, .shuffle = true, .seed = 4});
  const auto a1 = targets_of(a), b1 = targets_of(b), c1 = targets_of(c), a2 = targets_of(a);
  EXPECT_EQ(a1, b1) << "same seed, same order";
  EXPECT_NE(a1, c1) << "another seed, another order";
  EXPECT_NE(a1, a2) << "each epoch reshuffles";
  std::vector<int64_t> sorted = a2;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, arange(50).to_vector<int64_t>()) << "an epoch visits every example once";
  EXPECT_THROW(DataLoader(ds, {.batch_size = 0}), Error);
  EXPECT_THROW(TensorDataset(zeros({3, 2}), zeros({4})), Error);
}

TEST(Data, RandomSplitPartitions) {
  auto [train, test] = random_split(100, 0.8, 1);
  EXPECT_EQ(train.size(), 80u);
  EXPECT_EQ(test.size(), 20u);
  std::set<int64_t> all(train.begin(), train.end());
  all.insert(test.begin(), test.end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(random_split(100, 0.8, 1).first, train);
}

TEST(Data, DigitsFromTheDebianPackage) {
  const Digits d = load_digits();
  EXPECT_EQ(d.images.sizes(), (Shape{1797, 64}));
  EXPECT_EQ(d.labels.sizes(), (Shape{1797}));
  EXPECT_EQ(d.labels.dtype(), DType::Int64);
  EXPECT_EQ(d.images.min().item<float>(), 0.0f);
  EXPECT_EQ(d.images.max().item<float>(), 1.0f);
  std::vector<int64_t> counts(10, 0);
  for (int64_t l : d.labels.to_vector<int64_t>()) ++counts.at(l);
  for (int64_t c : counts) EXPECT_NEAR(c, 180, 10);
}

TEST(Data, MalformedDigitsFilesAreClearErrors) {
  const std::string path = ::testing::TempDir() + "bad_digits.csv";
  std::ofstream(path) << "0,1,2\n";
  try {
    load_digits(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 1: expected 65 values"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_digits("/nonexistent/digits.csv.gz"), Error);
  std::remove(path.c_str());
}

TEST(Data, WordsFromTheDebianPackage) {
  const auto words = load_words();
  EXPECT_GT(words.size(), 20000u);
  for (const auto& w : words) {
    ASSERT_GE(w.size(), 2u);
    ASSERT_LE(w.size(), 12u);
    ASSERT_TRUE(std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; })) << w;
  }
}

TEST(Data, WordBatchesArePaddedToTheirLongestWord) {
  WordDataset ds({"ab", "hello", "xyz"});
  const Batch b = ds.get_batch({0, 2});  // lengths 2 and 3: T = 4
  EXPECT_EQ(b.data.sizes(), (Shape{4, 2}));
  EXPECT_EQ(b.data.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, char_id('a'), char_id('x'), char_id('b'),
                                                               char_id('y'), 0, char_id('z')}));
  EXPECT_EQ(b.target.to_vector<int64_t>(),
            (std::vector<int64_t>{char_id('a'), char_id('x'), char_id('b'), char_id('y'), kBoundary,
                                  char_id('z'), kIgnoreIndex, kBoundary}));
  EXPECT_EQ(ds.get_batch({1}).data.size(0), 6) << "another batch, another length";
  EXPECT_THROW(WordDataset({"Hello"}), Error);
}

}  // namespace
}  // namespace ember::data
