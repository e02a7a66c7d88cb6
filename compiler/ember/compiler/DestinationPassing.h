// DestinationPassing.h - the entry function's results made into buffers the
// caller passes (Note [Destination passing]), or into the arguments they are
// write-backs of (Note [In-place write-backs]). Used by Pipeline's bufferize.
#pragma once

#include <string>

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace ember::compiler {

// Results marked ember.in_place become `materialize_in_destination` into
// their argument (and stay results until drop-equivalent-buffer-results);
// the others become memref arguments appended after the existing ones.
// Records the in-place results' indices in ember.in_place_results; every
// argument not written in place is marked read-only for bufferization.
void to_destination_passing(mlir::func::FuncOp func);

// Whether any result is marked ember.in_place; and removing the marks (all
// results then become out-parameters).
bool has_in_place_results(mlir::func::FuncOp func);
void drop_in_place_marks(mlir::func::FuncOp func);

// Note [Checks before in-place writes]: for a function with checks
// (ember.checks) that writes in place, a copy of it that computes only the
// failure counts, named checks_function_name(func), inserted after it.
mlir::func::FuncOp split_checks(mlir::func::FuncOp func);
std::string checks_function_name(const std::string& function);

// The copies of in-place results into their own buffers that bufferization
// leaves behind: each a pass over memory for nothing.
void erase_self_copies(mlir::func::FuncOp func);

}  // namespace ember::compiler
