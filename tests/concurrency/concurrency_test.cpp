// concurrency_test.cpp - ember from several threads at once: compiled
// functions (one and several, first calls of new signatures included),
// eager ops, autograd and the caching allocator on separate models, one
// model's inference under NoGradGuard, the random generator. Each result
// is compared element by element with the same work done on one thread.
//
// These tests are also built with ThreadSanitizer (`scripts/test --tsan`),
// which reports any data race they reach.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <functional>
#include <thread>

#include "ember/compiler/CompiledGraph.h"
#include "ember/ember.h"
#include "ember/jit/jit.h"

namespace ember {
namespace {

// Runs body(t) on `threads` threads at once (they start together).
void on_threads(int threads, const std::function<void(int)>& body) {
  std::barrier start(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      body(t);
    });
  for (auto& th : pool) th.join();
}

// Largest |a - b| / (atol + rtol |b|) over the elements; <= 1 is "close".
double worst(const Tensor& got, const Tensor& want, double atol, double rtol) {
  if (got.sizes() != want.sizes() || got.dtype() != want.dtype()) return 1e30;
  const auto g = got.to_vector<double>(), w = want.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i)
    worst = std::max(worst, std::abs(g[i] - w[i]) / (atol + rtol * std::abs(w[i])));
  return worst;
}

std::shared_ptr<nn::Sequential> mlp(int64_t in, int64_t hidden, int64_t out) {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(in, hidden),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(hidden, out));
}

// The stress test of the issue: 4 threads x 1,500 calls of one compiled MLP
// (weights captured) over four signatures (batch 1, 7, 32 and 33 rows),
// every result compared element by element with eager's on one thread.
// Before the fixes (one workspace per graph; oneDNN's shared scratchpad)
// most results of two threads at batch 32 were wrong.
TEST(Concurrency, OneCompiledFunctionFromFourThreadsMixedSignatures) {
  manual_seed(11);
  auto model = mlp(784, 256, 10);
  NoGradGuard no_grad;
  auto f =
      jit::compile([model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0])}; });
  std::vector<Tensor> xs, want;
  for (int64_t rows : {1, 7, 32, 33}) {
    xs.push_back(rand({rows, 784}) * 2 - 1);
    want.push_back((*model)(xs.back()));
  }
  constexpr int kCalls = 1500;
  std::atomic<int> wrong{0};
  std::atomic<double> worst_seen{0};
  on_threads(4, [&](int t) {
    NoGradGuard no_grad;
    for (int i = 0; i < kCalls; ++i) {
      const size_t k = static_cast<size_t>(i * 7 + t) % xs.size();
      const double w = worst(f({xs[k]})[0], want[k], 1e-5, 1e-4);
      if (w > 1) wrong.fetch_add(1);
      double seen = worst_seen.load();
      while (w > seen && !worst_seen.compare_exchange_weak(seen, w)) {
      }
    }
  });
  EXPECT_EQ(wrong.load(), 0) << "worst error " << worst_seen.load() << " (1 = the tolerance)";
  const jit::Stats s = f.stats();
  EXPECT_EQ(s.calls, 4 * kCalls);
  EXPECT_EQ(s.compiles, 4) << "one compile per signature, whatever the threads did:\n" << f.explain();
  // Calls of a key another thread is compiling run eagerly meanwhile.
  EXPECT_EQ(s.hits + s.eager_calls + s.traces, s.calls) << f.explain();
  EXPECT_GT(s.hits, s.calls * 3 / 4) << f.explain();
}

// The first calls of a new signature from several threads at once: it is
// traced and compiled once; the other calls run eagerly meanwhile; every
// result is right.
TEST(Concurrency, FirstCallsOfANewSignatureCompileItOnce) {
  manual_seed(12);
  auto model = mlp(64, 128, 10);
  std::atomic<int> traces_running{0}, most_at_once{0};
  auto f = jit::compile([&](const std::vector<Tensor>& in) {
    const int now = traces_running.fetch_add(1) + 1;
    int most = most_at_once.load();
    while (now > most && !most_at_once.compare_exchange_weak(most, now)) {
    }
    std::vector<Tensor> out{(*model)(in[0]).tanh()};
    traces_running.fetch_sub(1);
    return out;
  });
  NoGradGuard no_grad;
  const Tensor x = randn({16, 64});
  const Tensor want = (*model)(x).tanh();
  f({x});  // the warm-up call: the next calls of this key compile it
  std::atomic<int> wrong{0};
  on_threads(4, [&](int) {
    NoGradGuard no_grad;
    for (int i = 0; i < 200; ++i)
      if (worst(f({x})[0], want, 1e-5, 1e-4) > 1) wrong.fetch_add(1);
  });
  EXPECT_EQ(wrong.load(), 0);
  const jit::Stats s = f.stats();
  EXPECT_EQ(s.traces, 1) << f.explain();
  EXPECT_EQ(s.compiles, 1) << f.explain();
  EXPECT_EQ(s.calls, 1 + 4 * 200);
  EXPECT_EQ(s.hits + s.eager_calls + s.traces, s.calls) << f.explain();
}

