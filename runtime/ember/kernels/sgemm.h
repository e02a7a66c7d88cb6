// sgemm.h - the single-precision GEMM of every matmul, eager or compiled.
//
// Note [oneDNN for sgemm]
// Debian's OpenBLAS 0.3.21 runs its AVX2 (Haswell) kernels on this AMD Zen 5,
// whose AVX-512 units do twice the work per cycle; oneDNN's matmul primitive
// (brgemm, AVX-512) ran the MLP's GEMMs in half the time at one thread
// (784x1024 by 128: 2.16 -> 1.07 ms). So float GEMMs above a small size go
// to oneDNN, with one primitive per shape kept; tiny ones, doubles and any
// case oneDNN declines stay with OpenBLAS.
#pragma once

#include <cstdint>

extern "C" {
// cblas_sgemm's signature and meaning (order 101 = row-major, 102 =
// column-major; transposes 111 = no, 112 = yes): compiled code calls it
// under that name (the JIT resolves cblas_sgemm here).
void ember_cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                       const float* b, int ldb, float beta, float* c, int ldc);
}

namespace ember::kernels {

// c[m, n] = alpha * op(a)[m, k] @ op(b)[k, n] + beta * c, row-major.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace ember::kernels
