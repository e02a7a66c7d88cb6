// common.cpp - conversion copies and output preparation.
#include "ember/kernels/common.h"

#include <vector>

#include <cstring>

namespace ember::kernels {

void copy_convert(const Tensor& dst, const Tensor& src) {
  const Tensor* ops[2] = {&dst, &src};
  StridedLoop<2> loop(dst.sizes(), ops);
  visit_dtype(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    visit_dtype(src.dtype(), [&](auto s) {
      using S = decltype(s);
      loop.run([](char** p, const int64_t* st, int64_t n) {
        if (st[0] == sizeof(D) && st[1] == sizeof(S)) {
          D* __restrict o = reinterpret_cast<D*>(p[0]);
          const S* __restrict a = reinterpret_cast<const S*>(p[1]);
          for (int64_t i = 0; i < n; ++i) o[i] = static_cast<D>(a[i]);
        } else {
          for (int64_t i = 0; i < n; ++i)
            *reinterpret_cast<D*>(p[0] + i * st[0]) =
                static_cast<D>(*reinterpret_cast<const S*>(p[1] + i * st[1]));
        }
      });
    });
  });
}

Tensor cast(const Tensor& x, DType dtype) {
  Tensor out = make_tensor(x.sizes(), dtype);
  copy_convert(out, x);
  out.impl()->wrapped_number = x.impl()->wrapped_number;
  return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : cast(x, x.dtype()); }

Tensor zeros_internal(const Shape& shape, DType dtype) {
  Tensor t = make_tensor(shape, dtype);
  if (t.numel()) std::memset(t.data_ptr(), 0, static_cast<size_t>(t.numel()) * t.itemsize());
  return t;
}

bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::Bool && to == DType::Bool) return false;
  return true;
}

Tensor& prepare_output(const OpCall& call, const Shape& shape, DType dtype) {
  Tensor& out = call.outputs[0];
  if (!out.defined()) {
    out = make_tensor(shape, dtype);
    return out;
  }
  const char* name = op_name(call.op);
  EMBER_CHECK(out.sizes() == shape, call.loc, name, "_: the result has shape ", shape,
              " and cannot be written in place into a tensor of shape ", out.sizes());
  EMBER_CHECK(can_cast(dtype, out.dtype()), call.loc, name, "_: the result is ", dtype_name(dtype),
              " and cannot be written in place into a ", dtype_name(out.dtype()), " tensor");
  return out;
}

namespace {
// The op's shape rule on this call's inputs, into out[0..num_outputs).
void infer_call(const OpCall& call, TensorMeta* out) {
  constexpr int kOnStack = 4;  // most ops; cat of many tensors goes to the heap
  TensorMeta stack[kOnStack];
  std::vector<TensorMeta> heap;
  TensorMeta* in = stack;
  if (call.num_inputs > kOnStack) {
    heap.resize(static_cast<size_t>(call.num_inputs));
    in = heap.data();
  }
  for (int i = 0; i < call.num_inputs; ++i) in[i] = meta_of(call.inputs[i]);
  infer_meta(call.op, in, call.num_inputs, call.attrs, out);
}
}  // namespace

TensorMeta call_meta(const OpCall& call, int output) {
  TensorMeta out[2];
  infer_call(call, out);
  return out[output];
}

void allocate_outputs(const OpCall& call) {
  TensorMeta out[2];
  infer_call(call, out);
  for (int k = 0; k < call.num_outputs; ++k) call.outputs[k] = empty(out[k].sizes, out[k].dtype);
}

bool overlaps_differently(const Tensor& a, const Tensor& out) {
  if (a.impl()->storage.get() != out.impl()->storage.get()) return false;
  return !(a.storage_offset() == out.storage_offset() && a.sizes() == out.sizes() &&
           a.strides() == out.strides() && a.dtype() == out.dtype());
}

}  // namespace ember::kernels

namespace ember::kernels {

Tensor permute_view(const Tensor& x, IntArrayRef perm) {
  Shape sizes, strides;
  sizes.resize(x.dim());
  strides.resize(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) {
    sizes[i] = x.sizes()[perm[i]];
    strides[i] = x.strides()[perm[i]];
  }
  return make_view(x, sizes, strides, x.storage_offset());
}

}  // namespace ember::kernels
