// collective.h - the entry points compiled code calls for ember.all_reduce
// (Note [Collectives in compiled code] in ember/collectives.h): contiguous
// 1-D buffers in and out, the op as AllReduceOp's value.
#pragma once

#include <cstdint>

#include "ember/kernels/attention.h"  // MemRef

extern "C" {
void _mlir_ciface_ember_all_reduce_f32(ember::kernels::MemRef<float, 1>* in,
                                       ember::kernels::MemRef<float, 1>* out, int64_t op);
void _mlir_ciface_ember_all_reduce_f64(ember::kernels::MemRef<double, 1>* in,
                                       ember::kernels::MemRef<double, 1>* out, int64_t op);
}
