// attention.h - the attention kernel of eager and compiled code alike.
//
// Note [Tiled attention]
// softmax(q k^T * scale + mask) v for each batch and head, computed a block
// of queries at a time against blocks of keys with an online softmax (the
// FlashAttention recurrence): the [T, S] score matrix of a head never
// exists, only one block of it per thread, so memory grows linearly in the
// sequence length. A causal mask skips the key blocks wholly after the
// query block (half the work at long sequences). The forward also writes
// each row's log-sum-exp, from which the backward recomputes the
// probabilities block by block instead of storing them. The GEMMs of a
// block are the same sgemm every matmul calls (blas.h).
//
// Compiled code calls these entry points on its buffers (the compiler's
// external calls), so eager and compiled attention are the same kernel:
// the arguments are MLIR's strided memref descriptors (C interface), rank
// 4 for [batch, heads, rows, cols] and rank 3 for the log-sum-exp. A mask
// is always passed (a [1, 1, 1, 1] zero when there is none) and added to
// the scores, broadcast over its dims of size 1.
#pragma once

#include <cstdint>

namespace ember::kernels {

template <typename T, int N>
struct MemRef {
  T* allocated;
  T* aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
  T* data() const { return aligned + offset; }
};

inline constexpr int64_t kAttentionCausal = 1;  // bit of `flags`

}  // namespace ember::kernels

extern "C" {
// out = attention(q, k, v, mask), lse = each row's log-sum-exp of the scores.
void _mlir_ciface_ember_attention_f32(ember::kernels::MemRef<float, 4>* q,
                                      ember::kernels::MemRef<float, 4>* k,
                                      ember::kernels::MemRef<float, 4>* v,
                                      ember::kernels::MemRef<float, 4>* mask,
                                      ember::kernels::MemRef<float, 4>* out,
                                      ember::kernels::MemRef<float, 3>* lse, double scale, int64_t flags);
void _mlir_ciface_ember_attention_f64(ember::kernels::MemRef<double, 4>* q,
                                      ember::kernels::MemRef<double, 4>* k,
                                      ember::kernels::MemRef<double, 4>* v,
                                      ember::kernels::MemRef<double, 4>* mask,
                                      ember::kernels::MemRef<double, 4>* out,
                                      ember::kernels::MemRef<double, 3>* lse, double scale, int64_t flags);
// dq, dk, dv (overwritten) from the output's gradient and the forward's out
// and lse.
void _mlir_ciface_ember_attention_backward_f32(
    ember::kernels::MemRef<float, 4>* grad, ember::kernels::MemRef<float, 4>* q,
    ember::kernels::MemRef<float, 4>* k, ember::kernels::MemRef<float, 4>* v,
    ember::kernels::MemRef<float, 4>* out, ember::kernels::MemRef<float, 3>* lse,
    ember::kernels::MemRef<float, 4>* mask, ember::kernels::MemRef<float, 4>* dq,
    ember::kernels::MemRef<float, 4>* dk, ember::kernels::MemRef<float, 4>* dv, double scale, int64_t flags);
void _mlir_ciface_ember_attention_backward_f64(
    ember::kernels::MemRef<double, 4>* grad, ember::kernels::MemRef<double, 4>* q,
    ember::kernels::MemRef<double, 4>* k, ember::kernels::MemRef<double, 4>* v,
    ember::kernels::MemRef<double, 4>* out, ember::kernels::MemRef<double, 3>* lse,
    ember::kernels::MemRef<double, 4>* mask, ember::kernels::MemRef<double, 4>* dq,
    ember::kernels::MemRef<double, 4>* dk, ember::kernels::MemRef<double, 4>* dv, double scale,
    int64_t flags);
}
