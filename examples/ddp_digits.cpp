// ddp_digits - mlp_digits' model trained data-parallel over MPI.
//
//   build/examples/ddp_digits [--epochs 12]                  # one process
//   mpirun -np 2 build/examples/ddp_digits [--epochs 12]     # two, same result
//
// Each epoch every rank takes its shard of the shuffled training set
// (DistributedSampler) and batches of 64 / world_size examples; DDP
// averages the gradients, so a step on N ranks is the step one process takes
// on the whole batch of 64 and the printed accuracy is the same on 1 and 2
// processes (to float rounding: the ranks' sums are added in another
// order). Rank 0 prints; every rank evaluates the same weights. Exits
// non-zero below 95% test accuracy.
#include <cstdio>

#include "common/classifier.h"
#include "ember/distributed/ddp.h"
#include "ember/distributed/sampler.h"

using namespace ember;

int main(int argc, char** argv) {
  distributed::init();
  const int epochs = examples::flag(argc, argv, "--epochs", 12);
  const int64_t global_batch = 64, world = distributed::world_size();
  if (global_batch % world != 0) {
    distributed::on_rank_zero(
        [&] { std::fprintf(stderr, "ddp_digits: 64 does not split over %lld ranks\n", (long long)world); });
    return 2;
  }
  manual_seed(0);  // the same split on every rank; DDP makes the weights rank 0's anyway
  const examples::DigitsSplit split = examples::load_digits_split({64});
  auto ddp = std::make_shared<nn::DistributedDataParallel>(
      std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(64, 128), std::make_shared<nn::ReLU>(),
                                       std::make_shared<nn::Linear>(128, 10)));
  optim::Adam opt(ddp->parameters(), {.lr = 3e-3});
  distributed::DistributedSampler sampler(split.train->size(), {.shuffle = true, .seed = 0});
  distributed::on_rank_zero([&] {
    std::printf("ddp_digits: %lld process(es), batches of %lld per rank (%lld in all)\n", (long long)world,
                (long long)(global_batch / world), (long long)global_batch);
  });
  double test_acc = 0, loss = 0;
  examples::Progress progress;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    sampler.set_epoch(epoch);
    // drop_last: the padded tail of a shard is not trained on, so every
    // world size sees exactly the same global batches.
    data::DataLoader loader(sampler.shard(split.train),
                            {.batch_size = global_batch / world, .drop_last = true});
    double loss_sum = 0;
    int64_t batches = 0;
    for (const data::Batch& b : loader) {
      opt.zero_grad();
      Tensor l = nn::cross_entropy((*ddp)(b.data), b.target);
      l.backward();
      opt.step();
      loss_sum += l.item<double>();
      ++batches;
    }
    Tensor mean_loss = tensor<double>({loss_sum / double(batches)}, {1});
    distributed::all_reduce(mean_loss, distributed::ReduceOp::Mean);
    loss = mean_loss.item<double>();
    NoGradGuard no_grad;
    test_acc = examples::accuracy((*ddp)(split.test_x), split.test_y);
  }
  distributed::on_rank_zero([&] {
    std::printf(
        "final training loss %.6f, test accuracy %.2f%% after %d epochs (%.2f s, %lld all-reduce(s) "
        "waited %.1f ms in all)\n",
        loss, 100 * test_acc, epochs, progress.seconds(), (long long)ddp->stats().all_reduces,
        ddp->stats().wait_ms);
  });
  return test_acc >= 0.95 ? 0 : 1;
}
