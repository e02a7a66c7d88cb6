// dynamic_test.cpp - automatic dynamic dims (Note [Automatic dynamic dims]):
// a second size of a compiled signature compiles once with `?` dims, later
// sizes run that code after one trace each, and whatever makes the traces
// differ (a size baked into a constant, a broadcast behind a `?` dim, an op
// without a dynamic lowering) compiles that size on its own: always the
// eager answer.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/jit/jit.h"
#include "ember/meta.h"
#include "ember/tracer/dynamic.h"
#include "ember/tracer/trace.h"
#include "models.h"

namespace ember::jit {
namespace {

// Elementwise ops, broadcasting against a static row, and reductions over
// the dynamic dim and over the static one.
std::vector<Tensor> rows(const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  const Tensor y = (x * 1.5 + in[1]).tanh() * x.sigmoid() + x;
  return {y, y.sum({0}), y.mean({1}, /*keepdim=*/true), y.amax({0, 1}), y.permute({1, 0})};
}

void expect_near(const std::vector<Tensor>& got, const std::vector<Tensor>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].sizes(), want[k].sizes()) << what << " output " << k;
    const auto a = got[k].to_vector<double>(), b = want[k].to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_NEAR(a[i], b[i], 1e-5 + 1e-5 * std::abs(b[i])) << what << " output " << k << " element " << i;
  }
}

TEST(Dynamic, ASecondSizeCompilesOnceForEverySize) {
  auto f = compile(rows);
  const Tensor row = randn({64});
  // 128 compiles (after its warm-up); 37 makes dim 0 dynamic; 1, 64, 19 and
  // 37 again run that code, at sizes below, at and off the vector width.
  for (int64_t n : {128, 128, 128, 37, 37, 1, 64, 19, 37, 1}) {
    const Tensor x = randn({n, 64});
    expect_near(f({x, row}), rows({x, row}), "batch " + std::to_string(n));
  }
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 2) << f.explain();
  ASSERT_EQ(s.recompile_reasons.size(), 1u);
  EXPECT_EQ(s.recompile_reasons[0], "input 0 dim 0 became dynamic (128 -> 37)");
  EXPECT_EQ(s.traces, 5) << "128, 37, then one trace for each new size: 1, 64, 19";
  EXPECT_EQ(s.hits, 4) << f.explain();
  EXPECT_NE(f.explain().find("became dynamic"), std::string::npos) << f.explain();
  EXPECT_NE(f.stage(compiler::Stage::Ember).find("tensor<?x64xf32>"), std::string::npos);
}

TEST(Dynamic, ASizeBakedIntoANumberIsReadAtRunTime) {
  // x.sum() / x.size(0): the number is input 0's dim 0 in both traces, so it
  // is computed from that dim at run time (Note [Sizes in a generalized graph]).
  auto f = compile([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].sum() / static_cast<double>(in[0].size(0))};
  });
  for (int64_t n : {8, 8, 8, 5, 5, 3, 3, 11}) {
    const Tensor x = randn({n, 4});
    EXPECT_NEAR(f({x})[0].item<double>(), x.sum().item<double>() / double(n), 1e-5) << n;
  }
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 2) << f.explain();
  EXPECT_NE(s.recompile_reasons[0].find("(div at "), std::string::npos) << s.recompile_reasons[0];
  EXPECT_NE(s.recompile_reasons[0].find("'s number is input 0 dim 0"), std::string::npos)
      << s.recompile_reasons[0];
}

