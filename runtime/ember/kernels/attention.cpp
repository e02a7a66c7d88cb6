// attention.cpp - tiled attention, forward and backward (Note [Tiled
// attention] in attention.h), and the eager kernels of the attention ops.
#include "ember/kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ember/kernels/blas.h"
#include "ember/kernels/common.h"
#include "ember/kernels/vec_math.h"
#include "ember/threading.h"

namespace ember::kernels {
namespace {

// Query rows per block, and keys per block: a block of scores is 64 x 512
// (128 KiB of floats, in L2); up to 512 keys the softmax is exact in one
// pass, beyond that the online recurrence rescales.
constexpr int64_t kQueryBlock = 64, kKeyBlock = 512;

template <typename T>
EMBER_VEC_INLINE T exp_of(T x) {  // inlined: a call per element kept the loops scalar
  if constexpr (std::is_same_v<T, float>)
    return vec::exp(x);
  else
    return std::exp(x);
}

// Row reductions in 16 independent lanes: a single running max or sum is a
// dependency chain the compiler may not reorder (no -ffast-math), which
// kept the whole exp loop scalar; 16 partial results vectorize (AVX-512:
// one register; AVX2: two). The max's order does not matter; the sum's
// rounding is that of 16 interleaved partial sums.
constexpr int kLanes = 16;

template <typename T>
T row_max(const T* row, int64_t n) {
  T lanes[kLanes];
  std::fill(lanes, lanes + kLanes, -std::numeric_limits<T>::infinity());
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] = row[c + j] > lanes[j] ? row[c + j] : lanes[j];
  T top = -std::numeric_limits<T>::infinity();
  for (; c < n; ++c) top = std::max(top, row[c]);
  for (int j = 0; j < kLanes; ++j) top = std::max(top, lanes[j]);
  return top;
}

// row[c] = exp(row[c] - m) (0 for -inf), and their sum.
template <typename T>
T exp_and_sum(T* row, int64_t n, T m) {
  const T neg_inf = -std::numeric_limits<T>::infinity();
  T lanes[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const T e = row[c + j] == neg_inf ? T(0) : exp_of<T>(row[c + j] - m);
      row[c + j] = e;
      lanes[j] += e;
    }
  T sum = 0;
  for (; c < n; ++c) {
    const T e = row[c] == neg_inf ? T(0) : exp_of<T>(row[c] - m);
    row[c] = e;
    sum += e;
  }
  for (int j = 0; j < kLanes; ++j) sum += lanes[j];
  return sum;
}

// A [batch, heads, rows, cols] operand whose last dim has unit stride; a
// copy when the caller's is not.
template <typename T>
struct Operand {
  const T* data;
  int64_t sizes[4], strides[4];
  std::vector<T> copy;

  explicit Operand(const MemRef<T, 4>& m) {
    std::copy(m.sizes, m.sizes + 4, sizes);
    std::copy(m.strides, m.strides + 4, strides);
    data = m.data();
    if (strides[3] == 1 || sizes[3] <= 1) return;
    copy.resize(sizes[0] * sizes[1] * sizes[2] * sizes[3]);
    T* out = copy.data();
    for (int64_t a = 0; a < sizes[0]; ++a)
      for (int64_t b = 0; b < sizes[1]; ++b)
        for (int64_t r = 0; r < sizes[2]; ++r)
          for (int64_t c = 0; c < sizes[3]; ++c)
            *out++ = data[a * strides[0] + b * strides[1] + r * strides[2] + c * strides[3]];
    data = copy.data();
    strides[3] = 1, strides[2] = sizes[3], strides[1] = sizes[2] * sizes[3],
    strides[0] = sizes[1] * strides[1];
  }
  // Row `r` of batch a, head h (a size-1 batch or head dim broadcasts).
  const T* row(int64_t a, int64_t h, int64_t r) const {
    return data + (sizes[0] == 1 ? 0 : a * strides[0]) + (sizes[1] == 1 ? 0 : h * strides[1]) +
           r * strides[2];
  }
  int64_t ld() const { return std::max<int64_t>(strides[2], sizes[3]); }
};

template <typename T>
struct Problem {
  Operand<T> q, k, v, mask;
  bool has_mask, causal;
  T scale;
  int64_t batch, heads, t, s, d, dv;

