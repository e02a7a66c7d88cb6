// Passes.h - the ember compiler passes (declared in Passes.td).
#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace ember::compiler {

#define GEN_PASS_DECL
#include "ember/compiler/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ember/compiler/Passes.h.inc"

// A product of matrices, possibly batched, that ember-matmul-to-blas makes
// BLAS calls of: a named linalg matmul, or a linalg.generic contraction
// (out += a * b) with one m, one n and one k loop (MatmulLowering.cpp).
// Fusion passes keep these whole.
bool is_gemm(mlir::Operation* op);
// The module attribute where ember-matmul-to-blas reports, one line per
// contraction, what it became (Note [Matmuls become BLAS calls]).
inline constexpr const char* kGemmReport = "ember.gemms";
// Sums of select/slice gradients that tile a dim become one cat
// (Note [Slice gradients that tile their input]); part of ember-decompose.
void populate_slice_gradient_sum_patterns(mlir::RewritePatternSet& patterns);

}  // namespace ember::compiler
