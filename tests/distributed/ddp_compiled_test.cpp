// ddp_compiled_test.cpp - a jit::compile'd training step of a DDP model on
// the ranks mpirun started: its all-reduces are ops of the compiled graph
// (Note [DDP inside a compiled step]) and it trains as one process does on
// the combined batch.
#include <gtest/gtest.h>

#include "ember/distributed/ddp.h"
#include "ember/ember.h"
#include "ember/jit/jit.h"
#include "models.h"

namespace ember::distributed {
namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(CompiledDistributedDataParallel, TwentyCompiledStepsEqualOneProcessOnTheCombinedBatch) {
  manual_seed(2000 + static_cast<uint64_t>(rank()));
  auto ddp = std::make_shared<nn::DistributedDataParallel>(
      mlp(), nn::DistributedDataParallelOptions{.bucket_cap_mb = 0.0002});
  auto reference = mlp();
  {
    NoGradGuard no_grad;
    auto a = ddp->parameters(), b = reference->parameters();
    for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  }
  auto opt = std::make_shared<optim::SGD>(ddp->parameters(), optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  optim::SGD ref_opt(reference->parameters(), {.lr = 0.1, .momentum = 0.9});
  auto step = jit::compile([ddp, opt](const std::vector<Tensor>& in) {
    opt->zero_grad();
    Tensor loss = nn::cross_entropy((*ddp)(in[0]), in[1]);
    loss.backward();
    opt->step();
    return std::vector<Tensor>{loss};
  });
  manual_seed(8);  // the same global batches on every rank
  for (int i = 0; i < 20; ++i) {
    const Tensor x = randn({kLocalBatch * world_size(), 6}), y = randint(0, 4, {kLocalBatch * world_size()});
    step({my_rows(x), my_rows(y)});
    ref_opt.zero_grad();
    nn::cross_entropy((*reference)(x), y).backward();
    ref_opt.step();
  }
  EXPECT_EQ(step.stats().compiles, 1) << step.explain();
  EXPECT_EQ(step.stats().hits, 18) << "steps 3..20 ran compiled code";
  auto got = ddp->parameters(), want = reference->parameters();
  for (size_t i = 0; i < got.size(); ++i) {
    const auto g = got[i].to_vector<double>(), w = want[i].to_vector<double>();
    for (size_t k = 0; k < g.size(); ++k)
      ASSERT_NEAR(g[k], w[k], 1e-5) << "parameter " << i << " element " << k;
  }
  // One all-reduce call per bucket in the compiled step, in the graph's order.
  const std::string& buffers = step.stage(compiler::Stage::Buffers);
  EXPECT_EQ(count(buffers, "call @ember_all_reduce_f32"), static_cast<int>(ddp->bucket_layout().size()))
      << buffers;
}

}  // namespace
}  // namespace ember::distributed