  Problem(const MemRef<T, 4>& q_, const MemRef<T, 4>& k_, const MemRef<T, 4>& v_, const MemRef<T, 4>& mask_,
          double scale_, int64_t flags)
      : q(q_), k(k_), v(v_), mask(mask_), causal(flags & kAttentionCausal), scale(T(scale_)) {
    batch = q.sizes[0], heads = q.sizes[1], t = q.sizes[2], d = q.sizes[3];
    s = k.sizes[2], dv = v.sizes[3];
    has_mask = !(mask.sizes[0] == 1 && mask.sizes[1] == 1 && mask.sizes[2] == 1 && mask.sizes[3] == 1 &&
                 mask.data[0] == T(0));
  }
  // The mask's value for query i, key j (broadcast over its size-1 dims).
  T mask_at(int64_t a, int64_t h, int64_t i, int64_t j) const {
    const int64_t* st = mask.strides;
    const int64_t* sz = mask.sizes;
    return mask.data[(sz[0] == 1 ? 0 : a * st[0]) + (sz[1] == 1 ? 0 : h * st[1]) +
                     (sz[2] == 1 ? 0 : i * st[2]) + (sz[3] == 1 ? 0 : j * st[3])];
  }
  // Keys a query block [i0, i1) may see: all, or up to the last query's own.
  int64_t key_limit(int64_t i1) const { return causal ? std::min(s, i1) : s; }
  // Scores of queries [i0, i0 + rows) against keys [j0, j0 + cols) into
  // `out` (ld kKeyBlock), masked: -inf where a query may not attend.
  void scores(int64_t a, int64_t h, int64_t i0, int64_t rows, int64_t j0, int64_t cols, T* out) const {
    blas_gemm<T>(false, true, rows, cols, d, scale, q.row(a, h, i0), q.ld(), k.row(a, h, j0), k.ld(), T(0),
                 out, kKeyBlock);
    const T neg_inf = -std::numeric_limits<T>::infinity();
    for (int64_t r = 0; r < rows; ++r) {
      T* row = out + r * kKeyBlock;
      if (has_mask)
        for (int64_t c = 0; c < cols; ++c) row[c] += mask_at(a, h, i0 + r, j0 + c);
      if (causal)
        for (int64_t c = std::max<int64_t>(0, i0 + r + 1 - j0); c < cols; ++c) row[c] = neg_inf;
    }
  }
};

template <typename T>
void forward(Problem<T>& p, const MemRef<T, 4>& out, const MemRef<T, 3>& lse) {
  const int64_t blocks = (p.t + kQueryBlock - 1) / kQueryBlock;
  const T neg_inf = -std::numeric_limits<T>::infinity();
  parallel_for(0, p.batch * p.heads * blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> scores(kQueryBlock * kKeyBlock), acc(kQueryBlock * p.dv), m(kQueryBlock), l(kQueryBlock);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t a = task / (p.heads * blocks), h = task / blocks % p.heads;
      const int64_t i0 = task % blocks * kQueryBlock, rows = std::min(kQueryBlock, p.t - i0);
      std::fill(acc.begin(), acc.end(), T(0));
      std::fill(m.begin(), m.end(), neg_inf);
      std::fill(l.begin(), l.end(), T(0));
      const int64_t limit = p.key_limit(i0 + rows);
      for (int64_t j0 = 0; j0 < limit; j0 += kKeyBlock) {
        const int64_t cols = std::min(kKeyBlock, limit - j0);
        p.scores(a, h, i0, rows, j0, cols, scores.data());
        for (int64_t r = 0; r < rows; ++r) {
          T* row = scores.data() + r * kKeyBlock;
          const T m_new = std::max(m[r], row_max(row, cols));
          if (m_new == neg_inf) {  // nothing to attend to yet: no weight
            std::fill(row, row + cols, T(0));
            continue;
          }
          const T sum = exp_and_sum(row, cols, m_new);
          const T rescale = m[r] == neg_inf ? T(0) : exp_of<T>(m[r] - m_new);
          l[r] = l[r] * rescale + sum;
          m[r] = m_new;
          if (rescale != T(1))
            for (int64_t c = 0; c < p.dv; ++c) acc[r * p.dv + c] *= rescale;
        }
        blas_gemm<T>(false, false, rows, p.dv, cols, T(1), scores.data(), kKeyBlock, p.v.row(a, h, j0),
                     p.v.ld(), T(1), acc.data(), p.dv);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = i0 + r;
        T* o = out.data() + a * out.strides[0] + h * out.strides[1] + i * out.strides[2];
        // A row that attends to nothing is 0 / 0: NaN, as PyTorch's.
        for (int64_t c = 0; c < p.dv; ++c) o[c * out.strides[3]] = acc[r * p.dv + c] / l[r];
        lse.data()[a * lse.strides[0] + h * lse.strides[1] + i * lse.strides[2]] = m[r] + std::log(l[r]);
      }
    }
  });
}

