// main.cpp - GoogleTest under mpirun: every rank runs every test, and the
// program fails if any rank does (mpirun's exit status).
#include <gtest/gtest.h>

#include "ember/distributed/distributed.h"
#include "ember/ember.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  ember::distributed::init();
  const int failed = RUN_ALL_TESTS();
  // Every rank leaves with the worst result, so mpirun's status is the AND.
  ember::Tensor status = ember::tensor<int32_t>({failed != 0}, {1});
  ember::distributed::all_reduce(status, ember::distributed::ReduceOp::Max);
  return status.item<int32_t>();
}
