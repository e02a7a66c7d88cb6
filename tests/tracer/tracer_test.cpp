// tracer_test.cpp - tracing every op of the table and replaying it matches
// eager; a traced training step replays exactly as eager steps do; guard
// keys, data-dependence, functionalization and the dumps.
#include <gtest/gtest.h>

#include "ember/dispatch.h"
#include "ember/meta.h"
#include "ember/tracer/guard.h"
#include "ember/tracer/interpreter.h"
#include "ember/tracer/trace.h"
#include "op_samples.h"

namespace ember::tracer {
namespace {

using testing::op_sample;

class TraceSweep : public ::testing::TestWithParam<int> {};

TEST_P(TraceSweep, ReplayMatchesEager) {
  const OpId op = static_cast<OpId>(GetParam());
  manual_seed(11);
  const auto sample = op_sample(op);
  ASSERT_TRUE(sample.has_value()) << op_name(op) << " has no sample call in op_samples.h";
  manual_seed(5);  // the random ops draw the same numbers in both runs
  TraceResult t = testing::trace_sample(op, *sample);
  ASSERT_TRUE(t.graph.replayable()) << t.graph.to_text();
  ASSERT_EQ(t.graph.nodes.size(), 1u) << t.graph.to_text();
  EXPECT_EQ(t.graph.nodes[0].op, op);
  manual_seed(5);
  const auto replayed = run_graph(t.graph, sample->inputs);
  ASSERT_EQ(replayed.size(), t.outputs.size());
  for (size_t i = 0; i < replayed.size(); ++i) {
    EXPECT_EQ(replayed[i].sizes(), t.outputs[i].sizes());
    EXPECT_EQ(replayed[i].dtype(), t.outputs[i].dtype());
    EXPECT_EQ(replayed[i].to_vector<double>(), t.outputs[i].to_vector<double>())
        << op_name(op) << " output " << i;
  }
}

// Note [One set of shape rules]: the rule alone (infer_meta) gives the
// shapes and dtypes the kernel produced, for every op's sample call, and for
// the same call in float64 where the op takes floats.
TEST_P(TraceSweep, TheShapeRuleGivesTheKernelsOutputs) {
  const OpId op = static_cast<OpId>(GetParam());
  manual_seed(11);
  const auto sample = op_sample(op);
  ASSERT_TRUE(sample.has_value());
  std::vector<TensorMeta> in;
  for (const Tensor& t : sample->inputs) in.push_back(meta_of(t));
  TensorMeta out[2];
  infer_meta(op, in.data(), static_cast<int>(in.size()), sample->attrs, out);
  const auto eager = testing::run_op(op, sample->inputs, sample->attrs);
  for (size_t k = 0; k < eager.size(); ++k) {
    EXPECT_EQ(out[k].sizes, eager[k].sizes()) << op_name(op) << " output " << k;
    EXPECT_EQ(out[k].dtype, eager[k].dtype()) << op_name(op) << " output " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, TraceSweep, ::testing::Range(0, kNumOps),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(op_name(static_cast<OpId>(info.param)));
                         });

std::shared_ptr<nn::Sequential> make_mlp() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(8, 16), std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(16, 3));
}

