// sampler.cpp - see sampler.h.
#include "ember/distributed/sampler.h"

#include <numeric>
#include <random>

namespace ember::distributed {
namespace {

// The examples of `base` at `indices`, in that order.
class Shard : public data::Dataset {
 public:
  Shard(std::shared_ptr<const data::Dataset> base, std::vector<int64_t> indices)
      : base_(std::move(base)), indices_(std::move(indices)) {}
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  data::Batch get_batch(const std::vector<int64_t>& which) const override {
    std::vector<int64_t> rows;
    rows.reserve(which.size());
    for (int64_t i : which) rows.push_back(indices_.at(static_cast<size_t>(i)));
    return base_->get_batch(rows);
  }

 private:
  std::shared_ptr<const data::Dataset> base_;
  std::vector<int64_t> indices_;
};

}  // namespace

DistributedSampler::DistributedSampler(int64_t dataset_size, DistributedSamplerOptions options,
                                       const Loc& loc)
    : dataset_size_(dataset_size), options_(options) {
  replicas_ = options.num_replicas < 0 ? world_size() : options.num_replicas;
  rank_ = options.rank < 0 ? rank() : options.rank;
  EMBER_CHECK(dataset_size >= 0, loc, "DistributedSampler: dataset size ", dataset_size, " is negative");
  EMBER_CHECK(replicas_ >= 1 && rank_ >= 0 && rank_ < replicas_, loc, "DistributedSampler: rank ", rank_,
              " is not in a world of ", replicas_);
  per_rank_ = options.drop_last ? dataset_size / replicas_ : (dataset_size + replicas_ - 1) / replicas_;
  EMBER_CHECK(!options.drop_last || per_rank_ > 0 || dataset_size == 0, loc,
              "DistributedSampler: ", dataset_size, " examples over ", replicas_,
              " ranks with drop_last leave every rank none");
}

std::vector<int64_t> DistributedSampler::indices() const {
  std::vector<int64_t> order(static_cast<size_t>(dataset_size_));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (options_.shuffle) {
    // Fisher-Yates with a generator of its own: the same on every rank,
    // whatever else each rank has drawn from ember's generator.
    std::mt19937_64 generator(options_.seed * 1000003u + static_cast<uint64_t>(epoch_));
    for (size_t i = order.size(); i > 1; --i) {
      std::uniform_int_distribution<size_t> pick(0, i - 1);
      std::swap(order[i - 1], order[pick(generator)]);
    }
  }
  const size_t total = static_cast<size_t>(per_rank_ * replicas_);
  for (size_t i = 0; order.size() < total; ++i)
    order.push_back(order[i % static_cast<size_t>(dataset_size_)]);
  order.resize(total);
  std::vector<int64_t> mine;
  mine.reserve(static_cast<size_t>(per_rank_));
  for (size_t i = static_cast<size_t>(rank_); i < total; i += static_cast<size_t>(replicas_))
    mine.push_back(order[i]);
  return mine;
}

std::shared_ptr<const data::Dataset> DistributedSampler::shard(
    std::shared_ptr<const data::Dataset> dataset) const {
  return std::make_shared<Shard>(std::move(dataset), indices());
}

}  // namespace ember::distributed
