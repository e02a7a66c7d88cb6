// dynamic_sweep_test.cpp - every op of the op table under jit::compile with
// a changing leading dim (Note [Automatic dynamic dims]): its schema sample
// with dim 0 of the first input (and of every input that shares it) at the
// sample's size, then at +5 and at 1, against eager at each size. Every op
// must answer as eager does; an op whose lowering takes `?` dims
// (compiler::lowers_dynamic) must do it with one dynamic compile, so the
// sweep fails when a lowering is listed but does not take them.
#include <gtest/gtest.h>

#include "../tracer/op_samples.h"
#include "ember/compiler/CompiledGraph.h"
#include "ember/jit/jit.h"

namespace ember::jit {
namespace {

using testing::op_sample;
using testing::run_op;

// The input whose leading dim varies: the first, except for embedding,
// whose first input is the table (a weight: its rows are the indices' range).
size_t varied_input(OpId op) { return op == OpId::embedding ? 1 : 0; }

// The sample's inputs with dim 0 of input `first`, and of each input whose
// dim 0 is the same size, set to `rows` (new values, of the same kind).
std::vector<Tensor> resized(const std::vector<Tensor>& inputs, size_t first, int64_t rows) {
  const int64_t base = inputs[first].size(0);
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) {
    if (t.dim() == 0 || t.size(0) != base) {
      out.push_back(t);
      continue;
    }
    Shape shape = t.sizes();
    shape[0] = rows;
    if (t.dtype() == DType::Int64)
      out.push_back(randint(0, std::max<int64_t>(t.max().item<int64_t>(), 0) + 1, shape));
    else if (t.dtype() == DType::Bool)
      out.push_back(rand(shape).gt(0.5));
    else
      out.push_back((rand(shape) + (t.min().item<double>() > 0 ? 0.5 : -0.5)).to(t.dtype()));
  }
  return out;
}

void expect_same(const std::vector<Tensor>& got, const std::vector<Tensor>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].sizes(), want[k].sizes()) << what;
    const auto g = got[k].to_vector<double>(), w = want[k].to_vector<double>();
    for (size_t i = 0; i < g.size(); ++i) {
      if (std::isnan(w[i])) continue;
      if (std::isinf(w[i])) {
        ASSERT_EQ(g[i], w[i]) << what << " output " << k << " element " << i;
        continue;
      }
      ASSERT_NEAR(g[i], w[i], 2e-5 + 2e-5 * std::abs(w[i])) << what << " output " << k << " element " << i;
    }
  }
}

class DynamicSweep : public ::testing::TestWithParam<int> {};

TEST_P(DynamicSweep, ChangingLeadingDimMatchesEager) {
  const auto op = static_cast<OpId>(GetParam());
  auto sample = op_sample(op);
  ASSERT_TRUE(sample.has_value());
  manual_seed(300 + GetParam());
  const OpAttrs attrs = sample->attrs;
  auto f = compile([op, attrs](const std::vector<Tensor>& in) { return run_op(op, in, attrs); });
  // Each call against eager; false when eager refuses these inputs (a size the op does not take).
  const auto check = [&](const std::vector<Tensor>& in) {
    std::vector<Tensor> want;
    try {
      want = run_op(op, in, attrs);
    } catch (const Error&) {
      return false;
    }
    expect_same(f(in), want, std::string(op_name(op)) + " at " + to_string(in[0].sizes()));
    return true;
  };
  const size_t first = varied_input(op);
  const int64_t base = sample->inputs[first].size(0);
  for (int i = 0; i < 3; ++i) check(sample->inputs);  // warm-up, trace and compile, native
  bool varied = true;
  for (int64_t rows : {base + 5, base + 2, base + 5})
    varied = check(resized(sample->inputs, first, rows)) && varied;
  if (compiler::lowers_dynamic(op) && varied) {
    EXPECT_EQ(f.stats().compiles, 2) << op_name(op) << " lowers `?` dims: one dynamic compile\n"
                                     << f.explain();
  }
  // Size 1, where squeeze and broadcasting change meaning: the right answer, compiled or not.
  for (int i = 0; i < 2; ++i) check(resized(sample->inputs, first, 1));
  // The varied input alone at 1 and at its first size, the others at theirs:
  // a broadcast against a dim that stays (x [1, 4] + y [3, 4]) where the
  // compiled graph has x's dim `?` (a `?` dim is never read as a broadcast).
  std::vector<Tensor> alone = sample->inputs;
  for (int64_t rows : {int64_t(1), base}) {
    alone[first] = resized({sample->inputs[first]}, 0, rows)[0];
    for (int i = 0; i < 2; ++i) check(alone);
  }
}

// Every op whose sample has an input with a leading dim, and that is pure
// (creation ops have no input to vary; random and collective ones are not
// functions of their inputs alone).
std::vector<int> varying_ops() {
  std::vector<int> ops;
  for (int i = 0; i < kNumOps; ++i) {
    const auto op = static_cast<OpId>(i);
    const auto sample = op_sample(op);
    if (sample && !sample->inputs.empty() && sample->inputs[0].dim() > 0 &&
        op_info(op).effect == OpEffect::Pure)
      ops.push_back(i);
  }
  return ops;
}

INSTANTIATE_TEST_SUITE_P(EveryOp, DynamicSweep, ::testing::ValuesIn(varying_ops()),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(op_name(static_cast<OpId>(info.param)));
                         });

}  // namespace
}  // namespace ember::jit
