// Passes.h - the ember compiler passes (declared in Passes.td).
#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace ember::compiler {

#define GEN_PASS_DECL
#include "ember/compiler/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ember/compiler/Passes.h.inc"

}  // namespace ember::compiler
