// conv_pool.cpp - conv2d (im2col + GEMM) with its two gradients, and 2-D
// max and average pooling with theirs.
//
// Geometry attrs: conv2d ints = {stride h, w, padding h, w, dilation h, w};
// pooling ints = {kernel h, w, stride h, w, padding h, w}. Each gradient op
// also gets the shape it produces in ints2.
#include <limits>
#include <vector>

#include "ember/kernels/blas.h"
#include "ember/kernels/common.h"

namespace ember::kernels {
namespace {

struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
  int64_t ckk() const { return c * kh * kw; }
  int64_t ohw() const { return oh * ow; }
};

// The geometry of the shape rule (meta::conv2d), with the GEMM's sizes.
ConvGeometry conv_geometry(const Shape& x, const Shape& wt, const Shape& g, const char* name) {
  const meta::ConvGeometry m = meta::conv2d(x, wt, g, name);
  return {m.n, m.c, m.h, m.w, m.o, m.kh, m.kw, m.sh, m.sw, m.ph, m.pw, m.dh, m.dw, m.oh, m.ow};
}

// cols[(c, i, j), (y, x)] = input[c, y*sh - ph + i*dh, x*sw - pw + j*dw] (0 outside).
template <typename T>
void im2col(const T* in, const ConvGeometry& q, T* cols) {
  for (int64_t c = 0; c < q.c; ++c)
    for (int64_t i = 0; i < q.kh; ++i)
      for (int64_t j = 0; j < q.kw; ++j) {
        T* row = cols + ((c * q.kh + i) * q.kw + j) * q.ohw();
        for (int64_t y = 0; y < q.oh; ++y) {
          const int64_t iy = y * q.sh - q.ph + i * q.dh;
          for (int64_t x = 0; x < q.ow; ++x) {
            const int64_t ix = x * q.sw - q.pw + j * q.dw;
            row[y * q.ow + x] =
                (iy >= 0 && iy < q.h && ix >= 0 && ix < q.w) ? in[(c * q.h + iy) * q.w + ix] : T(0);
          }
        }
      }
}

template <typename T>
void col2im(const T* cols, const ConvGeometry& q, T* in) {
  for (int64_t c = 0; c < q.c; ++c)
    for (int64_t i = 0; i < q.kh; ++i)
      for (int64_t j = 0; j < q.kw; ++j) {
        const T* row = cols + ((c * q.kh + i) * q.kw + j) * q.ohw();
        for (int64_t y = 0; y < q.oh; ++y) {
          const int64_t iy = y * q.sh - q.ph + i * q.dh;
          if (iy < 0 || iy >= q.h) continue;
          for (int64_t x = 0; x < q.ow; ++x) {
            const int64_t ix = x * q.sw - q.pw + j * q.dw;
            if (ix >= 0 && ix < q.w) in[(c * q.h + iy) * q.w + ix] += row[y * q.ow + x];
          }
        }
      }
}

template <typename Fn>
void float_types(DType t, const OpCall& c, const Fn& fn) {
  EMBER_CHECK(is_floating(t), c.loc, op_name(c.op), ": needs floating-point tensors, not ", dtype_name(t));
  if (t == DType::Float32)
    fn(float{});
  else
    fn(double{});
}

void conv2d_forward(const OpCall& c) {
  call_meta(c);
  const ConvGeometry q = conv_geometry(c.inputs[0].sizes(), c.inputs[1].sizes(), c.attrs.ints, "conv2d");
  const Tensor x = contiguous(c.inputs[0]), w = contiguous(c.inputs[1]);
  Tensor bias;
  if (c.num_inputs > 2) {
    bias = contiguous(c.inputs[2]);
  }
  Tensor& out = prepare_output(c, Shape{q.n, q.o, q.oh, q.ow}, x.dtype());
  float_types(x.dtype(), c, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> cols(q.ckk() * q.ohw());
    for (int64_t n = 0; n < q.n; ++n) {
      im2col(static_cast<const T*>(x.data_ptr()) + n * q.c * q.h * q.w, q, cols.data());
      T* o = static_cast<T*>(out.data_ptr()) + n * q.o * q.ohw();
      blas_gemm<T>(false, false, q.o, q.ohw(), q.ckk(), T(1), static_cast<const T*>(w.data_ptr()), q.ckk(),
                   cols.data(), q.ohw(), T(0), o, q.ohw());
      if (bias.defined()) {
        const T* b = static_cast<const T*>(bias.data_ptr());
        for (int64_t k = 0; k < q.o; ++k)
          for (int64_t p = 0; p < q.ohw(); ++p) o[k * q.ohw() + p] += b[k];
      }
    }
  });
}

void conv2d_backward_input_forward(const OpCall& c) {
  call_meta(c);
  const Tensor g = contiguous(c.inputs[0]), w = contiguous(c.inputs[1]);
  const ConvGeometry q = conv_geometry(c.attrs.ints2, w.sizes(), c.attrs.ints, "conv2d_backward_input");
  Tensor& out = c.outputs[0];
  out = zeros_internal(c.attrs.ints2, g.dtype());
  float_types(g.dtype(), c, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> cols(q.ckk() * q.ohw());
    for (int64_t n = 0; n < q.n; ++n) {
      blas_gemm<T>(true, false, q.ckk(), q.ohw(), q.o, T(1), static_cast<const T*>(w.data_ptr()), q.ckk(),
                   static_cast<const T*>(g.data_ptr()) + n * q.o * q.ohw(), q.ohw(), T(0), cols.data(),
                   q.ohw());
      col2im(cols.data(), q, static_cast<T*>(out.data_ptr()) + n * q.c * q.h * q.w);
    }
  });
}

