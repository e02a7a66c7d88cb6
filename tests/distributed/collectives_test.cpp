// collectives_test.cpp - every collective, blocking and not, on the ranks
// mpirun started (2 and 3), against results computed by hand from what
// each rank contributed: rank r's tensor is a known function of r.
#include <gtest/gtest.h>

#include "ember/collectives.h"
#include "ember/distributed/distributed.h"
#include "ember/ember.h"

namespace ember::distributed {
namespace {

int64_t world() { return world_size(); }
int64_t me() { return rank(); }

// Rank r's contribution: (r + 1) * (1, 2, 3, ...) in `dtype`.
Tensor contribution(Shape shape, DType dtype, int64_t r) {
  return (arange(0, shape.numel()).view(shape) + 1).mul(double(r + 1)).to(dtype);
}

// sum over ranks of (r + 1) = W (W + 1) / 2
double rank_sum() { return double(world() * (world() + 1) / 2); }

TEST(Collectives, AllReduceSumMeanAndMaxInEveryDtype) {
  for (DType dtype : {DType::Float32, DType::Float64, DType::Int32, DType::Int64}) {
    const Shape shape{2, 3};
    const Tensor base = arange(0, 6).view(shape) + 1;
    Tensor s = contribution(shape, dtype, me());
    all_reduce(s, ReduceOp::Sum);
    EXPECT_EQ(s.dtype(), dtype);
    EXPECT_EQ(s.to_vector<double>(), (base * rank_sum()).to_vector<double>()) << dtype_name(dtype);
    Tensor m = contribution(shape, dtype, me());
    all_reduce(m, ReduceOp::Max);
    EXPECT_EQ(m.to_vector<double>(), (base * double(world())).to_vector<double>()) << dtype_name(dtype);
    if (is_floating(dtype)) {
      Tensor a = contribution(shape, dtype, me());
      all_reduce(a, ReduceOp::Mean);
      const auto got = a.to_vector<double>(), want = (base * (rank_sum() / world())).to_vector<double>();
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << dtype_name(dtype);
    }
  }
  // Bool: max is "any rank"; only the last rank holds true.
  Tensor b = tensor<bool>({me() == world() - 1, false}, {2});
  all_reduce(b, ReduceOp::Max);
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{1, 0}));
}

TEST(Collectives, EmptyAndNonContiguousTensors) {
  Tensor empty_one = zeros({0, 4});
  all_reduce(empty_one);
  EXPECT_EQ(empty_one.sizes(), (Shape{0, 4}));
  // A transposed view: reduced through a contiguous copy, written back into the view.
  Tensor storage = contribution({3, 2}, DType::Float32, me());
  Tensor view = storage.transpose(0, 1);
  ASSERT_FALSE(view.is_contiguous());
  all_reduce(view, ReduceOp::Sum);
  EXPECT_EQ(storage.to_vector<double>(),
            (contribution({3, 2}, DType::Float64, 0) * rank_sum()).to_vector<double>());
}

TEST(Collectives, NonBlockingFormsGiveTheSameResults) {
  Tensor a = contribution({4}, DType::Float32, me()), b = contribution({5}, DType::Float64, me());
  Work wa = all_reduce_async(a, ReduceOp::Sum);
  Work wb = all_reduce_async(b, ReduceOp::Max);
  Tensor gathered, scattered;
  Work wg = all_gather_async(tensor<int64_t>({me()}, {1}), gathered);
  Work ws = reduce_scatter_async(ones({world() * 2}), scattered, ReduceOp::Sum);
  Work wbar = barrier_async();
  wb.wait();
  wa.wait();
  wg.wait();
  ws.wait();
  wbar.wait();
  EXPECT_TRUE(wa.is_completed());
  wa.wait();  // a second wait is a no-op
  EXPECT_EQ(a.to_vector<double>(), (contribution({4}, DType::Float64, 0) * rank_sum()).to_vector<double>());
  EXPECT_EQ(b.to_vector<double>(),
            (contribution({5}, DType::Float64, 0) * double(world())).to_vector<double>());
  EXPECT_EQ(gathered.to_vector<double>(), arange(0, world()).to_vector<double>());
  EXPECT_EQ(scattered.to_vector<double>(), (std::vector<double>(2, double(world()))));
  // Dropped without wait(): the destructor waits, the result still lands.
  Tensor c = contribution({3}, DType::Float32, me());
  { Work dropped = all_reduce_async(c); }
  EXPECT_EQ(c.to_vector<double>(), (contribution({3}, DType::Float64, 0) * rank_sum()).to_vector<double>());
}

