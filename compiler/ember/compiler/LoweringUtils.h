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
// The map that reads an operand of `type` at an index of a result of rank
// `rank`: leading dims are dropped, broadcast (size-1) dims read index 0.
mlir::AffineMap broadcast_map(mlir::MLIRContext* ctx, mlir::RankedTensorType type, mlir::RankedTensorType result);
// `v` with the static shape of `to` (same element count), through collapse
// and expand_shape.
mlir::Value reshape_to(mlir::OpBuilder& b, mlir::Location l, mlir::Value v, mlir::RankedTensorType to);

// Views, slices, their backward ops, cat and creation ops (ShapeOps.cpp).
void populate_shape_lowerings(mlir::RewritePatternSet& patterns);

}  // namespace ember::compiler::lowering