TEST(Dynamic, CreationOpsOfABatchSizeReadItAtRunTime) {
  // full and arange with a size that is input 0's dim 0 in both traces: the
  // size is read from that dim at run time (creation ops have no operand).
  const auto f_of = [](const std::vector<Tensor>& in) {
    const int64_t n = in[0].size(0);
    return std::vector<Tensor>{full({n, 4}, 0.5) * in[0], arange(0, n, 1) * in[0].sum({1})};
  };
  auto f = compile(f_of);
  for (int64_t n : {8, 8, 8, 5, 11, 3}) {
    const Tensor x = randn({n, 4});
    expect_near(f({x}), f_of({x}), std::to_string(n));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
}

TEST(Dynamic, ANumberThatIsNoSizeCompilesEachSize) {
  // n * n is not k times a size with one k: each size compiles on its own.
  auto f = compile([](const std::vector<Tensor>& in) {
    const double n = static_cast<double>(in[0].size(0));
    return std::vector<Tensor>{in[0].sum() / (n * n)};
  });
  for (int64_t n : {8, 8, 8, 5, 5, 3, 3}) {
    const Tensor x = randn({n, 4});
    EXPECT_NEAR(f({x})[0].item<double>(), x.sum().item<double>() / double(n * n), 1e-5) << n;
  }
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 3) << f.explain();
  for (const std::string& r : s.recompile_reasons) {
    EXPECT_EQ(r.find("became dynamic"), std::string::npos) << r;
    // explain() says why the size compiles on its own.
    EXPECT_NE(r.find("static, not dynamic: op 1 (div at"), std::string::npos) << r;
    EXPECT_NE(r.find("has attributes that depend on the sizes (scalar_rhs=64 / scalar_rhs="),
              std::string::npos)
        << r;
  }
}

TEST(Dynamic, ARelationThatStopsHoldingIsCheckedAtEachNewSize) {
  // max(n, 4) is n at 8 and 5, so the number becomes input 0 dim 0; at 2 it
  // is 4, the relation fails for that size's trace, and 2 compiles on its
  // own: the right answer, never the dynamic code's n.
  const auto mean_of = [](const Tensor& x) {
    return x.sum() / static_cast<double>(std::max<int64_t>(x.size(0), 4));
  };
  auto f = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{mean_of(in[0])}; });
  for (int64_t n : {8, 8, 8, 5, 2, 2, 6}) {
    const Tensor x = randn({n, 4});
    EXPECT_NEAR(f({x})[0].item<double>(), mean_of(x).item<double>(), 1e-5) << n;
  }
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 3) << f.explain();
  EXPECT_NE(s.recompile_reasons[1].find("-> 2\n  static, not dynamic: op 1 (div at "), std::string::npos)
      << f.explain();
}

TEST(Dynamic, AnMseTrainingStepWithAChangingBatchCompilesOnce) {
  // mse_loss's mean: its gradient expands to the batch and divides by it,
  // both read from input 0's dim 0 at run time.
  const auto make = [] {
    manual_seed(8);
    return std::make_shared<nn::Linear>(4, 2);
  };
  auto eager_model = make(), compiled_model = make();
  const auto step_of = [](std::shared_ptr<nn::Linear> model) {
    return testing::optimizer_step(
        [model](const std::vector<Tensor>& in) { return nn::mse_loss((*model)(in[0]), in[1]); },
        std::make_shared<optim::SGD>(model->parameters(), optim::SGDOptions{.lr = 0.1}));
  };
  auto eager_step = step_of(eager_model);
  auto compiled_step = compile(step_of(compiled_model));
  for (int64_t n : {8, 8, 8, 3, 5, 1, 9, 3}) {
    const Tensor x = randn({n, 4}), y = randn({n, 2});
    const double want = eager_step({x, y})[0].item<double>(), got = compiled_step({x, y})[0].item<double>();
    ASSERT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-6) << "batch " << n;
  }
  const auto a = eager_model->parameters(), b = compiled_model->parameters();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_LT((a[i] - b[i]).abs().max().item<double>(), 1e-5) << "parameter " << i;
  EXPECT_LE(compiled_step.stats().compiles, 3)
      << compiled_step.explain();  // a batch of 1 may compile on its own
  EXPECT_NE(compiled_step.stats().recompile_reasons[0].find(")'s number is 2 x input 0 dim 0"),
            std::string::npos)
      << compiled_step.explain();
  EXPECT_NE(compiled_step.stats().recompile_reasons[0].find("op 9 (div at "), std::string::npos)
      << compiled_step.explain();
}

