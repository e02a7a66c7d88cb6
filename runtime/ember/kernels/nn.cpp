// nn.cpp - fused kernels of softmax, log_softmax, layer_norm, the losses,
// embedding and cat.
//
// softmax and layer_norm make one pass over memory: each row is read once
// into cache, reduced and written. Sums use several partial accumulators so
// that the loops vectorize without -ffast-math (see Note [Vectorizable math]).
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ember/kernels/common.h"
#include "ember/kernels/vec_math.h"

namespace ember::kernels {
namespace {

constexpr int kLanes = 16;

// A NaN in the row need not be seen here: exp(NaN - m) makes the sum, and so
// the whole row, NaN, as in PyTorch.
template <typename T>
T row_max(const T* x, int64_t n) {
  T lanes[kLanes];
  for (T& l : lanes) l = -std::numeric_limits<T>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = x[i + l] > lanes[l] ? x[i + l] : lanes[l];
  T m = -std::numeric_limits<T>::infinity();
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  for (T l : lanes) m = l > m ? l : m;
  return m;
}

template <typename T>
inline __attribute__((always_inline)) T exp_of(T v) {
  if constexpr (std::is_same_v<T, float>)
    return vec::exp(v);
  else
    return std::exp(v);
}

// out[i] = exp(x[i] - shift); returns the sum. The terms are at most 1, so
// kLanes partial sums in T lose nothing that matters at T's precision.
template <typename T>
double exp_shifted(const T* x, T* out, int64_t n, T shift) {
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const T e = exp_of<T>(x[i + l] - shift);
      out[i + l] = e;
      lanes[l] += e;
    }
  }
  double total = 0;
  for (; i < n; ++i) {
    out[i] = exp_of<T>(x[i] - shift);
    total += out[i];
  }
  for (T v : lanes) total += v;
  return total;
}

template <typename T>
double lane_sum(const T* x, int64_t n, double center) {
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += double(x[i + l]) - center;
  double total = 0;
  for (; i < n; ++i) total += double(x[i]) - center;
  for (double v : lanes) total += v;
  return total;
}

template <typename T>
double lane_sum_sq(const T* x, int64_t n, double center) {
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = double(x[i + l]) - center;
      lanes[l] += d * d;
    }
  double total = 0;
  for (; i < n; ++i) total += (double(x[i]) - center) * (double(x[i]) - center);
  for (double v : lanes) total += v;
  return total;
}

// Runs a row kernel over `dim` of x: the dim is moved last and made
// contiguous when it is not already; the result is viewed back.
template <typename RowFn>
void over_rows(const OpCall& c, const RowFn& row_fn) {
  const Tensor& x0 = c.inputs[0];
  call_meta(c);
  const int64_t dim = meta::wrap_dim(c.attrs.dim, x0.dim(), op_name(c.op));
  std::vector<int64_t> perm, inverse(std::max<int64_t>(x0.dim(), 1));
  for (int64_t d = 0; d < x0.dim(); ++d)
    if (d != dim) perm.push_back(d);
  if (x0.dim()) perm.push_back(dim);
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  const bool last = dim == x0.dim() - 1 || x0.dim() == 0;
  Tensor x = contiguous(last ? x0 : permute_view(x0, perm));
  Tensor y = make_tensor(x.sizes(), x.dtype());
  const int64_t len = x.dim() ? x.size(x.dim() - 1) : 1;
  const int64_t rows = len ? x.numel() / len : 0;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* in = static_cast<const T*>(x.data_ptr());
      T* out = static_cast<T*>(y.data_ptr());
      parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(len, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t r = b; r < e; ++r) row_fn(in + r * len, out + r * len, len);
                   });
    }
  });
  c.outputs[0] = last ? y : permute_view(y, IntArrayRef(inverse.data(), x0.dim()));
}

void softmax_forward(const OpCall& c) {
  over_rows(c, [](const auto* x, auto* y, int64_t n) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(x)>>;
    const T m = row_max(x, n);
    const T inv = T(1.0 / exp_shifted(x, y, n, m));
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  });
}

