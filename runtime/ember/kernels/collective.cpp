// collective.cpp - the all_reduce op's kernel, eager and for compiled code
// (Note [Collectives in compiled code] in collectives.h).
#include <atomic>
#include <cstring>

#include "ember/collectives.h"
#include "ember/dispatch.h"
#include "ember/kernels/collective.h"
#include "ember/kernels/common.h"

namespace ember {
namespace {

std::atomic<AllReduceKernel> g_kernel{nullptr};

void reduce(const void* in, void* out, int64_t count, DType dtype, AllReduceOp op, const Loc& loc) {
  if (AllReduceKernel k = g_kernel.load()) return k(in, out, count, dtype, op, loc);
  // A world of one: the sum, mean or max of one rank is its own value.
  if (in != out) std::memcpy(out, in, static_cast<size_t>(count) * itemsize(dtype));
}

void all_reduce_forward(const OpCall& c) {
  const Tensor x = kernels::contiguous(c.inputs[0]);  // not x.contiguous(): no op of its own for the tracer
  EMBER_CHECK(c.attrs.index >= 0 && c.attrs.index <= 2, c.loc, "all_reduce: op ", c.attrs.index,
              " is not 0 (sum), 1 (mean) or 2 (max)");
  c.outputs[0] = make_tensor(x.sizes(), x.dtype());
  reduce(x.data_ptr(), c.outputs[0].data_ptr(), x.numel(), x.dtype(), static_cast<AllReduceOp>(c.attrs.index),
         c.loc);
}

}  // namespace

void set_all_reduce_kernel(AllReduceKernel kernel) { g_kernel.store(kernel); }

Tensor all_reduce_op(const Tensor& x, AllReduceOp op, const Loc& loc) {
  EMBER_CHECK(x.defined(), loc, "all_reduce: the tensor is undefined");
  OpAttrs a;
  a.index = static_cast<int64_t>(op);
  return dispatch(OpId::all_reduce, {x}, a, loc);
}

void register_collective_kernels(OpRegistry& r) { r.forward(OpId::all_reduce, &all_reduce_forward); }

}  // namespace ember

// --- entry points of compiled code: contiguous 1-D buffers ---------------------

using ember::kernels::MemRef;

extern "C" {
void _mlir_ciface_ember_all_reduce_f32(MemRef<float, 1>* in, MemRef<float, 1>* out, int64_t op) {
  ember::reduce(in->data(), out->data(), in->sizes[0], ember::DType::Float32,
                static_cast<ember::AllReduceOp>(op), ember::Loc::current());
}
void _mlir_ciface_ember_all_reduce_f64(MemRef<double, 1>* in, MemRef<double, 1>* out, int64_t op) {
  ember::reduce(in->data(), out->data(), in->sizes[0], ember::DType::Float64,
                static_cast<ember::AllReduceOp>(op), ember::Loc::current());
}
}
