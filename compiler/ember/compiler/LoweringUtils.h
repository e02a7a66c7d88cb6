// LoweringUtils.h - scalar casts, constants, broadcasting maps and reshapes
// shared by the patterns that lower ember ops to linalg and tensor ops.
#pragma once

#include "ember/compiler/Passes.h"
#include "mlir/IR/PatternMatch.h"

namespace ember::compiler::lowering {

bool is_float(mlir::Type t);
// Converts a scalar between ember's element types with the semantics of a C++
// static_cast (what the eager kernels do): bool is 0/1, float to int truncates.
mlir::Value cast_to(mlir::OpBuilder& b, mlir::Location l, mlir::Value v, mlir::Type to);
mlir::Value constant(mlir::OpBuilder& b, mlir::Location l, mlir::Type t, double v);
inline mlir::RankedTensorType tensor_type(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}
// Note [Dynamic dims in lowerings]
// A `?` dim of a result takes its size at run time from an operand: the
// first of `sources` whose dim at the same position counted from the last
// (where broadcasting aligns dims) is `?` too. The jit guards that the `?`
// dims of one position are one size (a broadcast never hides behind a `?`),
// so any of them is the size. dynamic_sizes gives those sizes in order, as
// tensor.empty and expand_shape take them.
llvm::SmallVector<mlir::Value> dynamic_sizes(mlir::OpBuilder& b, mlir::Location l,
                                             llvm::ArrayRef<int64_t> shape, mlir::ValueRange sources);
// Whether every `?` dim of `shape` has a source among `sources` (else
// dynamic_sizes cannot size it: the caller's pattern fails instead).
bool has_dynamic_sources(llvm::ArrayRef<int64_t> shape, mlir::ValueRange sources);
// A tensor.empty of `shape`, its `?` dims sized from `sources`.
mlir::Value empty(mlir::OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape, mlir::Type element,
                  mlir::ValueRange sources = {});
// The number of elements of `v`'s dims `dims`, at run time where one is `?`, as an index.
mlir::Value count_of(mlir::OpBuilder& b, mlir::Location l, mlir::Value v, llvm::ArrayRef<int64_t> dims);
// A new tensor of `shape` and `element` type, every element `value` (a
// linalg.fill of a tensor.empty: the accumulators and zeros of lowerings).
mlir::Value filled(mlir::OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape, mlir::Type element,
                   mlir::Value value, mlir::ValueRange sources = {});
inline mlir::Value filled(mlir::OpBuilder& b, mlir::Location l, mlir::RankedTensorType type, double value) {
  return filled(b, l, type.getShape(), type.getElementType(), constant(b, l, type.getElementType(), value));
}
// Elementwise generics loop over the result's dims other than size-1 ones
// (`without_unit_dims`), and the result is reshaped back. broadcast_operand
// gives an operand `v` for such a generic over `result`: its size-1 dims
// collapsed away, and the map from the loops to the remaining dims (leading
// dims are absent). Maps stay projected permutations, which tiling and
// vectorization need (a constant-0 index would stop both), and the
// [N, 1] tensors of keepdim reductions become [N] ones, so reshapes between
// a reduction and its consumers cancel instead of blocking fusion.
mlir::RankedTensorType without_unit_dims(mlir::RankedTensorType t);
std::pair<mlir::Value, mlir::AffineMap> broadcast_operand(mlir::OpBuilder& b, mlir::Location l, mlir::Value v,
                                                          mlir::RankedTensorType result);
// `v` with the shape of `to` (same element count), through collapse and
// expand_shape. Where either has a `?` dim: when they differ by size-1 dims,
// or by one collapse or expand whose groups hold one `?` dim at most (and
// static dims); else null (the caller's pattern fails, the op stays
// unlowered: an Error).
mlir::Value reshape_to(mlir::OpBuilder& b, mlir::Location l, mlir::Value v, mlir::RankedTensorType to);

// Operands of a runtime kernel's call (attention, lstm: MLIR's C interface):
// the buffer of tensor `t` (bufferization.to_memref, read_only), and a
// memref, each as a memref of any size and strides.
mlir::Value strided_buffer(mlir::OpBuilder& b, mlir::Location l, mlir::Value t);
mlir::Value as_strided(mlir::OpBuilder& b, mlir::Location l, mlir::Value memref);
// A fresh buffer the call wrote, as a tensor again (to_tensor restrict writable).
mlir::Value as_tensor(mlir::OpBuilder& b, mlir::Location l, mlir::Value buffer);
// A fresh buffer (memref.alloc) for a kernel's result of `shape`: the size of
// each `?` dim d is dim size_from[d].second of tensor size_from[d].first,
// read at run time (size_from has an entry per dim; static ones are unread).
mlir::Value alloc_buffer(mlir::OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape,
                         mlir::Type element, llvm::ArrayRef<std::pair<mlir::Value, int64_t>> size_from);

// The runtime function random creation ops call (ember/random.h), declared
// in `module` when it has such ops, before the patterns run.
inline constexpr const char* kRandomDraw = "ember_random_draw";
void declare_random_draw(mlir::ModuleOp module);

// matmul in every form eager supports (MatmulLowering.cpp).
void populate_matmul_lowerings(mlir::RewritePatternSet& patterns);

// Views, slices, their backward ops, cat and creation ops (ShapeOps.cpp).
void populate_shape_lowerings(mlir::RewritePatternSet& patterns);

// conv2d, max_pool2d and avg_pool2d (ConvPool.cpp).
void populate_conv_pool_lowerings(mlir::RewritePatternSet& patterns);

// max_dim/min_dim/argmax/argmin, embedding and its gradient (Gather.cpp).
void populate_gather_lowerings(mlir::RewritePatternSet& patterns);

}  // namespace ember::compiler::lowering
