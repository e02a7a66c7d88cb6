// gradcheck.cpp - full-Jacobian check by central differences in float64.
#include "ember/autograd/gradcheck.h"

#include <cmath>

#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember {

namespace {
// Output values, flattened, as doubles.
std::vector<double> evaluate(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                             const std::vector<Tensor>& inputs) {
  return fn(inputs).detach().to_vector<double>();
}

void check_one(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& o, const Loc& loc) {
  Tensor out = fn(inputs);
  const int64_t n_out = out.numel();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    EMBER_CHECK(x.dtype() == DType::Float64, loc, "gradcheck: input ", k, " is ", dtype_name(x.dtype()),
                "; use float64 inputs for finite differences");
    EMBER_CHECK(x.is_contiguous(), loc, "gradcheck: input ", k, " must be contiguous");
  }
  // Analytic: one backward per output element (a row of the Jacobian).
  std::vector<std::vector<std::vector<double>>> analytic(inputs.size());
  for (int64_t j = 0; j < n_out; ++j) {
    if (!out.requires_grad()) {
      // The output does not depend on the inputs through autograd: a zero Jacobian.
      for (size_t k = 0; k < inputs.size(); ++k)
        if (inputs[k].requires_grad()) analytic[k].push_back(std::vector<double>(inputs[k].numel(), 0.0));
      continue;
    }
    Tensor seed = zeros(out.sizes(), DType::Float64);
    static_cast<double*>(seed.data_ptr())[j] = 1.0;
    for (const Tensor& x : inputs)
      if (x.requires_grad()) const_cast<Tensor&>(x).set_grad(Tensor());
    out.backward(seed, /*retain_graph=*/true, /*create_graph=*/false, loc);
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (!inputs[k].requires_grad()) continue;
      Tensor g = inputs[k].grad();
      analytic[k].push_back(g.defined() ? g.to_vector<double>()
                                        : std::vector<double>(inputs[k].numel(), 0.0));
    }
  }
  // Numeric: perturb each input element.
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    double* data = static_cast<double*>(x.data_ptr());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = data[i];
      data[i] = orig + o.eps;
      const auto plus = evaluate(fn, inputs);
      data[i] = orig - o.eps;
      const auto minus = evaluate(fn, inputs);
      data[i] = orig;
      for (int64_t j = 0; j < n_out; ++j) {
        const double numeric = (plus[j] - minus[j]) / (2 * o.eps);
        const double a = analytic[k][j][i];
        EMBER_CHECK(std::abs(a - numeric) <= o.atol + o.rtol * std::abs(numeric) ||
                        (std::isnan(a) && std::isnan(numeric)),
                    loc, "gradcheck: d output[", j, "] / d input ", k, "[", i, "]: analytic ", a,
                    " but numeric ", numeric, " (input shape ", x.sizes(), ")");
      }
    }
  }
  for (const Tensor& x : inputs)
    if (x.requires_grad()) const_cast<Tensor&>(x).set_grad(Tensor());
}
}  // namespace

bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
               GradcheckOptions options, const Loc& loc) {
  check_one(fn, inputs, options, loc);
  if (options.check_second_order) {
    // The gradient of sum(fn) w.r.t. the inputs, itself checked as a function.
    auto grad_fn = [&fn](const std::vector<Tensor>& in) {
      Tensor y = fn(in).sum();
      for (const Tensor& x : in)
        if (x.requires_grad()) const_cast<Tensor&>(x).set_grad(Tensor());
      y.backward(Tensor(), true, true);
      std::vector<Tensor> parts;
      for (const Tensor& x : in)
        if (x.requires_grad() && x.grad().defined()) parts.push_back(x.grad().reshape({-1}));
      return cat(parts);
    };
    check_one(grad_fn, inputs, options, loc);
  }
  return true;
}

}  // namespace ember
