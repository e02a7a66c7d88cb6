// compiled_graph_test.cpp - traced elementwise graphs lowered through MLIR and
// LLVM to native code: the same numbers as eager (within the tolerance of
// MLIR's polynomial approximations), one fused loop nest, destination passing.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "ember/collectives.h"
#include "ember/compiler/CompiledGraph.h"
#include "ember/ember.h"
#include "ember/tracer/trace.h"

namespace ember::compiler {
namespace {

// max |a - b| / (atol + rtol |b|) <= 1 elementwise.
void expect_close(const Tensor& got, const Tensor& want, double atol, double rtol) {
  ASSERT_EQ(got.sizes(), want.sizes());
  ASSERT_EQ(got.dtype(), want.dtype());
  const auto g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_NEAR(g[i], w[i], atol + rtol * std::abs(w[i])) << "element " << i;
  }
}

// WORKLOADS.md's ew_chain: y = tanh(x * 1.5 + 0.5) * sigmoid(x) + x
std::vector<Tensor> ew_chain(const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  return {(x * 1.5 + 0.5).tanh() * x.sigmoid() + x};
}

TEST(CompiledGraph, EwChainMatchesEagerAndFusesIntoOneLoopNest) {
  manual_seed(0);
  for (int64_t n : {int64_t{1}, int64_t{37}, int64_t{100000}}) {
    const Tensor x = rand({n}) * 8 - 4;
    auto traced = tracer::trace(ew_chain, {x});
    auto compiled = CompiledGraph::compile(traced.graph);
    const auto out = compiled->run({x});
    ASSERT_EQ(out.size(), 1u);
    // MLIR's tanh/exp polynomials and ember's own differ by a few ulp.
    expect_close(out[0], traced.outputs[0], 1e-6, 1e-5);
    const std::string linalg = compiled->stage(Stage::Linalg);
    size_t generics = 0;
    for (size_t p = linalg.find("linalg.generic"); p != std::string::npos;
         p = linalg.find("linalg.generic", p + 1))
      ++generics;
    EXPECT_EQ(generics, 1u) << "six elementwise ops fuse into one loop nest:\n" << linalg;
    EXPECT_EQ(linalg.find("math.tanh") != std::string::npos, true) << linalg;
    const std::string llvm = compiled->stage(Stage::LLVM);
    EXPECT_EQ(llvm.find("math.tanh"), std::string::npos) << "tanh is a polynomial by then";
    EXPECT_EQ(llvm.find("@malloc"), std::string::npos) << "outputs are written into runtime buffers:\n"
                                                       << llvm;
    EXPECT_EQ(compiled->stage(Stage::Buffers).find("memref.alloc"), std::string::npos);
    EXPECT_GT(compiled->compile_ms(), 0);
  }
}

TEST(CompiledGraph, BroadcastingPromotionAndSeveralOutputs) {
  manual_seed(1);
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor& a = in[0];  // [4, 3] f32
    const Tensor& b = in[1];  // [3] f64
    const Tensor& i = in[2];  // [4, 1] int32
    return std::vector<Tensor>{(a + b).exp(), i.gt(a), where(a.gt(0), a, b), i / 2,
                               (a - b).relu().clamp(0.1, 0.5)};
  };
  const std::vector<Tensor> in = {randn({4, 3}), randn({3}, DType::Float64),
                                  randint(-3, 3, {4, 1}, DType::Int32)};
  auto traced = tracer::trace(fn, in);
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto out = compiled->run(in);
  ASSERT_EQ(out.size(), traced.outputs.size());
  for (size_t k = 0; k < out.size(); ++k) expect_close(out[k], traced.outputs[k], 1e-12, 1e-6);
}

TEST(CompiledGraph, CapturedTensorsAreReadAtCallTimeAndWrittenBack) {
  Tensor w = full({3}, 2.0);
  Tensor state = zeros({3});
  auto fn = [&](const std::vector<Tensor>& in) {
    NoGradGuard no_grad;
    state.add_(in[0] * w);
    return std::vector<Tensor>{in[0] + w};
  };
  auto traced = tracer::trace(fn, {ones({3})});
  auto compiled = CompiledGraph::compile(traced.graph);
  w.fill_(10);  // seen by the next native call
  const auto out = compiled->run({ones({3})});
  EXPECT_EQ(out[0].to_vector<float>(), (std::vector<float>{11, 11, 11}));
  EXPECT_EQ(state.to_vector<float>(), (std::vector<float>{12, 12, 12})) << "2 from the eager trace, then 10";
}