// FlashAttention-2's backward per (batch, head): the probabilities of each
// block recomputed from the scores and the log-sum-exp; dq accumulates
// over key blocks, dk and dv over query blocks.
template <typename T>
void backward(Problem<T>& p, const MemRef<T, 4>& grad_m, const MemRef<T, 4>& out_m, const MemRef<T, 3>& lse,
              const MemRef<T, 4>& dq, const MemRef<T, 4>& dk, const MemRef<T, 4>& dv) {
  const Operand<T> grad(grad_m), out(out_m);
  const T neg_inf = -std::numeric_limits<T>::infinity();
  parallel_for(0, p.batch * p.heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> probs(kQueryBlock * kKeyBlock), dprobs(kQueryBlock * kKeyBlock), delta(p.t);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t a = task / p.heads, h = task % p.heads;
      const auto rows_of = [&](const MemRef<T, 4>& m, int64_t r) {
        return m.data() + a * m.strides[0] + h * m.strides[1] + r * m.strides[2];
      };
      for (const MemRef<T, 4>* g : {&dq, &dk, &dv})
        for (int64_t r = 0; r < g->sizes[2]; ++r)
          std::fill(rows_of(*g, r), rows_of(*g, r) + g->sizes[3], T(0));
      // delta_i = sum_c dO[i, c] O[i, c]
      for (int64_t i = 0; i < p.t; ++i) {
        const T *go = grad.row(a, h, i), *o = out.row(a, h, i);
        T sum = 0;
        for (int64_t c = 0; c < p.dv; ++c) sum += go[c] * o[c];
        delta[i] = sum;
      }
      const T* lse_row = lse.data() + a * lse.strides[0] + h * lse.strides[1];
      for (int64_t i0 = 0; i0 < p.t; i0 += kQueryBlock) {
        const int64_t rows = std::min(kQueryBlock, p.t - i0), limit = p.key_limit(i0 + rows);
        for (int64_t j0 = 0; j0 < limit; j0 += kKeyBlock) {
          const int64_t cols = std::min(kKeyBlock, limit - j0);
          p.scores(a, h, i0, rows, j0, cols, probs.data());
          for (int64_t r = 0; r < rows; ++r) {
            T* row = probs.data() + r * kKeyBlock;
            const T l = lse_row[(i0 + r) * lse.strides[2]];
            for (int64_t c = 0; c < cols; ++c) row[c] = row[c] == neg_inf ? T(0) : exp_of<T>(row[c] - l);
          }
          // dv_j += P^T dO_i
          blas_gemm<T>(true, false, cols, p.dv, rows, T(1), probs.data(), kKeyBlock, grad.row(a, h, i0),
                       grad.ld(), T(1), rows_of(dv, j0), dv.strides[2]);
          // dP = dO_i V_j^T; dS = P (dP - delta)
          blas_gemm<T>(false, true, rows, cols, p.dv, T(1), grad.row(a, h, i0), grad.ld(), p.v.row(a, h, j0),
                       p.v.ld(), T(0), dprobs.data(), kKeyBlock);
          for (int64_t r = 0; r < rows; ++r) {
            T* ds = dprobs.data() + r * kKeyBlock;
            const T* pr = probs.data() + r * kKeyBlock;
            for (int64_t c = 0; c < cols; ++c) ds[c] = pr[c] * (ds[c] - delta[i0 + r]);
          }
          // dq_i += scale dS K_j; dk_j += scale dS^T Q_i
          blas_gemm<T>(false, false, rows, p.d, cols, p.scale, dprobs.data(), kKeyBlock, p.k.row(a, h, j0),
                       p.k.ld(), T(1), rows_of(dq, i0), dq.strides[2]);
          blas_gemm<T>(true, false, cols, p.d, rows, p.scale, dprobs.data(), kKeyBlock, p.q.row(a, h, i0),
                       p.q.ld(), T(1), rows_of(dk, j0), dk.strides[2]);
        }
      }
    }
  });
}

// --- eager kernels ---------------------------------------------------------

template <typename T, int N>
MemRef<T, N> memref_of(const Tensor& t) {
  MemRef<T, N> m{};
  m.allocated = m.aligned = static_cast<T*>(const_cast<void*>(t.data_ptr()));
  m.offset = 0;
  const int64_t pad = N - t.dim();  // leading dims of size 1
  for (int i = 0; i < N; ++i) {
    m.sizes[i] = i < pad ? 1 : t.size(i - pad);
    m.strides[i] = i < pad ? 0 : t.stride(i - pad);
  }
  return m;
}

// The mask as an additive float tensor of `dtype`: bool true -> 0 (may
// attend), false -> -inf; none (null) -> a single 0.
Tensor additive_mask(const Tensor* mask, DType dtype) {
  if (!mask) return zeros_internal({1, 1, 1, 1}, dtype);
  if (mask->dtype() != DType::Bool) return cast_if_needed(*mask, dtype);
  InternalScope internal;
  // (Two 0-d operands promote like numbers, to float32: cast after.)
  return cast_if_needed(where(*mask, scalar_tensor(0.0), scalar_tensor(-INFINITY)), dtype);
}