void log_softmax_forward(const OpCall& c) {
  over_rows(c, [](const auto* x, auto* y, int64_t n) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(x)>>;
    const T m = row_max(x, n);
    // (x - m) is exact near the max, so small log-probabilities keep their digits.
    const T log_sum = T(std::log(exp_shifted(x, y, n, m)));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - log_sum;
  });
}

void layer_norm_forward(const OpCall& c) {
  const Tensor& x0 = c.inputs[0];
  const int64_t nd = c.attrs.index;
  call_meta(c);
  Shape norm_shape;
  for (int64_t d = x0.dim() - nd; d < x0.dim(); ++d) norm_shape.push_back(x0.size(d));
  const Tensor x = contiguous(x0);
  const Tensor w = c.num_inputs > 1 ? contiguous(c.inputs[1]) : Tensor();
  const Tensor b = c.num_inputs > 2 ? contiguous(c.inputs[2]) : Tensor();
  Tensor& out = prepare_output(c, x.sizes(), x.dtype());
  const int64_t len = norm_shape.numel();
  const int64_t rows = len ? x.numel() / len : 0;
  const double eps = c.attrs.scalar;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* in = static_cast<const T*>(x.data_ptr());
      T* o = static_cast<T*>(out.data_ptr());
      const T* wp = w.defined() ? static_cast<const T*>(w.data_ptr()) : nullptr;
      const T* bp = b.defined() ? static_cast<const T*>(b.data_ptr()) : nullptr;
      parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(len, 1)),
                   [&](int64_t rb, int64_t re) {
                     for (int64_t r = rb; r < re; ++r) {
                       const T* row = in + r * len;
                       T* dst = o + r * len;
                       const double mean = lane_sum(row, len, 0.0) / double(len);
                       const double var = lane_sum_sq(row, len, mean) / double(len);
                       const T m = T(mean), rstd = T(1.0 / std::sqrt(var + eps));
                       if (wp && bp) {
                         for (int64_t i = 0; i < len; ++i) dst[i] = (row[i] - m) * rstd * wp[i] + bp[i];
                       } else if (wp) {
                         for (int64_t i = 0; i < len; ++i) dst[i] = (row[i] - m) * rstd * wp[i];
                       } else {
                         for (int64_t i = 0; i < len; ++i) dst[i] = (row[i] - m) * rstd;
                       }
                     }
                   });
    }
  });
}

// Checks shared by cross_entropy and nll_loss; returns targets as int64.
Tensor check_loss_inputs(const OpCall& c) {
  const char* name = op_name(c.op);
  const Tensor& x = c.inputs[0];
  const Tensor& t = c.inputs[1];
  call_meta(c);
  Tensor ti = contiguous(cast_if_needed(t, DType::Int64));
  const int64_t* tp = static_cast<const int64_t*>(ti.data_ptr());
  for (int64_t i = 0; i < ti.numel(); ++i) {
    EMBER_CHECK(tp[i] == c.attrs.index || (tp[i] >= 0 && tp[i] < x.size(1)), c.loc, name, ": target ", tp[i],
                " at position ", i, " is out of range for ", x.size(1), " classes");
  }
  return ti;
}

// Per-row loss from a row function, then the reduction (mean over non-ignored rows).
template <typename RowLoss>
void loss_forward(const OpCall& c, const RowLoss& row_loss) {
  const Tensor targets = check_loss_inputs(c);
  const Tensor x = contiguous(c.inputs[0]);
  const int64_t n = x.size(0), classes = x.size(1);
  const int64_t* tp = static_cast<const int64_t*>(targets.data_ptr());
  const auto reduction = static_cast<Reduction>(c.attrs.dim);
  Tensor& out = prepare_output(c, reduction == Reduction::None ? Shape{n} : Shape(), x.dtype());
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* in = static_cast<const T*>(x.data_ptr());
      T* o = static_cast<T*>(out.data_ptr());
      std::vector<T> scratch(classes);
      double total = 0;
      int64_t count = 0;
      for (int64_t i = 0; i < n; ++i) {
        const bool ignored = tp[i] == c.attrs.index;
        const double loss = ignored ? 0.0 : row_loss(in + i * classes, classes, tp[i], scratch.data());
        if (reduction == Reduction::None) o[i] = T(loss);
        total += loss;
        count += !ignored;
      }
      if (reduction == Reduction::Sum) o[0] = T(total);
      if (reduction == Reduction::Mean) o[0] = T(total / double(count));  // 0/0 = NaN, as in PyTorch
    }
  });
}