TEST(Tracer, ReplayedTrainingStepUpdatesParametersExactlyAsEager) {
  manual_seed(0);
  auto eager = make_mlp(), traced = make_mlp();
  for (size_t i = 0; i < eager->parameters().size(); ++i) {
    NoGradGuard no_grad;
    traced->parameters()[i].copy_(eager->parameters()[i]);
  }
  optim::SGD eager_opt(eager->parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::SGD traced_opt(traced->parameters(), {.lr = 0.1, .momentum = 0.9});
  const Tensor x = randn({5, 8}), y = tensor<int64_t>({0, 2, 1, 1, 0});
  auto step = [](nn::Sequential& m, optim::SGD& opt, const Tensor& in, const Tensor& target) {
    opt.zero_grad();
    Tensor loss = nn::cross_entropy(m(in), target);
    loss.backward();
    opt.step();
    return loss;
  };
  // One eager step each first, so that the momentum buffers exist (state made
  // during a traced call is not state a replay can restore).
  step(*eager, eager_opt, x, y);
  step(*traced, traced_opt, x, y);
  TraceResult t = trace(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{step(*traced, traced_opt, in[0], in[1])};
      },
      {x, y});
  step(*eager, eager_opt, x, y);  // the traced call itself ran eagerly
  ASSERT_TRUE(t.graph.replayable()) << t.graph.to_text();
  for (const Node& n : t.graph.nodes)
    EXPECT_NE(std::string(n.loc.file_name()).find("tracer_test.cpp"), std::string::npos)
        << op_name(n.op) << " reports " << format_loc(n.loc) << ", not the user's line";
  EXPECT_FALSE(t.graph.writebacks.empty()) << "the parameter and momentum updates are written back";
  EXPECT_FALSE(t.graph.grad_writes.empty()) << "the .grad of each parameter is set";
  for (int i = 0; i < 5; ++i) {
    const Tensor eager_loss = step(*eager, eager_opt, x, y);
    const Tensor replay_loss = run_graph(t.graph, {x, y})[0];
    EXPECT_EQ(replay_loss.item<float>(), eager_loss.item<float>()) << "step " << i;
  }
  const auto pe = eager->named_parameters(), pt = traced->named_parameters();
  for (size_t i = 0; i < pe.size(); ++i) {
    EXPECT_EQ(pe[i].second.to_vector<float>(), pt[i].second.to_vector<float>()) << pe[i].first;
    ASSERT_TRUE(pt[i].second.grad().defined()) << pt[i].first;
    EXPECT_EQ(pe[i].second.grad().to_vector<float>(), pt[i].second.grad().to_vector<float>())
        << pe[i].first << ".grad";
  }
}

TEST(Tracer, CapturedTensorsAreReadByReference) {
  Tensor w = ones({3});
  TraceResult t =
      trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * w}; }, {full({3}, 2.0)});
  ASSERT_EQ(t.graph.captured.size(), 1u);
  EXPECT_TRUE(t.graph.captured[0].is_same(w));
  w.fill_(5);  // the next replay sees the new values
  EXPECT_EQ(run_graph(t.graph, {full({3}, 2.0)})[0].to_vector<float>(), (std::vector<float>{10, 10, 10}));
}

TEST(Tracer, ConstantsMadeInsideTheCallAreBaked) {
  TraceResult t = trace(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{in[0] + tensor<float>({1, 2, 3}) * 2.0};
      },
      {zeros({3})});
  EXPECT_EQ(t.graph.constants.size(), 1u);
  EXPECT_TRUE(t.graph.captured.empty());
  EXPECT_EQ(run_graph(t.graph, {ones({3})})[0].to_vector<float>(), (std::vector<float>{3, 5, 7}));
}

TEST(Tracer, InPlaceOpsAreFunctionalizedAndWrittenBack) {
  Tensor state = zeros({2});
  TraceResult t = trace(
      [&](const std::vector<Tensor>& in) {
        state.add_(in[0]);  // a captured tensor updated in place
        Tensor arg = in[0];
        arg.mul_(2);  // an input updated in place
        return std::vector<Tensor>{state * 1};
      },
      {ones({2})});
  ASSERT_TRUE(t.graph.replayable()) << t.graph.to_text();
  EXPECT_EQ(t.graph.writebacks.size(), 2u) << t.graph.to_text();
  for (const Node& n : t.graph.nodes) EXPECT_NE(n.op, OpId::full_like);
  EXPECT_EQ(state.to_vector<float>(), (std::vector<float>{1, 1}));
  Tensor arg = full({2}, 3.0);
  const auto out = run_graph(t.graph, {arg});
  EXPECT_EQ(state.to_vector<float>(), (std::vector<float>{4, 4}));
  EXPECT_EQ(out[0].to_vector<float>(), (std::vector<float>{4, 4}));
  EXPECT_EQ(arg.to_vector<float>(), (std::vector<float>{6, 6}));
}

