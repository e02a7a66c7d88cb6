// gradcheck.h - compares analytic gradients with finite differences.
//
//   auto x = ember::randn({3, 4}, ember::DType::Float64).requires_grad_();
//   ember::gradcheck([](const std::vector<ember::Tensor>& in) { return in[0].tanh().sum(); }, {x});
//
// Inputs should be float64 and require grad. Every output element's
// gradient row (the full Jacobian) is checked by central differences; a
// mismatch throws ember::Error naming the input, the element and both values.
#pragma once

#include <functional>
#include <vector>

#include "ember/tensor.h"

namespace ember {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  bool check_second_order = false;  // also gradcheck the gradient (create_graph)
};

bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
               GradcheckOptions options = {}, const Loc& loc = Loc::current());

}  // namespace ember
