// sgemm_test.cpp - the float GEMM behind every matmul (Note [oneDNN for
// sgemm]) against a float64 reference: each transpose, alpha and beta,
// leading dims wider than the rows, sizes on both sides of the oneDNN
// threshold, and cblas_sgemm's column-major order as compiled code may call it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ember/kernels/sgemm.h"

namespace ember::kernels {
namespace {

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
};

std::vector<float> random_values(size_t count, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> v(count);
  for (float& x : v) x = uniform(gen);
  return v;
}

// Row-major, each operand with a leading dim 3 wider than its rows.
void expect_matches_reference(const Case& c) {
  const int64_t a_rows = c.trans_a ? c.k : c.m, a_cols = c.trans_a ? c.m : c.k;
  const int64_t b_rows = c.trans_b ? c.n : c.k, b_cols = c.trans_b ? c.k : c.n;
  const int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = c.n + 3;
  const auto a = random_values(a_rows * lda, 1), b = random_values(b_rows * ldb, 2);
  auto out = random_values(c.m * ldc, 3);
  const auto before = out;
  sgemm(c.trans_a, c.trans_b, c.m, c.n, c.k, c.alpha, a.data(), lda, b.data(), ldb, c.beta, out.data(), ldc);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < c.k; ++p)
        sum += double(c.trans_a ? a[p * lda + i] : a[i * lda + p]) *
               double(c.trans_b ? b[j * ldb + p] : b[p * ldb + j]);
      const double want = c.alpha * sum + c.beta * double(before[i * ldc + j]);
      // float32 products summed over k: |error| <~ k * 2^-24 * sum |a b| <= k * 6e-8 * k.
      ASSERT_NEAR(out[i * ldc + j], want, 1e-6 * double(c.k) + 1e-6) << "row " << i << " col " << j;
    }
    for (int64_t j = c.n; j < ldc; ++j) ASSERT_EQ(out[i * ldc + j], before[i * ldc + j]) << "padding written";
  }
}

TEST(Sgemm, EveryTransposeAlphaAndBetaMatchesFloat64) {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [alpha, beta] : {std::pair{1.f, 0.f}, {0.5f, 1.f}, {2.f, 0.9f}}) {
        SCOPED_TRACE(testing::Message()
                     << "trans_a " << ta << " trans_b " << tb << " alpha " << alpha << " beta " << beta);
        expect_matches_reference({ta, tb, 96, 80, 72, alpha, beta});  // oneDNN's side of the threshold
        expect_matches_reference({ta, tb, 5, 7, 3, alpha, beta});     // OpenBLAS's
      }
}

TEST(Sgemm, EmptyProductsOnlyScaleC) {
  std::vector<float> c{1, 2, 3, 4};
  sgemm(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2}));
  sgemm(false, false, 0, 2, 4, 1.f, nullptr, 4, nullptr, 2, 0.f, c.data(), 2);  // no rows: nothing to do
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2}));
}

// Column-major [m, n] = a [m, k] b [k, n]: the same numbers as row-major
// C^T = b^T a^T, which is how ember_cblas_sgemm computes it.
TEST(Sgemm, TheCblasEntryPointTakesColumnMajorToo) {
  const int m = 70, n = 66, k = 90;
  const auto a = random_values(m * k, 4),
             b = random_values(k * n, 5);  // column-major: a[i + p m], b[p + j k]
  std::vector<float> c(m * n, 0);
  ember_cblas_sgemm(102, 111, 111, m, n, k, 1.f, a.data(), m, b.data(), k, 0.f, c.data(), m);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double want = 0;
      for (int p = 0; p < k; ++p) want += double(a[i + p * m]) * double(b[p + j * k]);
      ASSERT_NEAR(c[i + j * m], want, 1e-4) << i << ", " << j;
    }
}

}  // namespace
}  // namespace ember::kernels