TEST(Tracer, AliasesSeeInPlaceWritesAsInEager) {
  Tensor state = zeros({2});
  TraceResult t = trace(
      [&](const std::vector<Tensor>& in) {
        Tensor alias = state.detach();  // a new TensorImpl over the same buffer
        state.add_(in[0]);
        return std::vector<Tensor>{alias * 1};  // eager: sees the write
      },
      {ones({2})});
  EXPECT_EQ(t.outputs[0].to_vector<float>(), (std::vector<float>{1, 1}));
  ASSERT_TRUE(t.graph.constants.empty()) << "the alias is not baked: " << t.graph.to_text();
  EXPECT_EQ(run_graph(t.graph, {ones({2})})[0].to_vector<float>(), (std::vector<float>{2, 2}));
}

TEST(Tracer, InPlaceWritesIntoViewsAreReportedNotReplayedWrong) {
  Tensor buffer = zeros({2, 3});
  TraceResult t = trace(
      [&](const std::vector<Tensor>& in) {
        Tensor row = buffer[0];
        row.add_(in[0]);
        return std::vector<Tensor>{buffer.sum()};
      },
      {ones({3})});
  EXPECT_FALSE(t.graph.replayable());
  EXPECT_NE(t.graph.unsupported.at(0).find("view"), std::string::npos) << t.graph.unsupported[0];
  EXPECT_THROW(run_graph(t.graph, {ones({3})}), Error);
}

// Note [Writes through one alias, reads through another]: a view made
// before the call, of a buffer written in place during it, is read after
// the write: eager sees the new values, a replay would not.
// The test asserts source lines: clang-format must not move calls from where __LINE__ counts them.
// clang-format off
TEST(Tracer, ReadsThroughAnotherViewOfAWrittenBufferAreReported) {
  Tensor base = zeros({4});
  Tensor square = base.view({2, 2});  // another geometry over the same buffer
  TraceResult t = trace([&](const std::vector<Tensor>& in) {
    NoGradGuard no_grad;
    base.add_(in[0]);
    return std::vector<Tensor>{square.mul(1)};
  }, {ones({4})});
  const int line = __LINE__ - 2;
  EXPECT_EQ(t.outputs[0].to_vector<float>(), (std::vector<float>{1, 1, 1, 1}));
  ASSERT_FALSE(t.graph.replayable()) << t.graph.to_text();
  EXPECT_NE(t.graph.unsupported[0].find("written in place earlier"), std::string::npos) << t.graph.unsupported[0];
  EXPECT_NE(t.graph.unsupported[0].find("tracer_test.cpp:" + std::to_string(line)), std::string::npos)
      << t.graph.unsupported[0];
  // Read before the write, and views made from the new value, are fine.
  TraceResult ok = trace([&](const std::vector<Tensor>& in) {
    NoGradGuard no_grad;
    Tensor before = square * 1;
    base.add_(in[0]);
    return std::vector<Tensor>{before + base.view({2, 2})};
  }, {ones({4})});
  ASSERT_TRUE(ok.graph.replayable()) << ok.graph.unsupported.at(0);
  base.zero_();
  EXPECT_EQ(run_graph(ok.graph, {ones({4})})[0].to_vector<float>(), (std::vector<float>{1, 1, 1, 1}));
  EXPECT_EQ(base.to_vector<float>(), (std::vector<float>{1, 1, 1, 1}));
}
// clang-format on

// The test asserts source lines: clang-format must not move calls from where __LINE__ counts them.
// clang-format off
TEST(Tracer, DataDependentReadsAreMarkedWithTheLine) {
  TraceResult t = trace([](const std::vector<Tensor>& in) {
    const double m = in[0].max().item<double>();  // a C++ decision on a value
    return std::vector<Tensor>{m > 0 ? in[0] * 2 : in[0]};
  }, {ones({3})});
  const int line = __LINE__ - 3;
  EXPECT_TRUE(t.graph.data_dependent());
  EXPECT_EQ(t.graph.data_reads.at(0), "tracer_test.cpp:" + std::to_string(line));
  EXPECT_FALSE(t.graph.replayable());
  try {
    run_graph(t.graph, {ones({3})});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tracer_test.cpp:" + std::to_string(line)), std::string::npos) << e.what();
  }
}
// clang-format on