// New sizes of a compiled signature from several threads at once (Note
// [Automatic dynamic dims]): one dynamic compile, each new size admitted by
// a trace, the entries bound while other threads run the dynamic code.
TEST(Concurrency, NewSizesFromSeveralThreadsShareOneDynamicCompile) {
  manual_seed(13);
  auto model = mlp(64, 128, 10);
  NoGradGuard no_grad;
  auto f = jit::compile(
      [model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0]).softmax(1)}; });
  for (int i = 0; i < 3; ++i) f({randn({16, 64})});  // compiled at batch 16
  std::vector<Tensor> xs, want;
  for (int64_t rows : {1, 5, 9, 23, 31, 40, 57, 64}) {
    xs.push_back(randn({rows, 64}));
    want.push_back((*model)(xs.back()).softmax(1));
  }
  std::atomic<int> wrong{0};
  on_threads(4, [&](int t) {
    NoGradGuard no_grad;
    for (int i = 0; i < 120; ++i) {
      const size_t k = static_cast<size_t>(i * 3 + t) % xs.size();
      if (worst(f({xs[k]})[0], want[k], 1e-5, 1e-4) > 1) wrong.fetch_add(1);
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  const jit::Stats s = f.stats();
  EXPECT_EQ(s.compiles, 2) << "the static one and one dynamic one, whichever thread made it:\n"
                           << f.explain();
  EXPECT_GT(s.hits, s.calls / 2) << f.explain();
}

// Different compiled functions at once, and one compiled graph called
// directly from several threads: each call has its own per-call state
// (Note [Per-call state]) and the pool grows to the calls in flight.
TEST(Concurrency, DifferentCompiledFunctionsAndOneGraphDirectly) {
  manual_seed(13);
  auto a = mlp(32, 64, 8), b = mlp(32, 48, 8);
  NoGradGuard no_grad;
  auto fa = jit::compile(
      [a](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*a)(in[0]).softmax(1)}; });
  auto fb =
      jit::compile([b](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*b)(in[0]).sigmoid()}; });
  const Tensor x = randn({64, 32});
  const Tensor want_a = (*a)(x).softmax(1), want_b = (*b)(x).sigmoid();
  auto traced = tracer::trace(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{(in[0] * 3).exp() + 1}; }, {x});
  auto graph = compiler::CompiledGraph::compile(traced.graph);
  std::atomic<int> wrong{0};
  on_threads(4, [&](int t) {
    NoGradGuard no_grad;
    for (int i = 0; i < 300; ++i) {
      bool ok = true;
      if (t % 2 == 0)
        ok = worst(fa({x})[0], want_a, 1e-6, 1e-4) <= 1 && worst(fb({x})[0], want_b, 1e-6, 1e-4) <= 1;
      else
        ok = worst(graph->run({x})[0], traced.outputs[0], 1e-5, 1e-5) <= 1;
      if (!ok) wrong.fetch_add(1);
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(graph->call_states(), 1);
  EXPECT_LE(graph->call_states(), 2) << "two threads call the graph: at most two states in flight";
}

// Eager ops, autograd, optimizers and the caching allocator on four
// separate models at once: each ends with exactly the parameters the same
// training on one thread gives (the kernels are deterministic at one
// OpenMP thread, which these tests use).
TEST(Concurrency, EagerTrainingOfSeparateModelsMatchesOneThread) {
  set_num_threads(1);
  constexpr int kModels = 4, kSteps = 30;
  std::vector<std::shared_ptr<nn::Sequential>> models, twins;
  std::vector<Tensor> xs, ys;
  for (int m = 0; m < kModels; ++m) {
    manual_seed(100 + m);
    models.push_back(mlp(20, 32, 5));
    manual_seed(100 + m);
    twins.push_back(mlp(20, 32, 5));
    xs.push_back(randn({16, 20}));
    ys.push_back(randint(0, 5, {16}));
  }
  const auto train = [&](nn::Sequential& model, int m) {
    optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.9});
    for (int s = 0; s < kSteps; ++s) {
      opt.zero_grad();
      Tensor loss = nn::cross_entropy(model(xs[m]), ys[m]);
      loss.backward();
      opt.step();
    }
  };
  for (int m = 0; m < kModels; ++m) train(*twins[m], m);
  on_threads(kModels, [&](int m) { train(*models[m], m); });
  for (int m = 0; m < kModels; ++m) {
    const auto got = models[m]->parameters(), want = twins[m]->parameters();
    for (size_t p = 0; p < got.size(); ++p)
      EXPECT_EQ(got[p].to_vector<float>(), want[p].to_vector<float>()) << "model " << m << " parameter " << p;
  }
}

