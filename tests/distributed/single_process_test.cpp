// single_process_test.cpp - ember::distributed without mpirun: a collective
// before init() is an error naming the caller's line; after it, a world of
// one process in which the collectives are local and need no MPI.
#include <gtest/gtest.h>

#include "ember/distributed/distributed.h"
#include "ember/ember.h"

namespace ember::distributed {
namespace {

TEST(SingleProcess, CollectivesBeforeInitAreErrorsThenAWorldOfOne) {
  ASSERT_FALSE(is_initialized());
  Tensor t = ones({3});
  try {
    all_reduce(t);
    FAIL() << "all_reduce ran before init()";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("all_reduce: ember::distributed::init() has not been called"), std::string::npos) << m;
    EXPECT_NE(m.find("single_process_test.cpp:"), std::string::npos) << m;
  }
  EXPECT_THROW(barrier(), Error);
  init();
  ASSERT_FALSE(launched_by_mpi());
  EXPECT_TRUE(is_initialized());
  EXPECT_EQ(rank(), 0);
  EXPECT_EQ(world_size(), 1);
  all_reduce(t, ReduceOp::Mean);
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(all_gather(t).sizes(), (Shape{1, 3}));
  EXPECT_EQ(reduce_scatter(t).to_vector<double>(), t.to_vector<double>());
  broadcast(t, 0);
  EXPECT_THROW(broadcast(t, 1), Error);
  barrier();
  int ran = 0;
  on_rank_zero([&] { ++ran; });
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace ember::distributed
