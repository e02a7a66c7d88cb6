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

EMBER_VEC_INLINE float tanh(float x) {
  const float ax = x < 0 ? -x : x;
  // Small |x|: odd polynomial (no cancellation); large: 1 - 2 / (e^2|x| + 1).
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float e = vec::exp(2.0f * (ax > 9.0f ? 9.0f : ax));
  float large = 1.0f - 2.0f / (e + 1.0f);
  large = x < 0 ? -large : large;
  return ax < 0.625f ? small : (x != x ? x : large);
}

EMBER_VEC_INLINE float sigmoid(float x) { return 1.0f / (1.0f + vec::exp(-x)); }

}  // namespace ember::vec
