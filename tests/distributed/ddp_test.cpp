// ddp_test.cpp - DistributedDataParallel on the ranks mpirun started: the
// same parameters as one process training on the combined batch, with
// buckets of uneven sizes, gradient accumulation under no_sync(), unused
// parameters; and the DistributedSampler's shards.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "ember/distributed/ddp.h"
#include "ember/distributed/sampler.h"
#include "ember/ember.h"
#include "models.h"

namespace ember::distributed {
namespace {

// A copy of `from` with its current weights (the single-process reference).
std::shared_ptr<nn::Sequential> copy_of(const nn::Module& from) {
  auto to = mlp();
  NoGradGuard no_grad;
  auto a = from.parameters(), b = to->parameters();
  for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  return to;
}

void expect_close(const std::vector<Tensor>& got, const std::vector<Tensor>& want, double tolerance,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const auto g = got[i].to_vector<double>(), w = want[i].to_vector<double>();
    ASSERT_EQ(g.size(), w.size());
    for (size_t k = 0; k < g.size(); ++k)
      ASSERT_NEAR(g[k], w[k], tolerance) << what << ", parameter " << i << " element " << k;
  }
}

std::vector<Tensor> grads_of(const nn::Module& m) {
  std::vector<Tensor> out;
  for (const Tensor& p : m.parameters()) out.push_back(p.grad());
  return out;
}

TEST(DistributedDataParallel, TwentyStepsEqualOneProcessOnTheCombinedBatch) {
  manual_seed(1000 + static_cast<uint64_t>(rank()));  // different weights on every rank...
  auto ddp = std::make_shared<nn::DistributedDataParallel>(
      mlp(), nn::DistributedDataParallelOptions{.bucket_cap_mb = 0.0002});  // ~52 floats
  auto reference = copy_of(*ddp->module());                                 // ...until DDP broadcast rank 0's
  const Tensor first = ddp->parameters()[0].clone();
  const Tensor all_first = all_gather(first);
  for (int64_t r = 1; r < world_size(); ++r)
    EXPECT_EQ(all_first.select(0, r).to_vector<double>(), all_first.select(0, 0).to_vector<double>());
  // Buckets: in reverse order of registration, uneven, each parameter once.
  const auto layout = ddp->bucket_layout();
  ASSERT_GE(layout.size(), 3u) << "a cap of ~52 floats splits the 180-float model";
  std::vector<int64_t> order;
  for (const auto& b : layout) order.insert(order.end(), b.begin(), b.end());
  EXPECT_EQ(order, (std::vector<int64_t>{3, 2, 1, 0}));
  optim::SGD opt(ddp->parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::SGD ref_opt(reference->parameters(), {.lr = 0.1, .momentum = 0.9});
  manual_seed(7);  // the same global batches on every rank
  for (int step = 0; step < 20; ++step) {
    const Tensor x = randn({kLocalBatch * world_size(), 6}), y = randint(0, 4, {kLocalBatch * world_size()});
    opt.zero_grad();
    nn::cross_entropy((*ddp)(my_rows(x)), my_rows(y)).backward();
    opt.step();
    ref_opt.zero_grad();
    nn::cross_entropy((*reference)(x), y).backward();
    ref_opt.step();
  }
  expect_close(ddp->parameters(), reference->parameters(), 1e-5, "after 20 steps");
  EXPECT_EQ(ddp->stats().backwards, 20);
  EXPECT_EQ(ddp->stats().all_reduces, 20 * static_cast<int64_t>(layout.size()));
}

TEST(DistributedDataParallel, NoSyncAccumulationEqualsOneBigBatch) {
  manual_seed(3);
  auto ddp = std::make_shared<nn::DistributedDataParallel>(mlp());
  auto reference = copy_of(*ddp->module());
  const Tensor x1 = randn({kLocalBatch * world_size(), 6}), y1 = randint(0, 4, {kLocalBatch * world_size()});
  const Tensor x2 = randn({kLocalBatch * world_size(), 6}), y2 = randint(0, 4, {kLocalBatch * world_size()});
  ddp->zero_grad();
  {
    auto guard = ddp->no_sync();
    nn::cross_entropy((*ddp)(my_rows(x1)), my_rows(y1)).backward();  // local only
  }
  EXPECT_EQ(ddp->stats().all_reduces, 0);
  nn::cross_entropy((*ddp)(my_rows(x2)), my_rows(y2)).backward();  // averages both micro-batches
  reference->zero_grad();
  nn::cross_entropy((*reference)(x1), y1).backward();
  nn::cross_entropy((*reference)(x2), y2).backward();
  expect_close(grads_of(*ddp), grads_of(*reference), 1e-6, "accumulated gradients");
}

// A model whose second head is used on no rank.
class TwoHeads : public nn::Layer {
 public:
  TwoHeads() : Layer("TwoHeads") {
    used = register_module("used", std::make_shared<nn::Linear>(3, 2));
    unused = register_module("unused", std::make_shared<nn::Linear>(3, 2));
  }
  Tensor forward(const Tensor& x) override { return (*used)(x); }
  std::shared_ptr<nn::Linear> used, unused;
};

TEST(DistributedDataParallel, ParametersWithoutGradientsAreAnErrorUnlessAllowed) {
  manual_seed(5);
  const Tensor x = randn({2, 3});
  auto strict = std::make_shared<nn::DistributedDataParallel>(std::make_shared<TwoHeads>());
  try {
    (*strict)(x).sum().backward();
    FAIL() << "unused parameters were accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("parameters received no gradient in this backward: module.unused.weight, "
                     "module.unused.bias"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("find_unused_parameters"), std::string::npos) << m;
  }
  auto lenient = std::make_shared<nn::DistributedDataParallel>(
      std::make_shared<TwoHeads>(), nn::DistributedDataParallelOptions{.find_unused_parameters = true});
  auto& heads = dynamic_cast<TwoHeads&>(*lenient->module());
  (*lenient)(x * double(rank() + 1)).sum().backward();
  // The used head's gradient is the mean over ranks; the unused one's is zeros.
  NoGradGuard no_grad;
  const Tensor want = (x * (double(world_size() + 1) / 2)).sum(0).unsqueeze(0).expand({2, 3});
  expect_close({heads.used->parameters()[0].grad()}, {want}, 1e-6, "used head");
  EXPECT_EQ(heads.unused->parameters()[0].grad().to_vector<double>(), std::vector<double>(6, 0.0));
}

TEST(DistributedDataParallel, RankZeroSavesACheckpointEveryRankCanLoad) {
  manual_seed(40 + static_cast<uint64_t>(rank()));
  auto ddp = std::make_shared<nn::DistributedDataParallel>(mlp());
  // One path for every rank: rank 0 chooses it.
  Tensor stamp = tensor<int64_t>({static_cast<int64_t>(::getpid())}, {1});
  broadcast(stamp, 0);
  const std::string path =
      "/tmp/ember_ddp_checkpoint_" + std::to_string(stamp.item<int64_t>()) + ".safetensors";
  nn::save_on_rank_zero(*ddp->module(), path);
  auto copy = mlp();
  nn::load(*copy, path);  // every rank, right after the call
  EXPECT_EQ(copy->parameters()[0].to_vector<double>(), ddp->parameters()[0].to_vector<double>());
  barrier();
  on_rank_zero([&] { std::remove(path.c_str()); });
  EXPECT_THROW(nn::save_on_rank_zero(*ddp->module(), "/nonexistent-dir/x.safetensors"), Error)
      << "a failed save is an error on every rank";
}

TEST(DistributedSampler, ShardsAreDisjointEqualAndReshuffledPerEpoch) {
  const int64_t n = 10;
  for (bool drop_last : {false, true}) {
    std::vector<std::vector<int64_t>> shards;
    for (int r = 0; r < 3; ++r) {
      DistributedSampler s(
          n, {.num_replicas = 3, .rank = r, .shuffle = true, .seed = 9, .drop_last = drop_last});
      shards.push_back(s.indices());
      EXPECT_EQ(static_cast<int64_t>(shards.back().size()), drop_last ? 3 : 4);
      EXPECT_EQ(s.size(), drop_last ? 3 : 4);
    }
    std::multiset<int64_t> seen;
    for (const auto& s : shards) seen.insert(s.begin(), s.end());
    if (drop_last) {
      EXPECT_EQ(seen.size(), 9u);
      EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 9u) << "no example twice";
    } else {
      EXPECT_EQ(seen.size(), 12u);
      EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 10u) << "every example, 2 padded";
    }
  }
  DistributedSampler s(n, {.num_replicas = 2, .rank = 1, .seed = 9});
  const auto epoch0 = s.indices();
  EXPECT_EQ(s.indices(), epoch0) << "the same epoch, the same order";
  s.set_epoch(1);
  EXPECT_NE(s.indices(), epoch0) << "a new epoch, a new order";
  // The default is this process's rank in this world, and shard() serves its examples.
  DistributedSampler mine(8, {.shuffle = false});
  EXPECT_EQ(mine.size(), (8 + world_size() - 1) / world_size());
  auto data = std::make_shared<data::TensorDataset>(arange(0, 8).view({8, 1}), arange(0, 8));
  const auto shard = mine.shard(data);
  ASSERT_EQ(shard->size(), mine.size());
  EXPECT_EQ(shard->get_batch({0}).target.item<int64_t>(), mine.indices()[0]);
  EXPECT_EQ(mine.indices()[0], rank());
  EXPECT_THROW(DistributedSampler(4, {.num_replicas = 2, .rank = 2}), Error);
}

}  // namespace
}  // namespace ember::distributed