// The all_reduce op (what compiled steps call) and distributed::all_reduce
// pair with each other: a rank whose compiled step fell back to eager still
// reduces with the others.
TEST(Collectives, TheAllReduceOpPairsWithTheFunction) {
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean}) {
    Tensor mine = contribution({6}, DType::Float32, me());
    Tensor got;
    if (me() % 2 == 0) {
      got = all_reduce_op(mine, op == ReduceOp::Sum ? AllReduceOp::Sum : AllReduceOp::Mean);
    } else {
      all_reduce(mine, op);
      got = mine;
    }
    const double scale = op == ReduceOp::Sum ? rank_sum() : rank_sum() / double(world());
    const auto g = got.to_vector<double>(),
               w = (contribution({6}, DType::Float64, 0) * scale).to_vector<double>();
    for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], w[i], 1e-5);
  }
}

TEST(Collectives, BroadcastFromEveryRoot) {
  for (int root = 0; root < world(); ++root) {
    Tensor t = contribution({2, 2}, DType::Int64, me());
    broadcast(t, root);
    EXPECT_EQ(t.to_vector<double>(), contribution({2, 2}, DType::Float64, root).to_vector<double>()) << root;
  }
}

TEST(Collectives, AllGatherStacksEveryRanksTensor) {
  const Tensor mine = contribution({2, 3}, DType::Float32, me());
  const Tensor all = all_gather(mine);
  ASSERT_EQ(all.sizes(), (Shape{world(), 2, 3}));
  for (int64_t r = 0; r < world(); ++r)
    EXPECT_EQ(all.select(0, r).to_vector<double>(),
              contribution({2, 3}, DType::Float64, r).to_vector<double>());
  EXPECT_EQ(all_gather(zeros({0})).sizes(), (Shape{world(), 0}));
}

TEST(Collectives, ReduceScatterGivesEachRankItsRowsOfTheSum) {
  // Each rank contributes rows 0..2W-1 scaled by (r + 1); rank r gets rows 2r, 2r + 1 of the sum.
  const Tensor mine = contribution({world() * 2, 3}, DType::Float64, me());
  const Tensor part = reduce_scatter(mine, ReduceOp::Sum);
  ASSERT_EQ(part.sizes(), (Shape{2, 3}));
  const Tensor want =
      contribution({world() * 2, 3}, DType::Float64, 0).slice(0, 2 * me(), 2 * me() + 2) * rank_sum();
  EXPECT_EQ(part.to_vector<double>(), want.to_vector<double>());
  const Tensor mean = reduce_scatter(mine, ReduceOp::Mean);
  const auto got = mean.to_vector<double>(), w = (want / double(world())).to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], w[i], 1e-12);
}

// Mismatches are errors on every rank (Note [Ranks agree before they
// communicate]), and the ranks stay in step afterwards.
TEST(Collectives, MismatchedArgumentsAreAnErrorOnEveryRank) {
  if (world() < 2) GTEST_SKIP() << "needs two ranks";
  Tensor shapes = zeros({me() == 0 ? 3 : 4});
  try {
    all_reduce(shapes);
    FAIL() << "different shapes were reduced";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("all_reduce: the ranks passed different arguments"), std::string::npos) << m;
    EXPECT_NE(m.find("collectives_test.cpp:"), std::string::npos) << "the caller's line: " << m;
  }
  Tensor dtypes = zeros({3}, me() == 0 ? DType::Float32 : DType::Float64);
  EXPECT_THROW(broadcast(dtypes, 0), Error);
  EXPECT_THROW(all_reduce(shapes, me() == 0 ? ReduceOp::Sum : ReduceOp::Max), Error) << "different ops";
  Tensor fine = ones({2});
  all_reduce(fine);  // still in step
  EXPECT_EQ(fine.to_vector<double>(), (std::vector<double>(2, double(world()))));
}

TEST(Collectives, ArgumentsNoReductionAcceptsAreErrorsBeforeCommunicating) {
  Tensor ints = ones({2}, DType::Int64), flags = zeros({2}, DType::Bool);
  EXPECT_THROW(all_reduce(ints, ReduceOp::Mean), Error);
  EXPECT_THROW(all_reduce(flags, ReduceOp::Sum), Error);
  Tensor t = ones({2});
  EXPECT_THROW(broadcast(t, static_cast<int>(world())), Error);
  if (world() > 1) {
    EXPECT_THROW(reduce_scatter(ones({world() * 2 + 1})), Error) << "rows do not split";
  }
  Tensor fine = ones({1});
  all_reduce(fine);
  EXPECT_EQ(fine.item<double>(), double(world()));
}

}  // namespace
}  // namespace ember::distributed