// Note [In-place write-backs]: the new value is computed into the target's
// own buffer (no copy, no new buffer), which every view of it sees, as with
// eager's add_; a target that the call also reads through another argument
// goes through a copy, and the answer is eager's either way.
TEST(CompiledGraph, WriteBacksAreComputedInPlaceUnlessTheTargetIsAliased) {
  Tensor state = zeros({4});
  const Tensor view_of_state = state.view({2, 2});
  auto fn = [&](const std::vector<Tensor>& in) {
    NoGradGuard no_grad;
    state.mul_(0.5).add_(in[0]);
    return std::vector<Tensor>{in[0] * 2};
  };
  auto compiled = CompiledGraph::compile(tracer::trace(fn, {ones({4})}).graph);
  EXPECT_EQ(compiled->stage(Stage::Buffers).find("memref.copy"), std::string::npos)
      << compiled->stage(Stage::Buffers);
  const void* buffer = state.data_ptr();
  const uint32_t version = state.version();
  compiled->run({full({4}, 3.0)});
  EXPECT_EQ(state.data_ptr(), buffer);
  EXPECT_GT(state.version(), version) << "an in-place write, as eager's";
  EXPECT_EQ(state.to_vector<float>(), (std::vector<float>{3.5, 3.5, 3.5, 3.5}))
      << "1 from the trace, halved, plus 3";
  EXPECT_EQ(view_of_state.to_vector<float>(), (std::vector<float>{3.5, 3.5, 3.5, 3.5}));

  // The state passed as the input too: the code reads in[0] while it writes
  // state, so the write goes through a copy. Eager: 0.5 s + s = 1.5 s.
  compiled->run({state});
  EXPECT_EQ(state.to_vector<float>(), (std::vector<float>{5.25, 5.25, 5.25, 5.25}));
}

// Note [Pre-packed weights]: a captured weight unchanged between calls is
// used from a copy in oneDNN's layout from the second call on; any change
// through ember (an in-place op, or bump_version() after a raw write) is
// seen by the next call.
TEST(CompiledGraph, UnchangedWeightsArePrePackedAndChangesAreSeen) {
  manual_seed(3);
  Tensor w = rand({96, 128});
  auto fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(w.t())}; };
  const Tensor x = rand({64, 128});
  auto compiled = CompiledGraph::compile(tracer::trace(fn, {x}).graph);
  expect_close(compiled->run({x})[0], fn({x})[0], 1e-5, 1e-5);
  EXPECT_EQ(compiled->packed_weights(), 0) << "first sight of w: not packed yet";
  expect_close(compiled->run({x})[0], fn({x})[0], 1e-5, 1e-5);
  EXPECT_EQ(compiled->packed_weights(), 1);
  {
    NoGradGuard no_grad;
    w.mul_(2);
  }
  expect_close(compiled->run({x})[0], fn({x})[0], 1e-5, 1e-5);
  static_cast<float*>(w.data_ptr())[0] += 100;  // raw write, then said
  w.bump_version();
  expect_close(compiled->run({x})[0], fn({x})[0], 1e-5, 1e-5);
  expect_close(compiled->run({x})[0], fn({x})[0], 1e-5, 1e-5);  // packed again, from the new values
  EXPECT_EQ(compiled->packed_weights(), 1);

  // A weight the call itself updates (a training step's) is never packed.
  Tensor v = rand({96, 128});
  auto step = [&](const std::vector<Tensor>& in) {
    Tensor y = in[0].matmul(v.t());
    NoGradGuard no_grad;
    v.mul_(0.5);
    return std::vector<Tensor>{y};
  };
  Tensor v_eager = v.clone();
  auto step_eager = [&](const std::vector<Tensor>& in) {
    Tensor y = in[0].matmul(v_eager.t());
    v_eager.mul_(0.5);
    return std::vector<Tensor>{y};
  };
  step_eager({x});
  auto compiled_step = CompiledGraph::compile(tracer::trace(step, {x}).graph);
  for (int call = 0; call < 3; ++call)
    expect_close(compiled_step->run({x})[0], step_eager({x})[0], 1e-5, 1e-5);
  EXPECT_EQ(compiled_step->packed_weights(), 0);
}

