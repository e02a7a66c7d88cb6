// dataset.h - datasets and the DataLoader: batching, seeded shuffling,
// drop_last.
//
//   auto train = std::make_shared<data::TensorDataset>(images, labels);
//   data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 0});
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (const data::Batch& b : loader) { ... b.data, b.target ... }
//
// Each pass over the loader is a new epoch: with shuffle on, the order of
// epoch e is a permutation drawn from (seed, e), so runs repeat exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ember/tensor.h"

namespace ember::data {

struct Batch {
  Tensor data, target;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // The examples at `indices`, collated into one batch.
  virtual Batch get_batch(const std::vector<int64_t>& indices) const = 0;
};

// Rows of `data` and `targets` (same first dim) are the examples.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor data, Tensor targets);
  int64_t size() const override { return data_.size(0); }
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  const Tensor& data() const { return data_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor data_, targets_;
};

// Rows of t at `indices`, as a new contiguous tensor (data loading, unrecorded).
Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& indices);

struct DataLoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;  // drop a last batch smaller than batch_size
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options);
  int64_t num_batches() const;
  int64_t epoch() const { return epoch_; }

  class Iterator {
   public:
    Iterator(const DataLoader* loader, std::shared_ptr<const std::vector<int64_t>> order, int64_t batch)
        : loader_(loader), order_(std::move(order)), batch_(batch) {}
    Batch operator*() const;
    Iterator& operator++() {
      ++batch_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return batch_ != o.batch_; }

   private:
    const DataLoader* loader_;
    std::shared_ptr<const std::vector<int64_t>> order_;
    int64_t batch_;
  };
  // Starts the next epoch.
  Iterator begin();
  Iterator end() const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0;
};

// A seeded split of 0..n-1 into two index lists (e.g. 80% train, 20% test).
std::pair<std::vector<int64_t>, std::vector<int64_t>> random_split(int64_t n, double first_fraction,
                                                                   uint64_t seed);

}  // namespace ember::data