TEST(Dynamic, ABroadcastBehindADynamicDimCompilesThatSizeOnItsOwn) {
  auto f = compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + in[1]}; });
  const auto call = [&](int64_t a, int64_t b) {
    const Tensor x = randn({a, 8}), y = randn({b, 8});
    expect_near(f({x, y}), {x + y}, std::to_string(a) + " + " + std::to_string(b));
  };
  call(16, 16), call(16, 16), call(16, 16);
  call(9, 9);  // dynamic: both dims 0 one size
  call(1, 9);  // x's dim 0 broadcasts: not an instance of the dynamic graph
  call(1, 9);
  call(4, 4);  // the dynamic code again
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 3) << f.explain();
}

TEST(Dynamic, GraphsAreTheSameProgramOnlyWhenOpsAttributesAndConstantsAgree) {
  const auto trace_of = [](const tracer::TracedFn& fn, const std::vector<Tensor>& in) {
    return tracer::trace(fn, in).graph;
  };
  const tracer::TracedFn scale = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0] * 2.0 + 1.0};
  };
  const tracer::Graph a = trace_of(scale, {randn({6, 3})}), b = trace_of(scale, {randn({2, 3})});
  std::string why;
  auto general = tracer::generalize(a, b, &why);
  ASSERT_TRUE(general.has_value()) << why;
  EXPECT_TRUE(tracer::has_dynamic_dims(general->graph));
  EXPECT_EQ(general->graph.values[general->graph.inputs[0]].shape, Shape({kDynamic, 3}));
  EXPECT_TRUE(tracer::instance_of(general->graph, trace_of(scale, {randn({11, 3})}), &why)) << why;
  EXPECT_FALSE(tracer::instance_of(general->graph, trace_of(scale, {randn({11, 4})}), &why));
  EXPECT_NE(why.find("dim 1"), std::string::npos) << why;

  // A slice's end from the size: an attribute that is not the output's shape.
  const tracer::TracedFn half = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].slice(0, 0, in[0].size(0) / 2)};
  };
  EXPECT_FALSE(tracer::generalize(trace_of(half, {randn({6, 3})}), trace_of(half, {randn({2, 3})}), &why));
  EXPECT_NE(why.find("attributes that depend on the sizes"), std::string::npos) << why;
  EXPECT_FALSE(tracer::generalize(a, trace_of(scale, {randn({6, 3})}), &why)) << "same sizes";
}

TEST(Dynamic, AnOpWithoutADynamicLoweringCompilesEachSize) {
  // A matmul of a `?`-length vector by a batch of matrices has no lowering
  // with `?` dims: the dynamic graph does not compile, and each size
  // compiles on its own.
  const auto vm = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(in[1])}; };
  auto f = compile(vm);
  for (int64_t n : {6, 6, 6, 3, 3}) {
    const std::vector<Tensor> in{randn({n}), randn({2, n, 4})};
    expect_near(f(in), vm(in), std::to_string(n));
  }
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 2) << f.explain();
  ASSERT_EQ(s.recompile_reasons.size(), 2u) << f.explain();
  EXPECT_NE(s.recompile_reasons[0].find("but the dynamic graph did not compile"), std::string::npos)
      << s.recompile_reasons[0];
}

TEST(Dynamic, BatchedMatmulsTakeADynamicBatchOrLength) {
  // [n, 2, 3] @ [n, 3, 4] (a `?` batch: BLAS calls in a loop of run-time
  // trip count) and [2, n, 3] @ [2, 3, n] (`?` rows and columns: compiled
  // loops, since each batch's offset is a run-time stride; see Known limits).
  const auto bmm = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(in[1])}; };
  auto batch = compile(bmm), length = compile(bmm);
  for (int64_t n : {6, 6, 6, 3, 9, 2}) {
    const std::vector<Tensor> a{randn({n, 2, 3}), randn({n, 3, 4})}, b{randn({2, n, 3}), randn({2, 3, n})};
    expect_near(batch(a), bmm(a), "batch " + std::to_string(n));
    expect_near(length(b), bmm(b), "length " + std::to_string(n));
  }
  EXPECT_EQ(batch.stats().compiles, 2) << batch.explain();
  EXPECT_EQ(length.stats().compiles, 2) << length.explain();
  EXPECT_NE(batch.explain().find("f32 ?x[2x3 @ 3x4]: cblas_sgemm x?"), std::string::npos) << batch.explain();
  // A batch of 1 against one of 5 is a broadcast: never read as the `?` batch.
  const std::vector<Tensor> broadcast{randn({1, 2, 3}), randn({5, 3, 4})};
  expect_near(batch(broadcast), bmm(broadcast), "broadcast");
}