// One model's inference from several threads under NoGradGuard: reads
// only, so every result equals the one-thread result exactly.
TEST(Concurrency, OneModelInferenceFromSeveralThreads) {
  set_num_threads(1);
  manual_seed(14);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(48, 96), std::make_shared<nn::GELU>(),
      std::make_shared<nn::LayerNorm>(std::vector<int64_t>{96}), std::make_shared<nn::Linear>(96, 12));
  model->eval();
  NoGradGuard no_grad;
  std::vector<Tensor> xs, want;
  for (int k = 0; k < 6; ++k) {
    xs.push_back(randn({1 + 9 * k, 48}));
    want.push_back((*model)(xs.back()));
  }
  std::atomic<int> wrong{0};
  on_threads(4, [&](int t) {
    NoGradGuard no_grad;
    for (int i = 0; i < 400; ++i) {
      const size_t k = static_cast<size_t>(i + t) % xs.size();
      if ((*model)(xs[k]).to_vector<float>() != want[k].to_vector<float>()) wrong.fetch_add(1);
    }
  });
  EXPECT_EQ(wrong.load(), 0);
}

// Note [One generator, locked]: four threads drawing at once get, between
// them, exactly the values one thread draws from the same seed (each
// tensor's values consecutive draws), in some order.
TEST(Concurrency, RandomDrawsFromSeveralThreadsAreTheSeedsDraws) {
  constexpr int kThreads = 4, kTensors = 50, kSize = 257;
  manual_seed(15);
  std::vector<float> sequential;
  for (int i = 0; i < kThreads * kTensors; ++i) {
    const auto v = randn({kSize}).to_vector<float>();
    sequential.insert(sequential.end(), v.begin(), v.end());
  }
  manual_seed(15);
  std::vector<std::vector<float>> drawn(kThreads);
  on_threads(kThreads, [&](int t) {
    for (int i = 0; i < kTensors; ++i) {
      const auto v = randn({kSize}).to_vector<float>();
      drawn[t].insert(drawn[t].end(), v.begin(), v.end());
    }
  });
  std::vector<float> together;
  for (const auto& d : drawn) together.insert(together.end(), d.begin(), d.end());
  std::sort(sequential.begin(), sequential.end());
  std::sort(together.begin(), together.end());
  EXPECT_EQ(together, sequential);
}

// Compiled backward from several threads: the backward of one key is
// compiled once and each thread's input gradients are right.
TEST(Concurrency, CompiledBackwardFromSeveralThreads) {
  manual_seed(16);
  const Tensor w = randn({24, 16});  // captured, no grad: gradients go to the inputs only
  auto f = jit::compile(
      [w](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(w).tanh()}; });
  const Tensor x0 = randn({8, 24});
  const auto grad_of = [&](const Tensor& x, bool compiled) {
    Tensor xi = x.detach().requires_grad_();
    Tensor y = compiled ? f({xi})[0] : xi.matmul(w).tanh();
    (y * y).sum().backward();
    return xi.grad();
  };
  const Tensor want = grad_of(x0, false);
  for (int i = 0; i < 2; ++i) grad_of(x0, true);  // warm-up and compile of the forward
  std::atomic<int> wrong{0};
  on_threads(4, [&](int) {
    for (int i = 0; i < 100; ++i)
      if (worst(grad_of(x0, true), want, 1e-5, 1e-4) > 1) wrong.fetch_add(1);
  });
  EXPECT_EQ(wrong.load(), 0);
  const jit::Stats s = f.stats();
  EXPECT_EQ(s.backward_compiles, 1) << f.explain();
  EXPECT_GE(s.backward_hits, 350) << f.explain();
}

}  // namespace
}  // namespace ember
