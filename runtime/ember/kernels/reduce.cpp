// reduce.cpp - reductions: sum, mean, var, logsumexp, amax/amin, and the
// value+index reductions max/min/argmax/argmin along one dimension.
//
// A reduction runs in one of two layouts, both vectorized: reduced dims
// trailing (each output reduces a contiguous row) or leading (outputs are
// columns: rows are accumulated one after another, as for a bias gradient).
// Any other layout is first made contiguous in the trailing form. Floats
// accumulate in double.
#include <cmath>
#include <limits>
#include <vector>

#include "ember/kernels/common.h"

namespace ember::kernels {
namespace {

enum class Mode { Sum, Max, Min };

template <typename T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <typename T, typename O, Mode M>
struct Reducer {
  static Acc<T> init(T first) {
    if constexpr (M == Mode::Sum)
      return 0;
    else
      return first;
  }
  static Acc<T> step(Acc<T> acc, T v) {
    if constexpr (M == Mode::Sum)
      return acc + v;
    else if constexpr (M == Mode::Max)
      return (acc != acc || acc > v) ? acc : Acc<T>(v);  // NaN sticks
    else
      return (acc != acc || acc < v) ? acc : Acc<T>(v);
  }
};

// out[m] = reduce over r of x, for x laid out [M, R] (rows) or [R, M] (columns).
template <typename T, typename O, Mode M>
void reduce_contiguous(const T* x, O* out, int64_t rows, int64_t len, bool columns, double scale) {
  using R = Reducer<T, O, M>;
  if (!columns) {
    parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(len, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t m = b; m < e; ++m) {
                     const T* row = x + m * len;
                     Acc<T> acc = R::init(row[0]);
                     for (int64_t r = 0; r < len; ++r) acc = R::step(acc, row[r]);
                     out[m] = static_cast<O>(acc * scale);
                   }
                 });
    return;
  }
  // Columns: x is [len, rows]; accumulate row after row.
  parallel_for(0, rows, std::max<int64_t>(64, kParallelGrain / std::max<int64_t>(len, 1)),
               [&](int64_t b, int64_t e) {
                 std::vector<Acc<T>> acc(e - b);
                 for (int64_t m = b; m < e; ++m) acc[m - b] = R::init(x[m]);
                 for (int64_t r = 0; r < len; ++r) {
                   const T* row = x + r * rows;
                   for (int64_t m = b; m < e; ++m) acc[m - b] = R::step(acc[m - b], row[m]);
                 }
                 for (int64_t m = b; m < e; ++m) out[m] = static_cast<O>(acc[m - b] * scale);
               });
}

template <Mode M>
void reduce_forward(const OpCall& c) {
  const char* name = op_name(c.op);
  const Tensor& x = c.inputs[0];
  const ReduceDims rd = meta::reduce_dims(x.sizes(), c.attrs.ints, c.attrs.has(kKeepdim), name);
  const bool is_mean = c.op == OpId::mean;
  const DType out_dtype = meta::reduce(c.op, meta_of(x), c.attrs).dtype;
  Tensor& out = prepare_output(c, rd.out_shape, out_dtype);
  const int64_t outputs = out.numel();
  if (rd.count == 0) {
    const double fill = is_mean ? std::numeric_limits<double>::quiet_NaN() : 0.0;
    visit_dtype(out_dtype, [&](auto tag) {
      using O = decltype(tag);
      O* o = static_cast<O*>(out.data_ptr());
      for (int64_t i = 0; i < outputs; ++i) o[i] = static_cast<O>(fill);
    });
    return;
  }
  if (outputs == 0) return;
  // Leading reduced dims on a contiguous input: the column layout.
  int64_t first_kept = 0;
  while (first_kept < x.dim() && rd.mask[first_kept]) ++first_kept;
  bool leading = x.is_contiguous() && first_kept > 0;
  for (int64_t d = first_kept; d < x.dim() && leading; ++d) leading = !rd.mask[d];
  Tensor src = x;
  if (!leading) {
    std::vector<int64_t> perm;
    for (int64_t d = 0; d < x.dim(); ++d)
      if (!rd.mask[d]) perm.push_back(d);
    for (int64_t d = 0; d < x.dim(); ++d)
      if (rd.mask[d]) perm.push_back(d);
    src = contiguous(permute_view(x, perm));
  }
  const double scale = is_mean ? 1.0 / static_cast<double>(rd.count) : 1.0;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(src.data_ptr());
    if constexpr (M == Mode::Sum && !std::is_floating_point_v<T>) {
      reduce_contiguous<T, int64_t, M>(in, static_cast<int64_t*>(out.data_ptr()), outputs, rd.count, leading,
                                       1.0);
    } else {
      reduce_contiguous<T, T, M>(in, static_cast<T*>(out.data_ptr()), outputs, rd.count, leading, scale);
    }
  });
}