void conv2d_backward_weight_forward(const OpCall& c) {
  call_meta(c);
  const Tensor g = contiguous(c.inputs[0]), x = contiguous(c.inputs[1]);
  const ConvGeometry q = conv_geometry(x.sizes(), c.attrs.ints2, c.attrs.ints, "conv2d_backward_weight");
  Tensor& out = c.outputs[0];
  out = zeros_internal(c.attrs.ints2, g.dtype());
  float_types(g.dtype(), c, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> cols(q.ckk() * q.ohw());
    for (int64_t n = 0; n < q.n; ++n) {
      im2col(static_cast<const T*>(x.data_ptr()) + n * q.c * q.h * q.w, q, cols.data());
      blas_gemm<T>(false, true, q.o, q.ckk(), q.ohw(), T(1),
                   static_cast<const T*>(g.data_ptr()) + n * q.o * q.ohw(), q.ohw(), cols.data(), q.ohw(),
                   T(1), static_cast<T*>(out.data_ptr()), q.ckk());
    }
  });
}

struct PoolGeometry {
  int64_t planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
};

PoolGeometry pool_geometry(const Shape& x, const Shape& g, const char* name) {
  const meta::ConvGeometry m = meta::pool2d(x, g, name);
  return {m.n * m.c, m.h, m.w, m.kh, m.kw, m.sh, m.sw, m.ph, m.pw, m.oh, m.ow};
}

// Calls fn(plane, y, x, iy, ix) for every input position in each output window.
template <typename Fn>
void for_each_window(const PoolGeometry& q, int64_t p, int64_t y, int64_t x, const Fn& fn) {
  for (int64_t i = 0; i < q.kh; ++i) {
    const int64_t iy = y * q.sh - q.ph + i;
    if (iy < 0 || iy >= q.h) continue;
    for (int64_t j = 0; j < q.kw; ++j) {
      const int64_t ix = x * q.sw - q.pw + j;
      if (ix >= 0 && ix < q.w) fn(iy * q.w + ix);
    }
  }
}

template <bool kMax>
void pool_forward(const OpCall& c) {
  call_meta(c);
  const Tensor x = contiguous(c.inputs[0]);
  const PoolGeometry q = pool_geometry(x.sizes(), c.attrs.ints, op_name(c.op));
  Tensor& out = prepare_output(c, Shape{x.size(0), x.size(1), q.oh, q.ow}, x.dtype());
  float_types(x.dtype(), c, [&](auto tag) {
    using T = decltype(tag);
    const T* in = static_cast<const T*>(x.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    parallel_for(0, q.planes, 1, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p)
        for (int64_t y = 0; y < q.oh; ++y)
          for (int64_t xx = 0; xx < q.ow; ++xx) {
            const T* plane = in + p * q.h * q.w;
            T acc = kMax ? -std::numeric_limits<T>::infinity() : T(0);
            for_each_window(q, p, y, xx, [&](int64_t k) {
              if constexpr (kMax)
                acc = (plane[k] > acc || plane[k] != plane[k]) ? plane[k] : acc;
              else
                acc += plane[k];
            });
            o[(p * q.oh + y) * q.ow + xx] = kMax ? acc : acc / T(q.kh * q.kw);
          }
    });
  });
}

template <bool kMax>
void pool_backward_forward(const OpCall& c) {
  call_meta(c);
  const Tensor g = contiguous(c.inputs[0]);
  const Shape in_shape = kMax ? c.inputs[1].sizes() : c.attrs.ints2;
  const Tensor x = kMax ? contiguous(c.inputs[1]) : Tensor();
  const PoolGeometry q = pool_geometry(in_shape, c.attrs.ints, op_name(c.op));
  Tensor& out = c.outputs[0];
  out = zeros_internal(in_shape, g.dtype());
  float_types(g.dtype(), c, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = static_cast<const T*>(g.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    for (int64_t p = 0; p < q.planes; ++p)
      for (int64_t y = 0; y < q.oh; ++y)
        for (int64_t xx = 0; xx < q.ow; ++xx) {
          const T gv = gp[(p * q.oh + y) * q.ow + xx];
          T* dst = o + p * q.h * q.w;
          if constexpr (kMax) {
            const T* plane = static_cast<const T*>(x.data_ptr()) + p * q.h * q.w;
            int64_t best = -1;
            for_each_window(q, p, y, xx, [&](int64_t k) {
              if (best < 0 || plane[k] > plane[best] || (plane[k] != plane[k] && plane[best] == plane[best]))
                best = k;
            });
            if (best >= 0) dst[best] += gv;
          } else {
            for_each_window(q, p, y, xx, [&](int64_t k) { dst[k] += gv / T(q.kh * q.kw); });
          }
        }
  });
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_conv_pool_kernels(OpRegistry& r) {
  using namespace kernels;
  r.forward(OpId::conv2d, &conv2d_forward);
  r.forward(OpId::conv2d_backward_input, &conv2d_backward_input_forward);
  r.forward(OpId::conv2d_backward_weight, &conv2d_backward_weight_forward);
  r.forward(OpId::max_pool2d, &pool_forward<true>);
  r.forward(OpId::max_pool2d_backward, &pool_backward_forward<true>);
  r.forward(OpId::avg_pool2d, &pool_forward<false>);
  r.forward(OpId::avg_pool2d_backward, &pool_backward_forward<false>);
}
}  // namespace ember
