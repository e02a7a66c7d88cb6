// ember-bench-ddp - WORKLOADS.md's ddp_mlp_train: mlp_train's step at a
// global batch of 256, split over the processes mpirun started (1 compute
// thread each), gradients averaged by DistributedDataParallel every step.
// Rank 0 prints one JSON line: processes, median_ms per global step,
// samples_per_s, the time per step spent in all-reduces, and one
// all-reduce of the gradients' size alone. bench/ddp_mlp_train.sh runs it on 1 and 2
// processes side by side.
//
//   build/distributed/ember-bench-ddp [--iters 30] [--mode eager|compiled]
//   mpirun -np 2 build/distributed/ember-bench-ddp [--iters 30] [--mode compiled]
//
// compiled: the step through jit::compile, its all-reduces inside the
// compiled code (Note [DDP inside a compiled step]).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "ember/distributed/ddp.h"
#include "ember/ember.h"
#ifdef EMBER_BENCH_COMPILED
#include "ember/jit/jit.h"
#endif

using namespace ember;

int main(int argc, char** argv) {
  distributed::init();
  int iters = 30;
  std::string mode = "eager";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--iters") == 0) iters = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
  }
  set_num_threads(1);
  constexpr int64_t kGlobalBatch = 256;
  const int64_t world = distributed::world_size(), local = kGlobalBatch / world;
  manual_seed(0);
  const char* cap = std::getenv("EMBER_BUCKET_MB");
  auto ddp = std::make_shared<nn::DistributedDataParallel>(
      std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(784, 1024), std::make_shared<nn::ReLU>(),
                                       std::make_shared<nn::Linear>(1024, 1024), std::make_shared<nn::ReLU>(),
                                       std::make_shared<nn::Linear>(1024, 10)),
      nn::DistributedDataParallelOptions{.bucket_cap_mb = cap ? std::atof(cap) : 25});
  optim::SGD opt(ddp->parameters(), {.lr = 0.01, .momentum = 0.9});
  manual_seed(1 + static_cast<uint64_t>(distributed::rank()));  // each rank its own examples
  const Tensor x = rand({local, 784}), y = randint(0, 10, {local});
  std::function<void()> step = [&] {
    opt.zero_grad();
    nn::cross_entropy((*ddp)(x), y).backward();
    opt.step();
  };
  double compile_ms = 0;
#ifdef EMBER_BENCH_COMPILED
  auto compiled = jit::compile([&](const std::vector<Tensor>& in) {
    opt.zero_grad();
    Tensor loss = nn::cross_entropy((*ddp)(in[0]), in[1]);
    loss.backward();
    opt.step();
    return std::vector<Tensor>{loss};
  });
  if (mode == "compiled") step = [&] { compiled({x, y}); };
#endif
  if (mode != "eager" && mode != "compiled") {
    std::fprintf(stderr, "ember-bench-ddp: --mode eager or compiled, not %s\n", mode.c_str());
    return 2;
  }
  const auto warm = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) step();  // compiled: eager, trace + compile, native
  compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - warm).count();
#ifdef EMBER_BENCH_COMPILED
  if (mode == "compiled" && compiled.stats().compiles != 1) {
    std::fprintf(stderr, "ember-bench-ddp: the step did not compile:\n%s\n", compiled.explain().c_str());
    return 1;
  }
#endif
  const double wait_before = distributed::collective_ms();
  std::vector<double> times;
  double barrier_ms = 0;
  for (int i = 0; i < iters; ++i) {
    const double before_barrier = distributed::collective_ms();
    distributed::barrier();  // every rank starts the step together
    barrier_ms += distributed::collective_ms() - before_barrier;
    const auto start = std::chrono::steady_clock::now();
    step();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  // The all-reduce alone, of as many floats as the model has parameters:
  // what communication costs when nothing else runs.
  Tensor gradients = zeros({ddp->num_parameters()});
  std::vector<double> alone;
  for (int i = 0; i < iters; ++i) {
    distributed::barrier();
    const auto start = std::chrono::steady_clock::now();
    distributed::all_reduce(gradients, distributed::ReduceOp::Mean);
    alone.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(alone.begin(), alone.end());
  // Per step, on the rank that waited most (the barriers before the steps excluded).
  const double waited = distributed::collective_ms() - wait_before - barrier_ms;
  Tensor wait = tensor<double>({waited / iters}, {1});
  distributed::all_reduce(wait, distributed::ReduceOp::Max);
  distributed::on_rank_zero([&] {
    std::printf(
        "{\"workload\":\"ddp_mlp_train\",\"mode\":\"%s\",\"processes\":%lld,\"threads\":1,\"iters\":%d,"
        "\"median_ms\":%.4f,\"min_ms\":%.4f,\"samples_per_s\":%.1f,\"allreduce_wait_ms\":%.4f,"
        "\"buckets\":%zu,\"warmup_ms\":%.1f,\"allreduce_alone_ms\":%.4f}\n",
        mode.c_str(), (long long)world, iters, median, times.front(), double(kGlobalBatch) / median * 1000,
        wait.item<double>(), ddp->bucket_layout().size(), compile_ms, alone[alone.size() / 2]);
  });
  return 0;
}