TEST(CompiledGraph, ReductionsMatchEager) {
  manual_seed(2);
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];  // [5, 4, 3] f32
    return std::vector<Tensor>{x.sum({1, 2}),   x.mean({0, 2}, true), x.amax(),        x.amin({1}, true),
                               x.exp().sum(-1), in[1].sum(),          in[2].amax({0}), (x * 2).mean()};
  };
  const std::vector<Tensor> in = {randn({5, 4, 3}), rand({7}).gt(0.5), randint(-50, 50, {6, 2})};
  auto traced = tracer::trace(fn, in);
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto out = compiled->run(in);
  ASSERT_EQ(out.size(), traced.outputs.size());
  // Eager sums floats in double, compiled code in float: 1e-5 relative.
  for (size_t k = 0; k < out.size(); ++k) expect_close(out[k], traced.outputs[k], 1e-6, 1e-5);
  EXPECT_EQ(out[5].dtype(), DType::Int64) << "a bool sum counts in int64";
}

TEST(CompiledGraph, SoftmaxAndLayerNormDecomposeAndMatchEager) {
  manual_seed(4);
  const Tensor w = rand({16}) + 0.5, b = randn({16});
  auto fn = [&](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];  // [8, 16]
    return std::vector<Tensor>{x.softmax(-1), x.log_softmax(0), layer_norm(x, {16}, w, b),
                               layer_norm(x, {16}).softmax(-1), layer_norm(in[1], {3, 4})};
  };
  const std::vector<Tensor> in = {randn({8, 16}) * 3, randn({2, 3, 4})};
  auto traced = tracer::trace(fn, in);
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto out = compiled->run(in);
  ASSERT_EQ(out.size(), traced.outputs.size());
  for (size_t k = 0; k < out.size(); ++k) expect_close(out[k], traced.outputs[k], 1e-5, 1e-5);
}

// Rows longer than 512 are computed in chunks of 64, 32 or 16 lanes (Note
// [Rows in chunks of registers]); 1000 splits into none of those and stays
// one vector per row.
TEST(CompiledGraph, LongRowsRunInChunksAndMatchEager) {
  manual_seed(5);
  for (const int64_t row : {1024, 544, 528, 1000}) {
    const Tensor w = rand({row}) + 0.5, b = randn({row});
    auto fn = [&](const std::vector<Tensor>& in) {
      const Tensor& x = in[0];
      return std::vector<Tensor>{x.softmax(-1), x.log_softmax(-1), layer_norm(x, {row}, w, b).softmax(-1),
                                 x.sum(-1) + x.amax({-1}), (x * x).mean(-1, true) * x};
    };
    const std::vector<Tensor> in = {randn({6, row}) * 3};
    auto traced = tracer::trace(fn, in);
    auto compiled = CompiledGraph::compile(traced.graph);
    const auto out = compiled->run(in);
    ASSERT_EQ(out.size(), traced.outputs.size());
    for (size_t k = 0; k < out.size(); ++k) {
      SCOPED_TRACE("row " + std::to_string(row) + ", output " + std::to_string(k));
      expect_close(out[k], traced.outputs[k], 1e-5, 1e-5);
    }
    const std::string& llvm = compiled->stage(Stage::LLVM);
    const std::string whole_row = "<" + std::to_string(row) + " x float>";
    if (row == 1000) {
      EXPECT_NE(llvm.find(whole_row), std::string::npos) << "1000 does not split: whole rows";
    } else {
      EXPECT_EQ(llvm.find(whole_row), std::string::npos) << "row " << row << " was not chunked";
      const int64_t chunk = row % 64 == 0 ? 64 : row % 32 == 0 ? 32 : 16;
      EXPECT_NE(llvm.find("<" + std::to_string(chunk) + " x float>"), std::string::npos) << row;
    }
  }
}

