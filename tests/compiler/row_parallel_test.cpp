// row_parallel_test.cpp - Note [Row-parallel graphs]: which traced graphs are
// cut into chunks of rows, what a chunk's graph is, and that chunked calls
// give the unchunked answer.
#include <gtest/gtest.h>

#include "ember/compiler/CompiledGraph.h"
#include "ember/compiler/RowParallel.h"
#include "ember/ember.h"
#include "ember/tracer/trace.h"

namespace ember::compiler {
namespace {

tracer::Graph traced(const tracer::TracedFn& fn, const std::vector<Tensor>& inputs) {
  return tracer::trace(fn, inputs).graph;
}

TEST(RowParallel, RowWiseGraphsSplitAndOthersDoNot) {
  const Tensor x = randn({4096, 64}), w = randn({64});
  const auto split = [&](const tracer::TracedFn& fn, const std::vector<Tensor>& in) {
    return row_split(traced(fn, in), 2, 1024).has_value();
  };
  EXPECT_TRUE(split([](auto& in) { return std::vector<Tensor>{(in[0] * 2).tanh() + 1}; }, {x}));
  EXPECT_TRUE(split([&](auto& in) { return std::vector<Tensor>{(in[0] * w).softmax(1)}; }, {x}))
      << "a per-feature operand broadcasts over the rows";
  EXPECT_TRUE(split([](auto& in) { return std::vector<Tensor>{in[0].sum(1, true) * in[0]}; }, {x}));
  EXPECT_FALSE(split([](auto& in) { return std::vector<Tensor>{in[0].softmax(0)}; }, {x}))
      << "softmax over the rows";
  EXPECT_FALSE(split([](auto& in) { return std::vector<Tensor>{in[0] - in[0].mean(0, true)}; }, {x}))
      << "a reduction over the rows";
  EXPECT_FALSE(split([](auto& in) { return std::vector<Tensor>{in[0].matmul(in[0].t())}; }, {x}))
      << "a matmul";
  EXPECT_FALSE(
      row_split(traced([](auto& in) { return std::vector<Tensor>{in[0] + 1}; }, {randn({16, 8})}), 2, 1024))
      << "too small to be worth the pool";
  EXPECT_FALSE(row_split(traced([](auto& in) { return std::vector<Tensor>{in[0] + 1}; }, {randn({4095, 64})}),
                         2, 1024))
      << "rows not divisible by the chunks";
  Tensor state = zeros({4096, 64});
  EXPECT_FALSE(split(
      [&](auto& in) {
        NoGradGuard no_grad;
        state.add_(in[0]);
        return std::vector<Tensor>{state * 1};
      },
      {x}))
      << "a graph with write-backs";
}

TEST(RowParallel, AChunksGraphIsTheGraphAtAFractionOfTheRows) {
  const Tensor x = randn({4096, 64}), w = randn({64});
  const tracer::Graph g = traced([&](auto& in) { return std::vector<Tensor>{(in[0] * w).softmax(1)}; }, {x});
  const auto split = row_split(g, 4, 1024);
  ASSERT_TRUE(split.has_value());
  EXPECT_EQ(split->rows, 4096);
  EXPECT_EQ(split->chunks, 4);
  const tracer::Graph chunk = chunk_graph(g, *split);
  EXPECT_EQ(chunk.values[chunk.inputs[0]].shape, (Shape{1024, 64}));
  EXPECT_EQ(chunk.values[chunk.outputs[0]].shape, (Shape{1024, 64}));
  EXPECT_EQ(chunk.values[chunk.captured_values[0]].shape, (Shape{64})) << "the per-feature weight is not cut";
}

TEST(RowParallel, ChunkedCallsGiveTheUnchunkedAnswer) {
  set_num_threads(2);
  const Tensor x = randn({4096, 64}), w = randn({64});
  auto fn = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(in[0] * w).softmax(1) + in[0].tanh()};
  };
  auto t = tracer::trace(fn, {x});
  auto compiled = CompiledGraph::compile(t.graph);
  EXPECT_EQ(compiled->row_chunks(), 2);
  const auto want = t.outputs[0].to_vector<float>(), got = compiled->run({x})[0].to_vector<float>();
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 + 1e-5 * std::abs(want[i])) << i;
}

}  // namespace
}  // namespace ember::compiler
