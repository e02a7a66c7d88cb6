// TypeInference.h - result types of ember ops: the runtime's shape rules
// (meta.h) over MLIR types, and the conversions between ember's dtypes and
// MLIR element types.
//
// Every schema op's inferReturnTypes (generated, EmberOps.td) calls
// infer_result_types; a rule that refuses emits its message at the op's
// location ("'ember.add': shapes [2, 3] and [4] cannot be broadcast ..."),
// which is also how the verifier rejects malformed ops.
#pragma once

#include <optional>

#include "ember/op_table.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/TypeRange.h"
#include "mlir/IR/ValueRange.h"

namespace ember::ir {

using Types = llvm::SmallVectorImpl<mlir::Type>;

// The result types of `op` on `operands` with the attributes `attrs`
// returns (called inside, so that a malformed attribute is a diagnostic).
llvm::LogicalResult infer_result_types(OpId op, mlir::MLIRContext* context,
                                       std::optional<mlir::Location> location, mlir::ValueRange operands,
                                       llvm::function_ref<OpAttrs()> attrs, Types& out);
// The schema op an operation is (ember.<name>), if it is one.
std::optional<OpId> op_id_of(mlir::Operation* op);

// ember.constant: the value's type, if it is a ranked tensor of an ember dtype.
llvm::LogicalResult infer_constant_type(std::optional<mlir::Location> location, mlir::Attribute value,
                                        Types& out);

// ember's dtypes as MLIR element types: f32, f64, i64, i32, i1.
bool is_ember_element_type(mlir::Type t);
bool is_float(mlir::Type t);
mlir::Type element_type(mlir::MLIRContext& context, DType t);
DType dtype_of(mlir::Type element);  // an ember element type (is_ember_element_type)
// PyTorch's promotion for two tensors of the given ranks (0-d tensors lose to
// dimensioned ones of the same or lower category).
mlir::Type promote(mlir::Type a, int64_t rank_a, mlir::Type b, int64_t rank_b);

}  // namespace ember::ir
