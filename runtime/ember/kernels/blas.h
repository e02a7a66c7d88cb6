// blas.h - row-major GEMM: float through sgemm.h (oneDNN, Note [oneDNN for
// sgemm]), double through OpenBLAS.
#pragma once

#include <cblas.h>

#include <cstdint>
#include <type_traits>

#include "ember/kernels/sgemm.h"
#include "ember/threading.h"

namespace ember::kernels {

// c[m, n] = alpha * op(a)[m, k] @ op(b)[k, n] + beta * c
template <typename T>
void blas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
               const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    static_assert(std::is_same_v<T, double>);
    adopt_thread_count();  // Note [Every thread's OpenMP count]
    const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace ember::kernels
