// num_threads_env_test.cpp - EMBER_NUM_THREADS sets the default thread count.
// CTest runs this with EMBER_NUM_THREADS=1 in its environment.
#include <gtest/gtest.h>

#include <cstdlib>

#include "ember/ember.h"

TEST(ThreadsEnvironment, EmberNumThreadsSetsTheDefault) {
  const char* env = std::getenv("EMBER_NUM_THREADS");
  ASSERT_NE(env, nullptr) << "run through ctest, which sets EMBER_NUM_THREADS=1";
  EXPECT_EQ(ember::get_num_threads(), std::atoi(env));
}
