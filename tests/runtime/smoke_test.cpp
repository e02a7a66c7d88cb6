#include <gtest/gtest.h>

#include "ember/ember.h"

TEST(Smoke, AddAndBackward) {
  using namespace ember;
  Tensor a = tensor<float>({1, 2, 3}).requires_grad_();
  Tensor b = (a * a).sum();
  b.backward();
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{2, 4, 6}));
}