// all_reduce communicates (Note [Collectives in compiled code]): compiled
// code calls the runtime for it even when nothing reads its result, once
// per op, in the traced order, and never fused into its neighbours. (A
// world of one here: the call copies; tests/distributed runs it on ranks.)
TEST(CompiledGraph, CollectivesAreNeverRemovedReorderedOrFused) {
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor a = in[0] * 2;
    (void)all_reduce_op(a, AllReduceOp::Max);  // result unused: still a call
    const Tensor r = all_reduce_op(in[1], AllReduceOp::Mean);
    return std::vector<Tensor>{(a.exp() + r.sum()) * 3};
  };
  const std::vector<Tensor> in = {randn({4, 5}), randn({3})};
  auto traced = tracer::trace(fn, in);
  auto compiled = CompiledGraph::compile(traced.graph);
  expect_close(compiled->run(in)[0], traced.outputs[0], 1e-5, 1e-5);
  const std::string& buffers = compiled->stage(Stage::Buffers);
  const size_t first = buffers.find("call @ember_all_reduce_f32"),
               second = buffers.find("call @ember_all_reduce_f32", first + 1);
  ASSERT_NE(first, std::string::npos) << "the unused all-reduce was removed:\n" << buffers;
  ASSERT_NE(second, std::string::npos) << buffers;
  EXPECT_EQ(buffers.find("call @ember_all_reduce_f32", second + 1), std::string::npos) << "one call per op";
  // In the traced order: the max (op 2) first, then the mean (op 1).
  const std::string& ember = compiled->stage(Stage::Ember);
  const size_t max_at = ember.find("ember.all_reduce"), mean_at = ember.find("ember.all_reduce", max_at + 1);
  ASSERT_NE(mean_at, std::string::npos) << ember;
  EXPECT_NE(ember.substr(max_at, 80).find("op = 2"), std::string::npos) << ember;
  EXPECT_NE(ember.substr(mean_at, 80).find("op = 1"), std::string::npos) << ember;
}

TEST(CompiledGraph, AnMlpForwardMatchesEager) {
  manual_seed(5);
  auto model =
      std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(20, 32), std::make_shared<nn::ReLU>(),
                                       std::make_shared<nn::Linear>(32, 10));
  const Tensor x = randn({16, 20});
  NoGradGuard no_grad;
  auto traced = tracer::trace(
      [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0]).softmax(-1)}; }, {x});
  auto compiled = CompiledGraph::compile(traced.graph);
  expect_close(compiled->run({x})[0], traced.outputs[0], 1e-6, 1e-5);
  // Linear's x @ W.t() is one transposed matmul (no copy of W), run by BLAS.
  EXPECT_NE(compiled->stage(Stage::Linalg).find("linalg.matmul_transpose_b"), std::string::npos);
  EXPECT_EQ(compiled->stage(Stage::Linalg).find("linalg.transpose"), std::string::npos);
  EXPECT_NE(compiled->stage(Stage::Buffers).find("call @cblas_sgemm"), std::string::npos);
}

TEST(CompiledGraph, ConvolutionAndPoolingMatchEager) {
  manual_seed(6);
  const Tensor w = randn({4, 3, 3, 3}), b = randn({4}), w2 = randn({2, 3, 2, 2});
  auto fn = [&](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];  // [2, 3, 9, 9]
    return std::vector<Tensor>{
        conv2d(x, w, b, {.stride = {2, 2}, .padding = {1, 1}}),
        conv2d(x, w2, Tensor(), {.stride = {1, 1}, .padding = {0, 0}, .dilation = {2, 2}}),
        max_pool2d(x,
                   {.kernel = {3, 3}, .stride = std::make_pair(int64_t{2}, int64_t{2}), .padding = {1, 1}}),
        avg_pool2d(x,
                   {.kernel = {2, 2}, .stride = std::make_pair(int64_t{2}, int64_t{2}), .padding = {1, 1}})};
  };
  const std::vector<Tensor> in = {randn({2, 3, 9, 9})};
  auto traced = tracer::trace(fn, in);
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto out = compiled->run(in);
  ASSERT_EQ(out.size(), traced.outputs.size());
  for (size_t k = 0; k < out.size(); ++k) expect_close(out[k], traced.outputs[k], 1e-5, 1e-5);
}

TEST(CompiledGraph, IndexReductionsKeepEagersRulesForNaNAndTies) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Ties: the first index; a NaN: the first NaN, value NaN.
  const Tensor x = tensor<float>({1, 3, 3, 0, 2, nan, 5, nan, -1, 4, 4, 4}, {3, 4});
  auto fn = [](const std::vector<Tensor>& in) {
    auto [mx, imx] = in[0].max(1);
    auto [mn, imn] = in[0].min(0, /*keepdim=*/true);
    return std::vector<Tensor>{mx, imx, mn, imn, in[0].argmax(1), in[0].argmin(1)};
  };
  auto traced = tracer::trace(fn, {x});
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto out = compiled->run({x});
  for (size_t k = 0; k < out.size(); ++k) {
    const auto got = out[k].to_vector<double>(), want = traced.outputs[k].to_vector<double>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::isnan(want[i]))
        EXPECT_TRUE(std::isnan(got[i])) << "output " << k << " element " << i;
      else
        EXPECT_EQ(got[i], want[i]) << "output " << k << " element " << i;
    }
  }
}