TEST(Dynamic, AVaryingDimBroadcastAgainstAFixedOneIsNotDynamic) {
  // x [n, 4] + y [3, 4]: at n = 3 an add, at n = 1 a broadcast. A `?` n
  // would read 3 rows of x at n = 1 (the lowering reads a `?` dim as the
  // result's), so the two sizes are not one program: each is compiled on
  // its own, in either order, and every answer is eager's.
  for (const auto& order : {std::vector<int64_t>{3, 3, 3, 1, 1}, std::vector<int64_t>{1, 1, 1, 3, 3}}) {
    const Tensor y = randn({3, 4});
    auto f = compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + y}; });
    for (int64_t n : order) {
      const Tensor x = randn({n, 4});
      expect_near(f({x}), {x + y}, std::to_string(n));
    }
    EXPECT_EQ(f.stats().compiles, 2) << f.explain();
  }
}

TEST(Dynamic, ConvolutionsAndPoolsReadTheBatchAtRunTime) {
  // A small convnet's loss and its weights' gradients (conv2d's input and
  // weight gradients, both pools' gradients, the flatten's view) at batches
  // 8, 3, 5, 2: one dynamic compile.
  const Tensor w1 = (randn({4, 2, 3, 3}) * 0.3).requires_grad_(),
               w2 = (randn({3, 4, 3, 3}) * 0.3).requires_grad_(),
               fc = (randn({5, 3 * 2 * 2}) * 0.3).requires_grad_();
  Conv2dOptions same;
  same.padding = {1, 1};
  const auto step = [&](const std::vector<Tensor>& in) {
    Tensor y = max_pool2d(conv2d(in[0], w1, {}, same).relu(), Pool2dOptions{});
    y = avg_pool2d(conv2d(y, w2, {}, same).relu(), Pool2dOptions{});
    const Tensor loss = nn::cross_entropy(linear(y.view({y.size(0), -1}), fc), in[1]);
    auto grads = autograd::grad({loss}, {ones({})}, {w1, w2, fc});
    return std::vector<Tensor>{loss.detach(), grads[0], grads[1], grads[2]};
  };
  auto f = compile(step);
  for (int64_t n : {8, 8, 8, 3, 5, 2}) {
    const Tensor x = randn({n, 2, 8, 8}), labels = randint(0, 5, {n});
    expect_near(f({x, labels}), step({x, labels}), std::to_string(n));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
}

TEST(Dynamic, LargeBatchesRunOnThePoolSmallOnesOnOneThread) {
  // Compiled at 2 threads, a loop nest over a `?` batch is versioned on its
  // trip count at run time (Note [Loops of run-time trip count]): the
  // parallel copy at 4096 rows, the serial loop at 3; eager's answers at both.
  const int before = get_num_threads();
  set_num_threads(2);
  const auto fn = [](const std::vector<Tensor>& in) {
    const Tensor y = (in[0] * 2 + 1).tanh();
    return std::vector<Tensor>{y, y.sum({1})};
  };
  auto f = compile(fn);
  for (int64_t n : {4096, 4096, 4096, 3, 4096, 1, 5000}) {
    const Tensor x = randn({n, 512});
    expect_near(f({x}), fn({x}), std::to_string(n));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
  EXPECT_NE(f.stage(compiler::Stage::LLVM).find("__kmpc_fork_call"), std::string::npos)
      << "no parallel region";
  set_num_threads(before);
}

TEST(Dynamic, RowsOfADynamicLengthAreFusedRowByRow) {
  // softmax, log_softmax and a sum over a `?` row length (attention scores
  // over a changing sequence, written out): one dynamic compile, and the
  // rows' count read at run time too (1 at the end).
  const auto rows = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    return std::vector<Tensor>{x.softmax(1), x.log_softmax(1) * 2, x.sum({1}),
                               (x - x.mean({1}, true)).tanh()};
  };
  auto f = compile(rows);
  for (int64_t n : {40, 40, 40, 17, 100, 3, 33}) {
    const Tensor x = randn({4, n});
    expect_near(f({x}), rows({x}), std::to_string(n));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
  EXPECT_EQ(f.stats().recompile_reasons[0], "input 0 dim 1 became dynamic (40 -> 17)");
}

TEST(Dynamic, VarianceOverADynamicDimCountsItsElementsAtRunTime) {
  // Over the `?` dim (the count changes with the size), beside it, and over
  // every dim, with and without Bessel's correction. (A count taken from the
  // first trace's shape gave wrong answers at every other size.)
  const auto spread = [](const Tensor& x) {
    return std::vector<Tensor>{x.var({0}), x.var({1}, 0), x.var({0, 1}, 1, true), x.var()};
  };
  auto f = compile([&](const std::vector<Tensor>& in) { return spread(in[0]); });
  for (int64_t n : {6, 6, 6, 3, 9, 2}) {
    const Tensor x = randn({n, 8});
    expect_near(f({x}), spread(x), std::to_string(n));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
}

TEST(Dynamic, LinearLayersAreBlasCallsWithTheBatchReadAtRunTime) {
  const Tensor w1 = randn({32, 64}), b1 = randn({32}), w2 = randn({10, 32});
  const tracer::TracedFn mlp = [&](const std::vector<Tensor>& in) {
    const Tensor h = linear(in[0], w1, b1).relu();
    return std::vector<Tensor>{linear(h, w2), h.t().matmul(in[0])};  // the second: k is the batch
  };
  auto f = compile(mlp);
  for (int64_t n : {128, 128, 128, 37, 37, 1, 200}) {
    const Tensor x = randn({n, 64});
    expect_near(f({x}), mlp({x}), "batch " + std::to_string(n));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
  const std::string report = f.explain();
  EXPECT_NE(report.find("[?x64 @ 64x32]: cblas_sgemm"), std::string::npos) << report;
  EXPECT_NE(report.find("[32x? @ ?x64]: cblas_sgemm"), std::string::npos) << report;
}

// An MLP's whole training step (forward, cross-entropy, backward, SGD with
// momentum) at batches that change every call, against the same steps eagerly.
TEST(Dynamic, ATrainingStepWithAChangingBatchFollowsEager) {
  const auto make = [] {
    manual_seed(5);
    return testing::small_mlp();
  };
  auto eager_model = make(), compiled_model = make();
  auto eager_step = testing::sgd_step(
      eager_model,
      std::make_shared<optim::SGD>(eager_model->parameters(), optim::SGDOptions{.lr = 0.1, .momentum = 0.9}));
  auto compiled_step = compile(testing::sgd_step(
      compiled_model, std::make_shared<optim::SGD>(compiled_model->parameters(),
                                                   optim::SGDOptions{.lr = 0.1, .momentum = 0.9})));
  for (int64_t n : {128, 128, 128, 37, 1, 64, 37, 1, 128, 19}) {
    const Tensor x = randn({n, 20}), labels = randint(0, 10, {n});
    const double want = eager_step({x, labels})[0].item<double>();
    const double got = compiled_step({x, labels})[0].item<double>();
    ASSERT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-6) << "batch " << n;
  }
  const auto a = eager_model->parameters(), b = compiled_model->parameters();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_LT((a[i] - b[i]).abs().max().item<double>(), 1e-5) << "parameter " << i;
  const Stats s = compiled_step.stats();
  EXPECT_EQ(s.compiles, 2) << compiled_step.explain();
  EXPECT_EQ(s.recompile_reasons[0],
            "input 0 dim 0 became dynamic (128 -> 37); input 1 dim 0 became dynamic (128 -> 37)");
  EXPECT_EQ(s.hits, 4) << "128 once, then 37, 1 and 128 again: " << compiled_step.explain();
  // Its temporaries of `?` size come from ember's caching allocator, not malloc
  // (Note [Temporaries of run-time size]).
  const std::string llvm_ir = compiled_step.stage(compiler::Stage::LLVM);
  EXPECT_NE(llvm_ir.find("@_mlir_memref_to_llvm_"), std::string::npos);
  EXPECT_EQ(llvm_ir.find("@malloc("), std::string::npos);
}

// A character model as examples/char_lstm_words trains it, over batches
// padded to their own longest word: each layer of nn::LSTM (nn::GRU) is one
// lstm (gru) op (Note [Fused LSTM], Note [Fused GRU]), so a new length is a
// new size of dim 0.
template <typename Recurrent>
struct CharModel : nn::Module {
  std::shared_ptr<nn::Embedding> embed = register_module("embed", std::make_shared<nn::Embedding>(11, 6));
  std::shared_ptr<Recurrent> rnn = register_module("rnn", std::make_shared<Recurrent>(6, 8, 2));
  std::shared_ptr<nn::Linear> head = register_module("head", std::make_shared<nn::Linear>(8, 11));
  CharModel() : Module("CharModel") {}
};

template <typename Recurrent>
tracer::TracedFn char_model_step(std::shared_ptr<CharModel<Recurrent>> model,
                                 std::shared_ptr<optim::Optimizer> opt) {
  return testing::optimizer_step(
      [model](const std::vector<Tensor>& in) {
        const Tensor logits = (*model->head)(model->rnn->forward((*model->embed)(in[0])).first);
        return nn::cross_entropy(logits.view({-1, 11}), in[1].view({-1}), {.ignore_index = 0});
      },
      opt);
}

// Trains the model eagerly and compiled over changing lengths: the same
// losses and parameters, two compiles, the recurrence's kernel called
// forward and backward (`kernel`: ember_lstm, ember_gru).
template <typename Recurrent>
void expect_training_over_changing_lengths_compiles_once(const std::string& kernel) {
  const auto make = [] {
    manual_seed(9);
    return std::make_shared<CharModel<Recurrent>>();
  };
  auto eager_model = make(), compiled_model = make();
  const tracer::TracedFn eager_step = char_model_step<Recurrent>(
      eager_model, std::make_shared<optim::Adam>(eager_model->parameters(), optim::AdamOptions{.lr = 1e-2}));
  CompiledFunction compiled_step = compile(char_model_step<Recurrent>(
      compiled_model,
      std::make_shared<optim::Adam>(compiled_model->parameters(), optim::AdamOptions{.lr = 1e-2})));
  const auto step_both = [&](int64_t length) {
    const Tensor tokens = randint(0, 11, {length, 5}), targets = randint(0, 11, {length, 5});
    const double want = eager_step({tokens, targets})[0].item<double>();
    const double got = compiled_step({tokens, targets})[0].item<double>();
    ASSERT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-6) << kernel << " length " << length;
  };
  for (int64_t length : {7, 7, 7, 4, 9, 2, 12, 4, 7}) step_both(length);
  const std::vector<Tensor> a = eager_model->parameters(), b = compiled_model->parameters();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_LT((a[i] - b[i]).abs().max().item<double>(), 1e-5) << kernel << " parameter " << i;
  const Stats s = compiled_step.stats();
  EXPECT_EQ(s.compiles, 2) << compiled_step.explain();
  // Length 1, where a view of the one step has the bytes and shape of the
  // whole sequence (the trace records the sequence in its place: not the
  // same program): the right answer, from a compile of its own.
  for (int i = 0; i < 2; ++i) step_both(1);
  EXPECT_LE(compiled_step.stats().compiles, 3) << compiled_step.explain();
  EXPECT_EQ(s.recompile_reasons[0],
            "input 0 dim 0 became dynamic (7 -> 4); input 1 dim 0 became dynamic (7 -> 4)");
  // The compiled step calls the kernel, forward and backward, for each layer.
  const std::string llvm_ir = compiled_step.stage(compiler::Stage::LLVM);
  EXPECT_NE(llvm_ir.find(kernel + "_f32"), std::string::npos);
  EXPECT_NE(llvm_ir.find(kernel + "_backward_f32"), std::string::npos);
}

TEST(Dynamic, AnLstmTrainingStepOverChangingLengthsCompilesOnce) {
  expect_training_over_changing_lengths_compiles_once<nn::LSTM>("ember_lstm");
}

TEST(Dynamic, AGruTrainingStepOverChangingLengthsCompilesOnce) {
  expect_training_over_changing_lengths_compiles_once<nn::GRU>("ember_gru");
}

// A slice of a buffer to an input's length (nanoGPT's causal mask
// bias[:T, :T], a learned position table pos[:T]): its end is read at run
// time (Note [Sizes in a generalized graph]), so every length shares one
// compile, training the table too; a length past the buffer is eager's
// error, never a read past it.
TEST(Dynamic, ASliceOfABufferToAnInputsLengthCompilesOnce) {
  const Tensor i = arange(0, 16, 1, DType::Int64);
  const Tensor mask = i.unsqueeze(1).ge(i.unsqueeze(0));  // [16, 16], true on and below the diagonal
  const auto attend = [&](const std::vector<Tensor>& in) {
    const int64_t t = in[0].size(1);
    const Tensor keep = mask.slice(0, 0, t).slice(1, 0, t);
    return std::vector<Tensor>{
        in[0].matmul(in[0].transpose(1, 2)).masked_fill(keep.eq(false), -INFINITY).softmax(-1)};
  };
  auto f = compile(attend);
  const auto check = [&](int64_t t) {
    const Tensor x = randn({2, t, 8});
    EXPECT_LT((f({x})[0] - attend({x})[0]).abs().max().item<double>(), 1e-5) << "length " << t;
  };
  // A new length is admitted by a trace (its call runs eagerly); the
  // second round runs the dynamic code at each.
  for (int round = 0; round < 2; ++round)
    for (int64_t t : {5, 5, 7, 9, 6, 1, 15}) check(t);
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
  EXPECT_GE(f.stats().hits, 7) << f.explain();
  // The whole buffer: mask[:16] is mask itself, no slice op (a trace of
  // its own, as a view that coincides with its source is; README).
  check(16);
  EXPECT_LE(f.stats().compiles, 3) << f.explain();
  EXPECT_THROW(f({randn({2, 20, 8})}), Error) << "mask[:20] is [16, 16], as eager says";

  // A position table trained through pos[2:2+T]: its gradient is the
  // slice's, padded with zeros to the table (slice_backward to a run-time
  // length), from a start past 0.
  const auto make = [] {
    manual_seed(3);
    return randn({18, 8}).requires_grad_();
  };
  Tensor eager_pos = make(), compiled_pos = make();
  const auto step_of = [](Tensor pos) {
    return [pos](const std::vector<Tensor>& in) mutable {
      Tensor loss = (in[0] + pos.slice(0, 2, 2 + in[0].size(0))).pow(2).sum();
      loss.backward();
      {
        NoGradGuard no_grad;
        pos.sub_(pos.grad() * 0.01);
        pos.grad().zero_();
      }
      return std::vector<Tensor>{loss};
    };
  };
  auto eager_step = step_of(eager_pos);
  auto compiled_step = compile(step_of(compiled_pos));
  for (int round = 0; round < 2; ++round)
    for (int64_t t : {6, 6, 6, 3, 11, 16, 1}) {
      const Tensor x = randn({t, 8});
      const double want = eager_step({x})[0].item<double>(), got = compiled_step({x})[0].item<double>();
      ASSERT_NEAR(got, want, 1e-4 * std::abs(want)) << "length " << t;
    }
  EXPECT_LT((eager_pos - compiled_pos).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(compiled_step.stats().compiles, 2) << compiled_step.explain();
  EXPECT_GE(compiled_step.stats().hits, 7) << compiled_step.explain();
  EXPECT_THROW(compiled_step({randn({17, 8})}), Error);
}

TEST(Dynamic, CatAlongADynamicDimOrBesideOne) {
  // Features joined beside a `?` batch, and two batches of their own sizes joined along it.
  auto f = compile([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{cat({in[0], in[1].relu()}, 1), cat({in[0], in[2]}, 0)};
  });
  for (auto [n, m] : {std::pair<int64_t, int64_t>{8, 5}, {8, 5}, {8, 5}, {3, 2}, {1, 7}, {12, 1}}) {
    const Tensor x = randn({n, 4}), y = randn({n, 2}), z = randn({m, 4});
    expect_near(f({x, y, z}), {cat({x, y.relu()}, 1), cat({x, z}, 0)},
                std::to_string(n) + ", " + std::to_string(m));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
}

TEST(Dynamic, ViewsRegroupStaticDimsBesideADynamicOne) {
  // [n, 24] -> [n, 2, 3, 4] -> [n, 2, 12]: attention's head split and merge, with the batch dynamic.
  auto f = compile([](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    const int64_t n = x.size(0);
    return std::vector<Tensor>{(x.view({n, 2, 3, 4}).exp() * 2).view({n, 2, 12}), x.view({n * 24})};
  });
  for (int64_t n : {6, 6, 6, 3, 1, 11}) {
    const Tensor x = randn({n, 24});
    expect_near(f({x}), {(x.view({n, 2, 3, 4}).exp() * 2).view({n, 2, 12}), x.view({n * 24})},
                std::to_string(n));
  }
  EXPECT_EQ(f.stats().compiles, 2) << f.explain();
}

TEST(Dynamic, SlicesAndSelectsBesideADynamicDim) {
  // The q, k, v split of a [?, 3C] projection, a column, and the last row (from the end of the `?` dim).
  auto f = compile([](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    return std::vector<Tensor>{x.slice(1, 0, 4) * 2, x.slice(1, 4, 12, 2), x.select(1, 3), x.select(0, -1)};
  });
  for (int64_t n : {6, 6, 6, 3, 1, 9}) {
    const Tensor x = randn({n, 12});
    expect_near(f({x}), {x.slice(1, 0, 4) * 2, x.slice(1, 4, 12, 2), x.select(1, 3), x.select(0, -1)},
                std::to_string(n));
  }
  // The last row is read at an offset known only at run time, which is not lowered yet: 6, 3, 1 and 9
  // each compile on their own.
  EXPECT_EQ(f.stats().compiles, 4) << f.explain();
  auto g = compile([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].slice(1, 0, 4) + in[0].select(1, 3).unsqueeze(1)};
  });
  for (int64_t n : {6, 6, 6, 3, 1, 9}) {
    const Tensor x = randn({n, 12});
    expect_near(g({x}), {x.slice(1, 0, 4) + x.select(1, 3).unsqueeze(1)}, std::to_string(n));
  }
  EXPECT_EQ(g.stats().compiles, 2) << g.explain();
}

TEST(Dynamic, MarkedDimsAreDynamicFromTheFirstCompile) {
  Options options;
  options.dynamic_dims = {{0, 0}};
  auto f = compile(rows, options);
  const Tensor row = randn({64});
  for (int64_t n : {16, 16, 5, 5, 1, 33}) {
    const Tensor x = randn({n, 64});
    expect_near(f({x, row}), rows({x, row}), "batch " + std::to_string(n));
  }
  const Stats s = f.stats();
  EXPECT_EQ(s.compiles, 1) << f.explain();
  EXPECT_EQ(s.recompile_reasons, std::vector<std::string>{"dims marked dynamic"});
  EXPECT_NE(f.stage(compiler::Stage::Ember).find("tensor<?x64xf32>"), std::string::npos);

  options.dynamic_dims = {{3, 0}};  // no input 3: compiled per size, with the reason
  auto g = compile(rows, options);
  for (int64_t n : {16, 16}) g({randn({n, 64}), row});
  ASSERT_EQ(g.stats().recompile_reasons.size(), 1u);
  EXPECT_NE(g.stats().recompile_reasons[0].find("input 3 does not exist"), std::string::npos);
  EXPECT_EQ(g.stats().compiles, 1);
}

TEST(Dynamic, OffCompilesEachSize) {
  Options options;
  options.automatic_dynamic = false;
  auto f = compile(rows, options);
  const Tensor row = randn({64});
  for (int64_t n : {8, 8, 8, 5, 5, 5}) f({randn({n, 64}), row});
  EXPECT_EQ(f.stats().compiles, 2);
  EXPECT_EQ(f.stats().recompile_reasons[0], "input 0 dim 0: 8 -> 5");
}

}  // namespace
}  // namespace ember::jit
