// matmul.cpp - matmul through OpenBLAS: 1-D, 2-D and batched with broadcasting.
//
// BLAS reads a matrix in place when one of its strides is 1 (row-major, or
// transposed); only other layouts are copied. A batch whose right operand is
// shared (x[B, M, K] @ w[K, N], as in a linear layer) is folded into one
// [B*M, K] GEMM. Integer matmul uses a plain loop.
#include <vector>

#include "ember/kernels/blas.h"
#include "ember/kernels/common.h"

namespace ember::kernels {
namespace {

// How BLAS can read a 2-D operand of shape [rows, cols] with these strides.
struct BlasMatrix {
  bool usable;
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};
BlasMatrix blas_layout(int64_t rows, int64_t cols, int64_t s0, int64_t s1) {
  if ((s1 == 1 || cols <= 1) && s0 >= std::max<int64_t>(cols, 1)) return {true, CblasNoTrans, s0};
  if ((s0 == 1 || rows <= 1) && s1 >= std::max<int64_t>(rows, 1)) return {true, CblasTrans, s1};
  return {false, CblasNoTrans, 0};
}

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, BlasMatrix la, const T* b, BlasMatrix lb, T* c) {
  if constexpr (std::is_floating_point_v<T>) {
    blas_gemm<T>(la.trans == CblasTrans, lb.trans == CblasTrans, m, n, k, T(1), a, la.ld, b, lb.ld, T(0), c,
                 n);
  } else {
    // Integers: no BLAS. la/lb describe row-major (NoTrans) or column-major.
    auto at = [&](const T* p, BlasMatrix l, int64_t i, int64_t j) {
      return l.trans == CblasNoTrans ? p[i * l.ld + j] : p[j * l.ld + i];
    };
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        T acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += at(a, la, i, p) * at(b, lb, p, j);
        c[i * n + j] = acc;
      }
  }
}

void matmul_forward(const OpCall& c) {
  Tensor a = c.inputs[0], b = c.inputs[1];
  const meta::Matmul mm = meta::matmul(meta_of(a), meta_of(b));
  // 1-D operands become matrices and lose that dimension again in the result.
  if (mm.lhs_vector) a = make_view(a, Shape{1, a.size(0)}, Shape{0, a.stride(0)}, a.storage_offset());
  if (mm.rhs_vector) b = make_view(b, Shape{b.size(0), 1}, Shape{b.stride(0), 0}, b.storage_offset());
  const int64_t m = mm.m, k = mm.k, n = mm.n;
  const Shape& batch = mm.batch;
  const Shape& out_shape = mm.shape;
  Shape a_batch, b_batch;
  for (int64_t d = 0; d + 2 < a.dim(); ++d) a_batch.push_back(a.size(d));
  for (int64_t d = 0; d + 2 < b.dim(); ++d) b_batch.push_back(b.size(d));
  Tensor& out = prepare_output(c, out_shape, a.dtype());
  const int64_t batches = batch.numel();
  if (out.numel() == 0) return;

  // Fold a batch over a shared right operand into one GEMM.
  if (b.dim() == 2 && a.dim() > 2 && a.is_contiguous()) {
    a = make_view(a, Shape{batches * m, k}, Shape{k, 1}, a.storage_offset());
  }
  Shape mshape{batches, m, n};
  visit_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>)
      return;
    else {
      T* o = static_cast<T*>(out.data_ptr());
      if (k == 0) {
        std::fill(o, o + out.numel(), T(0));
        return;
      }
      auto matrix = [&](const Tensor& t, int64_t batch_index,
                        const Shape& tb) -> std::pair<Tensor, BlasMatrix> {
        // The 2-D slice of t for this batch index (broadcast dims stay at 0).
        int64_t off = t.storage_offset(), rem = batch_index;
        for (int64_t d = batch.ndim() - 1; d >= 0; --d) {
          const int64_t i = rem % batch[d];
          rem /= batch[d];
          const int64_t td = d - (batch.ndim() - tb.ndim());
          if (td >= 0 && t.size(td) != 1) off += i * t.stride(td);
        }
        const int64_t r = t.dim() - 2;
        Tensor s = make_view(t, Shape{t.size(r), t.size(r + 1)}, Shape{t.stride(r), t.stride(r + 1)}, off);
        BlasMatrix l = blas_layout(s.size(0), s.size(1), s.stride(0), s.stride(1));
        if (!l.usable) {
          s = cast(s, s.dtype());
          l = blas_layout(s.size(0), s.size(1), s.stride(0), s.stride(1));
        }
        return {s, l};
      };
      if (a.dim() == 2 && b.dim() == 2) {
        auto [sa, la] = matrix(a, 0, Shape());
        auto [sb, lb] = matrix(b, 0, Shape());
        gemm<T>(sa.size(0), n, k, static_cast<const T*>(sa.data_ptr()), la,
                static_cast<const T*>(sb.data_ptr()), lb, o);
        return;
      }
      for (int64_t i = 0; i < batches; ++i) {
        auto [sa, la] = matrix(a, i, a_batch);
        auto [sb, lb] = matrix(b, i, b_batch);
        gemm<T>(m, n, k, static_cast<const T*>(sa.data_ptr()), la, static_cast<const T*>(sb.data_ptr()), lb,
                o + i * m * n);
      }
    }
  });
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_matmul_kernels(OpRegistry& r) { r.forward(OpId::matmul, &kernels::matmul_forward); }
}  // namespace ember