TEST(Tracer, ReplayChecksItsInputs) {
  TraceResult t =
      trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].exp()}; }, {ones({3})});
  EXPECT_THROW(run_graph(t.graph, {ones({4})}), Error);
  EXPECT_THROW(run_graph(t.graph, {ones({3}, DType::Float64)}), Error);
  EXPECT_THROW(run_graph(t.graph, {}), Error);
}

// The test asserts source lines: clang-format must not move calls from where __LINE__ counts them.
// clang-format off
TEST(Tracer, TextAndDotDumpsShowOpsShapesAndLines) {
  auto model = make_mlp();
  TraceResult t = trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0]).relu()}; },
                        {randn({4, 8})});
  const int line = __LINE__ - 2;
  const std::string text = t.graph.to_text();
  EXPECT_NE(text.find("graph(%0: f32[4, 8])"), std::string::npos) << text;
  EXPECT_NE(text.find("= captured 0"), std::string::npos) << text;
  EXPECT_NE(text.find("f32[4, 16] = matmul("), std::string::npos) << text;
  EXPECT_NE(text.find("= relu("), std::string::npos) << text;
  EXPECT_NE(text.find("# tracer_test.cpp:" + std::to_string(line)), std::string::npos) << "the user's line: " << text;
  EXPECT_NE(text.find("return %"), std::string::npos) << text;
  // Every op, including those issued inside the layers, names the user's line
  // (Note [The user's line]).
  EXPECT_EQ(text.find("layers.cpp"), std::string::npos) << text;
  EXPECT_EQ(text.find("ops.cpp"), std::string::npos) << text;
  const std::string dot = t.graph.to_dot();
  EXPECT_EQ(dot.rfind("digraph ember {", 0), 0u) << dot;
  EXPECT_NE(dot.find("matmul"), std::string::npos);
  EXPECT_NE(dot.find("->"), std::string::npos);
  EXPECT_EQ(dot.back(), '\n');
  EXPECT_EQ(std::count(dot.begin(), dot.end(), '{'), std::count(dot.begin(), dot.end(), '}'));
}
// clang-format on

TEST(Guard, KeysCompareHashAndExplainTheirDifferences) {
  Tensor w = ones({3, 3});
  const GuardKey a = make_guard_key({zeros({128, 784})}, {w}, true);
  const GuardKey same = make_guard_key({zeros({128, 784})}, {w}, true);
  EXPECT_EQ(a, same);
  EXPECT_EQ(a.hash(), same.hash());
  EXPECT_EQ(a.diff(same), "");
  const GuardKey smaller = make_guard_key({zeros({64, 784})}, {w}, true);
  EXPECT_NE(a, smaller);
  EXPECT_NE(a.hash(), smaller.hash());
  EXPECT_EQ(a.diff(smaller), "input 0 dim 0: 128 -> 64");
  const GuardKey other = make_guard_key({zeros({128, 784}, DType::Float64)}, {ones({3, 3})}, false);
  const std::string d = a.diff(other);
  EXPECT_NE(d.find("input 0 dtype: float32 -> float64"), std::string::npos) << d;
  EXPECT_NE(d.find("mode: train -> eval"), std::string::npos) << d;
  EXPECT_NE(d.find("captured 0: another tensor"), std::string::npos) << d;
  GuardKey no_grad_key;
  {
    NoGradGuard no_grad;
    no_grad_key = make_guard_key({zeros({128, 784})}, {w}, true);
  }
  EXPECT_EQ(a.diff(no_grad_key), "grad mode: on -> off");
  EXPECT_NE(a.to_string().find("float32[128, 784]"), std::string::npos) << a.to_string();
  std::unordered_map<GuardKey, int, GuardKeyHash> cache{{a, 1}};
  EXPECT_EQ(cache.count(same), 1u);
  EXPECT_EQ(cache.count(smaller), 0u);
}

}  // namespace
}  // namespace ember::tracer
