// batched_matmul_test.cpp - every form of matmul eager supports, compiled:
// batch dims on either side, broadcast batch dims, transposed operands,
// vectors, N-D `linear`; forward and both gradients as eager computes them,
// and every product a BLAS call (Note [Matmuls become BLAS calls]).
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>

#include "ember/autograd/node.h"
#include "ember/compiler/CompiledGraph.h"
#include "ember/ember.h"
#include "ember/tracer/trace.h"

namespace ember::compiler {
namespace {

struct MatmulForm {
  const char* name;
  Shape lhs, rhs;
  // Operands as stored; the product reads them transposed (last two dims).
  bool transpose_lhs = false, transpose_rhs = false;
};

void PrintTo(const MatmulForm& f, std::ostream* os) { *os << f.name; }

Tensor operand(const Tensor& t, bool transposed) { return transposed ? t.transpose(-2, -1) : t; }

class CompiledMatmulForms : public ::testing::TestWithParam<MatmulForm> {};

// y = a @ b, and the gradients of sum(y * r) with respect to a and b: one
// traced graph with the forward and the backward's products.
TEST_P(CompiledMatmulForms, MatchEagerWithGradientsAndEveryProductIsABlasCall) {
  const MatmulForm& form = GetParam();
  manual_seed(5);
  const Tensor a = randn(form.lhs).requires_grad_(), b = randn(form.rhs).requires_grad_();
  const Tensor y_shape = matmul(operand(a, form.transpose_lhs), operand(b, form.transpose_rhs)).detach();
  const Tensor r = randn(y_shape.sizes());
  auto fn = [&](const std::vector<Tensor>& in) {
    Tensor y = matmul(operand(in[0], form.transpose_lhs), operand(in[1], form.transpose_rhs));
    auto grads = autograd::grad({(y * in[2]).sum()}, {ones({})}, {in[0], in[1]});
    return std::vector<Tensor>{y.detach(), grads[0], grads[1]};
  };
  const std::vector<Tensor> in = {a, b, r};
  auto traced = tracer::trace(fn, in);
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto out = compiled->run(in);
  ASSERT_EQ(out.size(), 3u);
  // float32 sums of k products of unit normals: rounding grows like sqrt(k).
  const char* what[] = {"product", "gradient of lhs", "gradient of rhs"};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(out[i].sizes(), traced.outputs[i].sizes()) << what[i];
    const auto got = out[i].to_vector<double>(), want = traced.outputs[i].to_vector<double>();
    for (size_t e = 0; e < got.size(); ++e)
      ASSERT_NEAR(got[e], want[e], 1e-5 * (1 + std::abs(want[e]))) << what[i] << " element " << e;
  }
  const auto& report = compiled->gemm_report();
  ASSERT_FALSE(report.empty());
  for (const std::string& line : report) EXPECT_NE(line.find("cblas_sgemm"), std::string::npos) << line;
  // No product is left to loops, and no transpose is copied for one: BLAS
  // reads it through its flags. (The gradient of a transposed operand is
  // transposed back at most once, a copy of its size.)
  const std::string& buffers = compiled->stage(Stage::Buffers);
  EXPECT_EQ(buffers.find("linalg.matmul"), std::string::npos) << buffers;
  EXPECT_EQ(buffers.find("linalg.batch_matmul"), std::string::npos) << buffers;
  size_t transposes = 0;
  for (size_t p = buffers.find("linalg.transpose"); p != std::string::npos;
       p = buffers.find("linalg.transpose", p + 1))
    ++transposes;
  EXPECT_LE(transposes, size_t{form.transpose_lhs} + size_t{form.transpose_rhs}) << buffers;
  EXPECT_EQ(buffers.find("\"reduction\"]"), std::string::npos) << buffers;
}

INSTANTIATE_TEST_SUITE_P(
    EveryForm, CompiledMatmulForms,
    ::testing::Values(MatmulForm{"same_batch_4d", {2, 3, 5, 4}, {2, 3, 4, 6}},
                      MatmulForm{"rhs_transposed_4d", {2, 3, 5, 4}, {2, 3, 6, 4}, false, true},
                      MatmulForm{"lhs_transposed_4d", {2, 3, 4, 5}, {2, 3, 4, 6}, true, false},
                      MatmulForm{"both_transposed_3d", {3, 4, 5}, {3, 6, 4}, true, true},
                      MatmulForm{"rhs_broadcast_missing_dim", {2, 3, 5, 4}, {3, 4, 6}},
                      MatmulForm{"rhs_broadcast_unit_dim", {2, 3, 5, 4}, {1, 3, 4, 6}},
                      MatmulForm{"lhs_broadcast", {3, 5, 4}, {2, 3, 4, 6}},
                      MatmulForm{"matrix_times_batch", {5, 4}, {2, 4, 6}},
                      MatmulForm{"vector_times_batch", {4}, {2, 4, 6}},
                      MatmulForm{"batch_times_vector", {2, 5, 4}, {4}},
                      MatmulForm{"linear_3d", {2, 5, 4}, {6, 4}, false, true},
                      MatmulForm{"batch_times_matrix", {2, 3, 5, 4}, {4, 6}}),
    [](const ::testing::TestParamInfo<MatmulForm>& info) { return std::string(info.param.name); });

// q and k as slices of one computed (so workspace-held) permuted tensor:
// BLAS must be passed each slice's address inside the workspace (Note on
// pointer_of in MatmulToBlas.cpp; this read the wrong rows once).
TEST(CompiledMatmul, SlicesOfAWorkspaceBufferFeedBlasAtTheirOwnAddress) {
  manual_seed(8);
  const int64_t b = 4, t = 8, h = 2, d = 16;
  const Tensor x = randn({b * t, 3 * h * d}), w = randn({3 * h * d, 3 * h * d});
  auto fn = [&](const std::vector<Tensor>& in) {
    const Tensor parts = in[0].matmul(w).view({b, t, 3, h, d}).permute({2, 0, 3, 1, 4});
    const Tensor q = parts.select(0, 0), k = parts.select(0, 1), v = parts.select(0, 2);
    return std::vector<Tensor>{q.matmul(k.transpose(-2, -1)).matmul(v)};
  };
  auto traced = tracer::trace(fn, {x});
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto got = compiled->run({x})[0].to_vector<double>(), want = traced.outputs[0].to_vector<double>();
  for (size_t e = 0; e < got.size(); ++e) ASSERT_NEAR(got[e], want[e], 1e-4 * (1 + std::abs(want[e]))) << e;
  EXPECT_NE(compiled->stage(Stage::Buffers).find("memref.view"), std::string::npos)
      << "the slices live in the workspace";
}

TEST(CompiledMatmul, IntegerProductsStayLoopsAndTheReportSaysWhy) {
  const Tensor a = randint(-3, 3, {2, 3, 4}, DType::Int64), b = randint(-3, 3, {2, 4, 5}, DType::Int64);
  auto traced = tracer::trace(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{matmul(in[0], in[1])}; }, {a, b});
  auto compiled = CompiledGraph::compile(traced.graph);
  const auto out = compiled->run({a, b});
  EXPECT_EQ(out[0].to_vector<int64_t>(), traced.outputs[0].to_vector<int64_t>());
  ASSERT_EQ(compiled->gemm_report().size(), 1u);
  EXPECT_NE(compiled->gemm_report()[0].find("loops (BLAS multiplies only float32 and float64)"),
            std::string::npos)
      << compiled->gemm_report()[0];
}

}  // namespace
}  // namespace ember::compiler
