// sgemm.h - the single-precision GEMM of every matmul, eager or compiled.
//
// Note [oneDNN for sgemm]
// Debian's OpenBLAS 0.3.21 runs its AVX2 (Haswell) kernels on an AMD Zen 5,
// whose AVX-512 units do twice the work per cycle; oneDNN's matmul primitive
// (brgemm, AVX-512) ran the MLP's GEMMs in half the time at one thread
// (784x1024 by 128: 2.16 -> 1.07 ms). So float GEMMs above a small size go
// to oneDNN, with one primitive per shape kept; tiny ones, doubles and any
// case oneDNN declines stay with OpenBLAS.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

extern "C" {
// cblas_sgemm's signature and meaning (order 101 = row-major, 102 =
// column-major; transposes 111 = no, 112 = yes): compiled code calls it
// under that name (the JIT resolves cblas_sgemm here).
void ember_cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                       int lda, const float* b, int ldb, float beta, float* c, int ldc);
}

namespace ember::kernels {

// Note [Pre-packed weights]
// oneDNN runs a GEMM faster from weights reordered into its blocked layout
// (784x1024 by 128: 1.08 -> 1.00 ms), but the reorder costs a pass over the
// weights. A compiled graph knows which operands are its captured tensors
// and, from each one's storage id and version counter, whether their
// contents are what they were at its previous call: inside a
// StableOperands scope, a B operand listed with the stamp it also had on
// the previous call is reordered once and the packed copy used while the
// stamp holds. Training steps change their weights every call, so they
// never pack; inference packs on its second call. The packed copies belong
// to the WeightPacks (one per compiled graph) and go with it. Writes that
// bypass the version counter (through data_ptr()) are not seen: call
// Tensor::bump_version() after them.
class WeightPacks;
std::shared_ptr<WeightPacks> make_weight_packs();

class StableOperands {
 public:
  // stamps: (first element's address, storage id and version) of each
  // buffer the calls in this scope only read; must outlive the scope.
  StableOperands(WeightPacks& packs, const std::vector<std::pair<const void*, uint64_t>>& stamps);
  ~StableOperands();
  StableOperands(const StableOperands&) = delete;
  StableOperands& operator=(const StableOperands&) = delete;
  const uint64_t* stamp_of(const void* address) const;  // null: not listed
  WeightPacks& packs() const { return packs_; }

 private:
  const StableOperands* previous_;
  WeightPacks& packs_;
  const std::vector<std::pair<const void*, uint64_t>>& stamps_;
};
// How many operands `packs` holds packed (for tests).
int64_t packed_operands(const WeightPacks& packs);

// c[m, n] = alpha * op(a)[m, k] @ op(b)[k, n] + beta * c, row-major.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace ember::kernels
