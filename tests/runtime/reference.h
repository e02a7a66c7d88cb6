// reference.h - float64 reference implementations for the op sweep.
//
// Deliberately naive: plain loops over multi-indices in double precision,
// sharing no code with the kernels they check.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "ember/ember.h"

namespace ember::testing {

// A dense row-major float64 array.
struct Ref {
  std::vector<int64_t> shape;
  std::vector<double> v;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

inline Ref to_ref(const Tensor& t) { return {t.sizes().vec(), t.to_vector<double>()}; }

inline std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

inline std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return idx;
}

inline std::vector<int64_t> broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i + a.size() >= n ? a[i + a.size() - n] : 1;
    const int64_t db = i + b.size() >= n ? b[i + b.size() - n] : 1;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// The value of `r` at an index of a (broadcast) output shape.
inline double at_broadcast(const Ref& r, const std::vector<int64_t>& out_idx) {
  const auto st = strides_of(r.shape);
  int64_t off = 0;
  const size_t lead = out_idx.size() - r.shape.size();
  for (size_t d = 0; d < r.shape.size(); ++d)
    if (r.shape[d] != 1) off += out_idx[d + lead] * st[d];
  return r.v[off];
}

inline Ref map(const Ref& a, const std::function<double(double)>& f) {
  Ref r = a;
  for (double& x : r.v) x = f(x);
  return r;
}

inline Ref zip(const std::vector<Ref>& in, const std::function<double(const std::vector<double>&)>& f) {
  std::vector<int64_t> shape = in[0].shape;
  for (const Ref& r : in) shape = broadcast(shape, r.shape);
  Ref out{shape, {}};
  out.v.resize(out.numel());
  std::vector<double> args(in.size());
  for (int64_t i = 0; i < out.numel(); ++i) {
    const auto idx = unravel(i, shape);
    for (size_t k = 0; k < in.size(); ++k) args[k] = at_broadcast(in[k], idx);
    out.v[i] = f(args);
  }
  return out;
}

// Reduces over `dims` (empty = all) with f over the reduced values.
inline Ref reduce(const Ref& x, std::vector<int64_t> dims, bool keepdim,
                  const std::function<double(const std::vector<double>&)>& f) {
  const int64_t nd = int64_t(x.shape.size());
  std::vector<bool> mask(nd, dims.empty());
  for (int64_t d : dims) mask[d < 0 ? d + nd : d] = true;
  std::vector<int64_t> kept, out_shape;
  for (int64_t d = 0; d < nd; ++d) {
    kept.push_back(mask[d] ? 1 : x.shape[d]);
    if (!mask[d] || keepdim) out_shape.push_back(mask[d] ? 1 : x.shape[d]);
  }
  Ref kept_ref{kept, {}};
  std::vector<std::vector<double>> groups(kept_ref.numel());
  const auto kst = strides_of(kept);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const auto idx = unravel(i, x.shape);
    int64_t o = 0;
    for (int64_t d = 0; d < nd; ++d)
      if (!mask[d]) o += idx[d] * kst[d];
    groups[o].push_back(x.v[i]);
  }
  Ref out{out_shape, {}};
  for (auto& g : groups) out.v.push_back(f(g));
  return out;
}

// Expects `got` (any dtype) to match `want` within atol + rtol * |want|.
inline void expect_close(const Tensor& got, const Ref& want, double atol, double rtol,
                         const std::string& what) {
  ASSERT_EQ(got.sizes().vec(), want.shape) << what << ": shape";
  const auto g = got.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    const double w = want.v[i];
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(g[i])) << what << ": element " << i << " is " << g[i] << ", want NaN";
      continue;
    }
    if (std::isinf(w)) {
      EXPECT_EQ(g[i], w) << what << ": element " << i;
      continue;
    }
    EXPECT_NEAR(g[i], w, atol + rtol * std::abs(w)) << what << ": element " << i;
    if (std::abs(g[i] - w) > atol + rtol * std::abs(w)) return;  // one report per case
  }
}

// Uniform values in [lo, hi) of the given shape and dtype, from a fixed seed.
inline Tensor uniform(IntArrayRef shape, double lo, double hi, DType dtype = DType::Float32) {
  return (rand(shape, DType::Float64) * (hi - lo) + lo).to(dtype);
}

}  // namespace ember::testing