int64_t flags_of(const OpAttrs& attrs) { return attrs.has(kCausal) ? kAttentionCausal : 0; }

// inputs: q, k, v[, mask]; outputs: out, lse.
template <typename T>
void attention_forward_typed(const OpCall& c, Tensor& out, Tensor& lse) {
  const Tensor mask = additive_mask(c.num_inputs == 4 ? &c.inputs[3] : nullptr, c.inputs[0].dtype());
  Problem<T> p(memref_of<T, 4>(c.inputs[0]), memref_of<T, 4>(c.inputs[1]), memref_of<T, 4>(c.inputs[2]),
               memref_of<T, 4>(mask), c.attrs.scalar, flags_of(c.attrs));
  forward(p, memref_of<T, 4>(out), memref_of<T, 3>(lse));
}

void attention_forward(const OpCall& c) {
  allocate_outputs(c);
  if (c.inputs[0].dtype() == DType::Float64)
    attention_forward_typed<double>(c, c.outputs[0], c.outputs[1]);
  else
    attention_forward_typed<float>(c, c.outputs[0], c.outputs[1]);
}

// The last-dim columns [first, first + count) of a row-major `whole`.
template <typename T>
MemRef<T, 4> columns(const MemRef<T, 4>& whole, int64_t first, int64_t count) {
  MemRef<T, 4> m = whole;
  m.offset += first * whole.strides[3];
  m.sizes[3] = count;
  return m;
}

// inputs: grad, q, k, v, out, lse[, mask]; outputs: dq, and dk and dv side
// by side along the last dim.
template <typename T>
void attention_backward_typed(const OpCall& c) {
  const Tensor &grad = c.inputs[0], &q = c.inputs[1], &k = c.inputs[2], &v = c.inputs[3];
  const Tensor mask = additive_mask(c.num_inputs == 7 ? &c.inputs[6] : nullptr, q.dtype());
  const auto dkv = memref_of<T, 4>(c.outputs[1]);
  const int64_t d = k.size(-1), dv = v.size(-1);
  Problem<T> p(memref_of<T, 4>(q), memref_of<T, 4>(k), memref_of<T, 4>(v), memref_of<T, 4>(mask),
               c.attrs.scalar, flags_of(c.attrs));
  backward(p, memref_of<T, 4>(grad), memref_of<T, 4>(c.inputs[4]), memref_of<T, 3>(c.inputs[5]),
           memref_of<T, 4>(c.outputs[0]), columns(dkv, 0, d), columns(dkv, d, dv));
}

void attention_backward_forward(const OpCall& c) {
  allocate_outputs(c);
  if (c.inputs[1].dtype() == DType::Float64)
    attention_backward_typed<double>(c);
  else
    attention_backward_typed<float>(c);
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_attention_kernels(OpRegistry& r) {
  r.forward(OpId::attention, &kernels::attention_forward);
  r.forward(OpId::attention_backward, &kernels::attention_backward_forward);
}
}  // namespace ember

// --- entry points of compiled code ---------------------------------------------

using ember::kernels::MemRef;

#define EMBER_ATTENTION_ENTRY(T, suffix)                                                               \
  void _mlir_ciface_ember_attention_##suffix(MemRef<T, 4>* q, MemRef<T, 4>* k, MemRef<T, 4>* v,        \
                                             MemRef<T, 4>* mask, MemRef<T, 4>* out, MemRef<T, 3>* lse, \
                                             double scale, int64_t flags) {                            \
    ember::kernels::Problem<T> p(*q, *k, *v, *mask, scale, flags);                                     \
    ember::kernels::forward(p, *out, *lse);                                                            \
  }                                                                                                    \
  void _mlir_ciface_ember_attention_backward_##suffix(                                                 \
      MemRef<T, 4>* grad, MemRef<T, 4>* q, MemRef<T, 4>* k, MemRef<T, 4>* v, MemRef<T, 4>* out,        \
      MemRef<T, 3>* lse, MemRef<T, 4>* mask, MemRef<T, 4>* dq, MemRef<T, 4>* dk, MemRef<T, 4>* dv,     \
      double scale, int64_t flags) {                                                                   \
    ember::kernels::Problem<T> p(*q, *k, *v, *mask, scale, flags);                                     \
    ember::kernels::backward(p, *grad, *out, *lse, *dq, *dk, *dv);                                     \
  }

extern "C" {
EMBER_ATTENTION_ENTRY(float, f32)
EMBER_ATTENTION_ENTRY(double, f64)
}
