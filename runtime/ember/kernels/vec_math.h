// vec_math.h - float transcendentals written so that GCC vectorizes them.
//
// Note [Vectorizable math]
// A loop calling libm's expf/tanhf stays scalar (libm may set errno, and its
// vector variants need -ffast-math, which would also drop NaN handling).
// These branch-free Cephes-style versions use only +, *, selects and bit
// casts, so `-O3 -march=...` turns a contiguous loop into SIMD. Accuracy:
// within 2 ulp of the float64 result (tests/runtime check every op against
// float64). NaN propagates; overflow gives inf, underflow 0 or a denormal.
// Double-precision kernels call libm.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace ember::vec {

// Inlined always: a call per element would also stop the loop from vectorizing.
#define EMBER_VEC_INLINE inline __attribute__((always_inline))

EMBER_VEC_INLINE float exp(float x) {
  x = x > 89.0f ? 89.0f : x;  // selects keep NaN (compares are false)
  x = x < -104.0f ? -104.0f : x;
  // n = round(x / ln 2) via the 1.5 * 2^23 trick: exact for |n| < 2^22.
  const float shifter = 12582912.0f;
  const float n = (x * 1.44269504088896341f + shifter) - shifter;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  // 2^n as two factors, so n in [-150, 128] never leaves the exponent range.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const float s1 = std::bit_cast<float>((n1 + 127) << 23);
  const float s2 = std::bit_cast<float>((n2 + 127) << 23);
  return y * s1 * s2;
}

// tanh as x P(x^2) / Q(x^2) on x clamped to +-7.9 (where tanh is 1 in
// float): Eigen's rational form, which MLIR's approximation of compiled
// code also uses. No exp: 4M floats in 0.76 ms against 2.1 for the
// exp-based form it replaced (AMD Zen 5; a copy took 0.70); over every
// float in [-12, 12] its error is at most 0.73 of the sweep's 1e-7 + 3e-7
// tolerance. Tiny |x| returns x (the ratio would round it).
EMBER_VEC_INLINE float tanh(float x) {
  const float bound = 7.90531110763549805f;
  float c = x > bound ? bound : x;  // selects keep NaN (compares are false)
  c = c < -bound ? -bound : c;
  const float z = c * c;
  float p = -2.76076847742355e-16f;
  p = p * z + 2.00018790482477e-13f;
  p = p * z - 8.60467152213735e-11f;
  p = p * z + 5.12229709037114e-08f;
  p = p * z + 1.48572235717979e-05f;
  p = p * z + 6.37261928875436e-04f;
  p = p * z + 4.89352455891786e-03f;
  float q = 1.19825839466702e-06f;
  q = q * z + 1.18534705686654e-04f;
  q = q * z + 2.26843463243900e-03f;
  q = q * z + 4.89352518554385e-03f;
  const float ax = x < 0 ? -x : x;
  return ax < 0.0004f ? x : (x != x ? x : c * p / q);
}

// erf for |x| < 0.75: the rational approximation of Eigen and XLA (an odd
// degree-13 polynomial over an even degree-8 one). Alone it is 5 ulp of 1
// off near |x| = 4, which GELU's 1 + erf(x) of negative x turns into a
// large relative error; the tails therefore come from erfc below.
EMBER_VEC_INLINE float erf_near_zero(float x) {
  const float z = x * x;
  float p = -2.72614225801306e-10f;
  p = p * z + 2.77068142495902e-08f;
  p = p * z - 2.10102402082508e-06f;
  p = p * z - 5.69250639462346e-05f;
  p = p * z - 7.34990630326855e-04f;
  p = p * z - 2.95459980854025e-03f;
  p = p * z - 1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * z - 2.13374055278905e-04f;
  q = q * z - 1.68282697438203e-03f;
  q = q * z - 7.37332916720468e-03f;
  q = q * z - 1.42647390514189e-02f;
  return x * p / q;
}

// erfc(z) for z >= 0 with a relative error near 1.2e-7 at every z (the
// Chebyshev fit of Numerical Recipes' erfcc): exp(-z^2) times a polynomial
// in 1 / (1 + z / 2). 0 at +inf, NaN for NaN.
EMBER_VEC_INLINE float erfc_nonnegative(float z) {
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * vec::exp(p - z * z);
}

// libm's erff kept GELU scalar: 13 ms over 2M floats against 1.2 ms for
// tanh (AMD Zen 5); these vectorize (0.4 ms).
EMBER_VEC_INLINE float erf(float x) {
  const float ax = x < 0 ? -x : x;
  float tail = 1.0f - erfc_nonnegative(ax);
  tail = x < 0 ? -tail : tail;
  return ax < 0.75f ? erf_near_zero(x) : (x != x ? x : tail);
}

// x * Phi(x), Phi the normal CDF: for x < 0 Phi is erfc(|x| / sqrt 2) / 2
// directly, never 1 + erf(x / sqrt 2), which cancels to few correct digits.
EMBER_VEC_INLINE float gelu(float x) {
  const float z = x * 0.70710678118654752f;
  const float c = erfc_nonnegative(z < 0 ? -z : z);
  return x * (x < 0 ? 0.5f * c : 1.0f - 0.5f * c);
}

EMBER_VEC_INLINE float sigmoid(float x) { return 1.0f / (1.0f + vec::exp(-x)); }

}  // namespace ember::vec