void cross_entropy_forward(const OpCall& c) {
  loss_forward(c, [](const auto* row, int64_t classes, int64_t target, auto* scratch) {
    const auto m = row_max(row, classes);
    const double lse = double(m) + std::log(exp_shifted(row, scratch, classes, m));
    return lse - double(row[target]);
  });
}

void nll_loss_forward(const OpCall& c) {
  loss_forward(c, [](const auto* row, int64_t, int64_t target, auto*) { return -double(row[target]); });
}

// The values of the indices (their dtype and shape are the shape rule's).
Tensor check_indices(const OpCall& c, const Tensor& idx, int64_t limit, const char* what) {
  Tensor ii = contiguous(cast_if_needed(idx, DType::Int64));
  const int64_t* p = static_cast<const int64_t*>(ii.data_ptr());
  for (int64_t i = 0; i < ii.numel(); ++i) {
    EMBER_CHECK(p[i] >= 0 && p[i] < limit, c.loc, op_name(c.op), ": index ", p[i], " at position ", i,
                " is out of range for ", limit, " ", what);
  }
  return ii;
}

void embedding_forward(const OpCall& c) {
  const Tensor& w0 = c.inputs[0];
  const Shape shape = call_meta(c).sizes;
  const Tensor idx = check_indices(c, c.inputs[1], w0.size(0), "embeddings");
  const Tensor w = contiguous(w0);
  const int64_t d = w.size(1);
  Tensor& out = prepare_output(c, shape, w.dtype());
  const int64_t* ip = static_cast<const int64_t*>(idx.data_ptr());
  const size_t row_bytes = d * w.itemsize();
  const char* src = static_cast<const char*>(w.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  for (int64_t i = 0; i < idx.numel(); ++i)
    std::memcpy(dst + i * row_bytes, src + ip[i] * row_bytes, row_bytes);
}

void embedding_backward_forward(const OpCall& c) {
  call_meta(c);
  const Tensor g = contiguous(c.inputs[0]);
  const int64_t rows = c.attrs.index;
  const Tensor idx = check_indices(c, c.inputs[1], rows, "embeddings");
  const int64_t d = g.dim() ? g.size(g.dim() - 1) : 1;
  Tensor& out = c.outputs[0];
  out = zeros_internal(Shape{rows, d}, g.dtype());
  const int64_t* ip = static_cast<const int64_t*>(idx.data_ptr());
  visit_dtype(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* gp = static_cast<const T*>(g.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    for (int64_t i = 0; i < idx.numel(); ++i)
      for (int64_t j = 0; j < d; ++j) o[ip[i] * d + j] += gp[i * d + j];
  });
}

void cat_forward(const OpCall& c) {
  const TensorMeta m = call_meta(c);
  const int64_t dim = meta::wrap_dim(c.attrs.dim, c.inputs[0].dim(), "cat");
  Tensor& out = prepare_output(c, m.sizes, m.dtype);
  int64_t offset = 0;
  for (int i = 0; i < c.num_inputs; ++i) {
    const Tensor& t = c.inputs[i];
    Shape region_sizes = out.sizes();
    region_sizes[dim] = t.size(dim);
    Tensor region = make_view(out, region_sizes, out.strides(), offset * out.stride(dim));
    copy_convert(region, t);
    offset += t.size(dim);
  }
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_nn_kernels(OpRegistry& r) {
  using namespace kernels;
  r.forward(OpId::softmax, &softmax_forward);
  r.forward(OpId::log_softmax, &log_softmax_forward);
  r.forward(OpId::layer_norm, &layer_norm_forward);
  r.forward(OpId::cross_entropy, &cross_entropy_forward);
  r.forward(OpId::nll_loss, &nll_loss_forward);
  r.forward(OpId::embedding, &embedding_forward);
  r.forward(OpId::embedding_backward, &embedding_backward_forward);
  r.forward(OpId::cat, &cat_forward);
}
}  // namespace ember
