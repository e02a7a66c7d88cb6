// sampler.h - each rank's shard of a dataset, as PyTorch's DistributedSampler.
//
//   distributed::DistributedSampler sampler(dataset->size(), {.shuffle = true, .seed = 0});
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     sampler.set_epoch(epoch);  // a new order, the same on every rank
//     data::DataLoader loader(sampler.shard(dataset), {.batch_size = 64});
//     ...
//   }
//
// Every rank draws the same permutation of [0, N) from (seed, epoch) and
// takes every world_size-th index starting at its rank, so the shards are
// disjoint and together cover the data set. Shards have equal sizes (every
// rank must run the same number of steps, or the all-reduces would not
// pair up): by default the order is padded with its own first indices up to
// a multiple of world_size (a few examples seen twice per epoch); with
// drop_last the tail that does not divide is dropped instead.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ember/data/dataset.h"
#include "ember/distributed/distributed.h"

namespace ember::distributed {

struct DistributedSamplerOptions {
  int num_replicas = -1;  // -1: world_size()
  int rank = -1;          // -1: rank()
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_last = false;
};

class DistributedSampler {
 public:
  explicit DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options = {},
                              const Loc& loc = Loc::current());
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }
  // This rank's indices for the current epoch.
  std::vector<int64_t> indices() const;
  // Examples per rank (the same on every rank).
  int64_t size() const { return per_rank_; }
  // This rank's examples of `dataset` for the current epoch, in order.
  std::shared_ptr<const data::Dataset> shard(std::shared_ptr<const data::Dataset> dataset) const;

 private:
  int64_t dataset_size_, per_rank_;
  int replicas_, rank_;
  DistributedSamplerOptions options_;
  int64_t epoch_ = 0;
};

}  // namespace ember::distributed