TEST(CompiledGraph, AnEmbeddingIndexOutOfRangeIsAnError) {
  const Tensor table = randn({5, 3});
  auto fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{embedding(table, in[0])}; };
  auto traced = tracer::trace(fn, {tensor<int64_t>({0, 4, 2}, {3})});
  auto compiled = CompiledGraph::compile(traced.graph);
  EXPECT_EQ(compiled->run({tensor<int64_t>({4, 1, 0}, {3})})[0].to_vector<float>(),
            embedding(table, tensor<int64_t>({4, 1, 0}, {3})).to_vector<float>());
  try {
    compiled->run({tensor<int64_t>({0, 5, 1}, {3})});
    FAIL() << "index 5 of 5 rows was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("embedding: an index is outside [0, 5)"), std::string::npos)
        << e.what();
  }
}

TEST(CompiledGraph, RowParallelGraphsRunInChunksAndMatchEager) {
  manual_seed(7);
  const Tensor w = rand({512}) + 0.5, b = randn({512});
  // Row by row: layer_norm then softmax over the last dim, and a row sum.
  auto rows = [&](const std::vector<Tensor>& in) {
    const Tensor y = layer_norm(in[0], {512}, w, b).softmax(-1);
    return std::vector<Tensor>{y, (y * in[0]).sum(1, /*keepdim=*/true)};
  };
  const std::vector<Tensor> in = {randn({256, 512})};
  auto traced = tracer::trace(rows, in);
  auto compiled = CompiledGraph::compile(traced.graph);
  EXPECT_GE(compiled->row_chunks(), 2);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const auto out = compiled->run(in);
    for (size_t k = 0; k < out.size(); ++k) expect_close(out[k], traced.outputs[k], 1e-5, 1e-5);
  }
  // A reduction over the rows is not row by row: one chunk, still right.
  auto columns = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].softmax(0) * 2}; };
  auto traced_columns = tracer::trace(columns, in);
  auto whole = CompiledGraph::compile(traced_columns.graph);
  EXPECT_EQ(whole->row_chunks(), 1);
  expect_close(whole->run(in)[0], traced_columns.outputs[0], 1e-5, 1e-5);
}

// Large loops of a graph that is not row by row (a transpose, a reduction
// over the rows) run on the OpenMP pool: the same numbers at 1 and 2 threads.
TEST(CompiledGraph, LargeLoopsRunOnThePoolAndMatchEager) {
  manual_seed(8);
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];                  // [1024, 512]
    const Tensor y = (x.t() * 2 + 1).tanh();  // [512, 1024]
    return std::vector<Tensor>{y, y.sum(0), x * x.sum(0)};
  };
  const std::vector<Tensor> in = {randn({1024, 512})};
  auto traced = tracer::trace(fn, in);
  set_num_threads(2);  // parallel loops are compiled in when there is more than one thread
  auto compiled = CompiledGraph::compile(traced.graph);
  EXPECT_EQ(compiled->row_chunks(), 1);
  EXPECT_NE(compiled->stage(Stage::LLVM).find("__kmpc_fork_call"), std::string::npos) << "no parallel region";
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const auto out = compiled->run(in);
    // The sums over 1024 rows accumulate in f32 (eager accumulates in f64):
    // their error grows like sqrt(n) * eps * |sum| (about 1e-5 here), so
    // 1e-4; the elementwise output 1e-5.
    expect_close(out[0], traced.outputs[0], 1e-5, 1e-5);
    expect_close(out[1], traced.outputs[1], 1e-4, 1e-4);
    expect_close(out[2], traced.outputs[2], 1e-4, 1e-4);
  }
}

// Note [A compile never runs away silently]: past its code-size budget a
// compile stops before LLVM, naming the line whose ops fill the module.
TEST(CompiledGraph, ACompileOverItsCodeBudgetIsAClearErrorNamingTheLine) {
  auto traced = tracer::trace(ew_chain, {ones({64})});
  CompileBudget budget;
  budget.llvm_ops = 10;
  try {
    CompiledGraph::compile(traced.graph, budget);
    FAIL() << "a 10-op budget cannot hold ew_chain";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("stopped after stage 'LLVM dialect'"), std::string::npos) << what;
    EXPECT_NE(what.find("over its budget of 10"), std::string::npos) << what;
    EXPECT_NE(what.find("most of the code comes from compiled_graph_test.cpp:"), std::string::npos) << what;
  }
}