void var_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  meta::reduce(c.op, meta_of(x), c.attrs);
  const bool keepdim = c.attrs.has(kKeepdim);
  const ReduceDims rd = meta::reduce_dims(x.sizes(), c.attrs.ints, keepdim, "var");
  InternalScope scope;
  // Two passes (mean, then squared deviations) for accuracy.
  Tensor centered = x - x.mean(c.attrs.ints, /*keepdim=*/true);
  Tensor ss = (centered * centered).sum(c.attrs.ints, keepdim);
  const double denom = static_cast<double>(rd.count - c.attrs.index);
  Tensor result = ss / denom;
  Tensor& out = prepare_output(c, rd.out_shape, x.dtype());
  copy_convert(out, result);
}

void logsumexp_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  meta::reduce(c.op, meta_of(x), c.attrs);
  const bool keepdim = c.attrs.has(kKeepdim);
  const ReduceDims rd = meta::reduce_dims(x.sizes(), c.attrs.ints, keepdim, "logsumexp");
  InternalScope scope;
  Tensor m = x.numel() ? x.amax(c.attrs.ints, /*keepdim=*/true) : zeros(rd.kept_shape, x.dtype());
  // An all -inf (or inf) slice keeps its max out of the shift: exp(x - m) must not be NaN.
  m = where(m.abs().eq(std::numeric_limits<double>::infinity()), zeros_like(m), m);
  Tensor s = (x - m).exp().sum(c.attrs.ints, /*keepdim=*/true).log() + m;
  Tensor& out = prepare_output(c, rd.out_shape, x.dtype());
  copy_convert(out, s.view(rd.out_shape));
}

// max/min/argmax/argmin along one dim: the dim is moved last and each row scanned.
template <bool kMax>
void index_reduce_forward(const OpCall& c) {
  const char* name = op_name(c.op);
  const Tensor& x = c.inputs[0];
  const Shape out_shape = meta::index_reduce(c.op, meta_of(x), c.attrs);
  const int64_t dim = meta::wrap_dim(c.attrs.dim, x.dim(), name);
  const int64_t len = x.dim() ? x.size(dim) : 1;
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != dim) perm.push_back(d);
  if (x.dim()) perm.push_back(dim);
  Tensor src = contiguous(permute_view(x, perm));
  const int64_t rows = out_shape.numel();
  const bool want_values = c.num_outputs == 2;
  Tensor values = want_values ? make_tensor(out_shape, x.dtype()) : Tensor();
  Tensor indices = make_tensor(out_shape, DType::Int64);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(src.data_ptr());
    int64_t* idx = static_cast<int64_t*>(indices.data_ptr());
    T* val = want_values ? static_cast<T*>(values.data_ptr()) : nullptr;
    parallel_for(0, rows, std::max<int64_t>(1, kParallelGrain / len), [&](int64_t b, int64_t e) {
      for (int64_t m = b; m < e; ++m) {
        const T* row = in + m * len;
        int64_t best = 0;
        for (int64_t r = 1; r < len; ++r) {
          if (row[best] != row[best]) break;  // NaN wins, first one
          const bool better =
              kMax ? (row[r] > row[best] || row[r] != row[r]) : (row[r] < row[best] || row[r] != row[r]);
          if (better) best = r;
        }
        idx[m] = best;
        if (val) val[m] = row[best];
      }
    });
  });
  if (want_values) {
    c.outputs[0] = values;
    c.outputs[1] = indices;
  } else {
    c.outputs[0] = indices;
  }
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_reduce_kernels(OpRegistry& r) {
  using namespace kernels;
  r.forward(OpId::sum, &reduce_forward<Mode::Sum>);
  r.forward(OpId::mean, &reduce_forward<Mode::Sum>);
  r.forward(OpId::amax, &reduce_forward<Mode::Max>);
  r.forward(OpId::amin, &reduce_forward<Mode::Min>);
  r.forward(OpId::var, &var_forward);
  r.forward(OpId::logsumexp, &logsumexp_forward);
  r.forward(OpId::max_dim, &index_reduce_forward<true>);
  r.forward(OpId::min_dim, &index_reduce_forward<false>);
  r.forward(OpId::argmax, &index_reduce_forward<true>);
  r.forward(OpId::argmin, &index_reduce_forward<false>);
}
}  // namespace ember
