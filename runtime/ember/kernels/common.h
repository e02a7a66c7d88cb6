// common.h - helpers shared by the kernel families.
#pragma once

#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/kernels/strided_loop.h"
#include "ember/meta.h"
#include "ember/ops.h"

namespace ember::kernels {

// Copies src into dst (src broadcast to dst's shape), converting the dtype.
void copy_convert(const Tensor& dst, const Tensor& src);
// A new contiguous tensor of `dtype` with x's values.
Tensor cast(const Tensor& x, DType dtype);
inline Tensor cast_if_needed(const Tensor& x, DType dtype) { return x.dtype() == dtype ? x : cast(x, dtype); }
// A contiguous tensor with x's values (x itself when already contiguous).
Tensor contiguous(const Tensor& x);

// A zero-filled contiguous tensor, made without dispatch: a kernel's scratch
// or output must not appear to the tracer as an op of its own.
Tensor zeros_internal(const Shape& shape, DType dtype);

// PyTorch's can_cast for in-place results: no float into integer, nothing
// but bool into bool.
bool can_cast(DType from, DType to);

// Kernels that compose other ops run them without autograd and unseen by the
// tracer: to the outside, the composite is one op.
class InternalScope {
 public:
  InternalScope() = default;
  InternalScope(const InternalScope&) = delete;
  InternalScope& operator=(const InternalScope&) = delete;

 private:
  NoGradGuard no_grad_;
  ObserversHidden hidden_;
};

// The output of a kernel: out[0] when the call is in place (checked against
// the expected shape), else a new contiguous tensor.
Tensor& prepare_output(const OpCall& call, const Shape& shape, DType dtype);

// The op's shape rule (meta.h) on this call's inputs: the outputs' metas.
// Every check a rule makes is then made; a kernel adds only value checks.
TensorMeta call_meta(const OpCall& call, int output = 0);
// Every output of the call, new and contiguous, as the shape rule gives
// them (one pass of the rule for kernels with two results).
void allocate_outputs(const OpCall& call);

// Does `a` read memory that `out` writes, other than element for element?
bool overlaps_differently(const Tensor& a, const Tensor& out);

}  // namespace ember::kernels

namespace ember::kernels {
// A view of x with its dimensions reordered (no checks).
Tensor permute_view(const Tensor& x, IntArrayRef perm);
using meta::ReduceDims;
}  // namespace ember::kernels