TEST(CompiledGraph, ACompileOverItsTimeBudgetStopsAtAStageBoundary) {
  auto traced = tracer::trace(ew_chain, {ones({64})});
  CompileBudget budget;
  budget.seconds = 0;
  try {
    CompiledGraph::compile(traced.graph, budget);
    FAIL() << "no compile fits in 0 s";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("stopped after stage 'ember dialect': its time budget of 0 s is spent"),
        std::string::npos)
        << e.what();
  }
}

TEST(CompiledGraph, ASlowCompilePrintsAProgressLinePerStage) {
  auto traced = tracer::trace(ew_chain, {ones({64})});
  CompileBudget budget;
  budget.progress_after_seconds = 0;  // every compile is "slow"
  ::testing::internal::CaptureStderr();
  auto compiled = CompiledGraph::compile(traced.graph, budget);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("ember: compiling a graph of "), std::string::npos) << err;
  for (const auto& stage_and_ms : compiled->stage_ms())
    EXPECT_NE(err.find(": " + stage_and_ms.first + " took "), std::string::npos) << err;
  EXPECT_NE(err.find(": LLVM -O3 and machine code for " + std::to_string(compiled->llvm_ops()) + " LLVM ops"),
            std::string::npos)
      << err;
  EXPECT_EQ(compiled->stage_ms().size(), 5u);
  EXPECT_GT(compiled->llvm_ops(), 10);
}

// Note [Compiled code in perf]: with EMBER_PERF_MAP set, the compiled
// functions are named in /tmp/perf-<pid>.map at the addresses they run at.
TEST(CompiledGraph, PerfMapNamesTheCompiledFunctionsAtTheirAddresses) {
  const std::string path = "/tmp/perf-" + std::to_string(::getpid()) + ".map";
  std::remove(path.c_str());
  ::setenv("EMBER_PERF_MAP", "1", 1);
  auto traced = tracer::trace(ew_chain, {ones({100000})});
  auto compiled = CompiledGraph::compile(traced.graph);
  ::unsetenv("EMBER_PERF_MAP");
  EXPECT_EQ(compiled->run({ones({100000})})[0].sizes(), Shape{100000});
  std::ifstream map(path);
  ASSERT_TRUE(map.good()) << path;
  int named = 0;
  for (std::string line; std::getline(map, line);) {
    unsigned long long address = 0, size = 0;
    char name[256] = {};
    ASSERT_EQ(std::sscanf(line.c_str(), "%llx %llx %255s", &address, &size, name), 3) << line;
    EXPECT_GT(address, 0u);
    EXPECT_GT(size, 0u);
    named += std::string(name).rfind("ember:", 0) == 0;
  }
  EXPECT_GE(named, 2) << "the entry point and its loop nest";
  std::remove(path.c_str());
}

TEST(CompiledGraph, WrongInputsAreAClearError) {
  auto traced = tracer::trace(ew_chain, {ones({5})});
  auto compiled = CompiledGraph::compile(traced.graph);
  EXPECT_THROW(compiled->run({ones({6})}), Error);
  EXPECT_THROW(compiled->run({}), Error);
}

// compiler/test/matmul_workspace_views.mlir's graph: two hidden activations
// live at once, so the matmuls read and write workspace views at nonzero
// offsets, whose addresses --ember-matmul-to-blas computes by hand.
TEST(CompiledGraph, WorkspaceViewsFeedBlas) {
  manual_seed(6);
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor a = in[0].matmul(in[1]).relu(), b = in[0].matmul(in[2]).tanh();
    return std::vector<Tensor>{a.matmul(in[3]) + b.matmul(in[3])};
  };
  const std::vector<Tensor> inputs{randn({8, 16}), randn({16, 32}), randn({16, 32}), randn({32, 4})};
  auto traced = tracer::trace(fn, inputs);
  auto compiled = CompiledGraph::compile(traced.graph);
  EXPECT_NE(compiled->stage(Stage::Buffers).find("memref.view %arg5[%c1024]"), std::string::npos)
      << compiled->stage(Stage::Buffers);
  expect_close(compiled->run(inputs)[0], traced.outputs[0], 1e-5, 1e-5);
}

}  // namespace
}  // namespace ember::compiler
