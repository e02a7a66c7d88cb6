// collectives.h - the all_reduce op of the table, and the hook through
// which ember::distributed performs it.
//
// Note [Collectives in compiled code]
// Data-parallel training must communicate inside a compiled training step,
// so all_reduce is an op of the table (effect `communicates`) like any
// other: the tracer records it, the dialect has it, and compiled code calls
// _mlir_ciface_ember_all_reduce_<dtype> in the runtime. The runtime does not
// link MPI: ember::distributed installs the kernel that does (its
// all_reduce over MPI_COMM_WORLD); without it the world is one process and
// the op copies.
#pragma once

#include <cstdint>

#include "ember/tensor.h"

namespace ember {

enum class AllReduceOp : int64_t { Sum = 0, Mean = 1, Max = 2 };

// x reduced over the ranks, as a new contiguous tensor.
Tensor all_reduce_op(const Tensor& x, AllReduceOp op, const Loc& loc = Loc::current());

// out[0, count) = `op` over every rank of in[0, count) (elements of
// `dtype`); in and out may be the same. Installed by ember::distributed.
using AllReduceKernel = void (*)(const void* in, void* out, int64_t count, DType dtype, AllReduceOp op,
                                 const Loc& loc);
void set_all_reduce_kernel(AllReduceKernel kernel);

}  // namespace ember
