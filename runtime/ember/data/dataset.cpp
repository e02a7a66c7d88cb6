// dataset.cpp - TensorDataset, row gathering, the DataLoader's order.
#include "ember/data/dataset.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

#include "ember/ops.h"

namespace ember::data {

TensorDataset::TensorDataset(Tensor data, Tensor targets)
    : data_(std::move(data).contiguous()), targets_(std::move(targets).contiguous()) {
  EMBER_CHECK(data_.dim() >= 1 && targets_.dim() >= 1 && data_.size(0) == targets_.size(0), Loc::current(),
              "TensorDataset: data ", data_.sizes(), " and targets ", targets_.sizes(),
              " must have the same number of rows");
}

Batch TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  return {gather_rows(data_, indices), gather_rows(targets_, indices)};
}

Tensor gather_rows(const Tensor& t0, const std::vector<int64_t>& indices) {
  const Tensor t = t0.contiguous();
  Shape shape = t.sizes();
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out = empty(shape, t.dtype());
  const size_t row_bytes = static_cast<size_t>(t.numel() / std::max<int64_t>(t.size(0), 1)) * t.itemsize();
  const char* src = static_cast<const char*>(t.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  for (size_t i = 0; i < indices.size(); ++i) {
    EMBER_CHECK(indices[i] >= 0 && indices[i] < t.size(0), Loc::current(), "gather_rows: index ", indices[i],
                " is out of range for ", t.size(0), " rows");
    std::memcpy(dst + i * row_bytes, src + indices[i] * row_bytes, row_bytes);
  }
  return out;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  EMBER_CHECK(dataset_ != nullptr, Loc::current(), "DataLoader: the dataset is null");
  EMBER_CHECK(options_.batch_size > 0, Loc::current(), "DataLoader: batch_size must be positive, got ",
              options_.batch_size);
}

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::Iterator DataLoader::begin() {
  auto order = std::make_shared<std::vector<int64_t>>(dataset_->size());
  std::iota(order->begin(), order->end(), 0);
  if (options_.shuffle) {
    std::mt19937_64 gen(options_.seed * 1000003 + static_cast<uint64_t>(epoch_));
    // Fisher-Yates with our own draws: the same order on every standard library.
    for (int64_t i = static_cast<int64_t>(order->size()) - 1; i > 0; --i)
      std::swap((*order)[i], (*order)[gen() % static_cast<uint64_t>(i + 1)]);
  }
  ++epoch_;
  return Iterator(this, std::move(order), 0);
}

DataLoader::Iterator DataLoader::end() const { return Iterator(this, nullptr, num_batches()); }

Batch DataLoader::Iterator::operator*() const {
  const int64_t b = loader_->options_.batch_size;
  const int64_t start = batch_ * b;
  const int64_t stop = std::min<int64_t>(start + b, static_cast<int64_t>(order_->size()));
  return loader_->dataset_->get_batch(std::vector<int64_t>(order_->begin() + start, order_->begin() + stop));
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> random_split(int64_t n, double fraction,
                                                                   uint64_t seed) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 gen(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen() % static_cast<uint64_t>(i + 1)]);
  const int64_t k = static_cast<int64_t>(std::llround(double(n) * fraction));
  return {std::vector<int64_t>(order.begin(), order.begin() + k),
          std::vector<int64_t>(order.begin() + k, order.end())};
}

}  // namespace ember::data
