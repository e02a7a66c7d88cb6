// Dialect.h - the ember MLIR dialect (ops generated from EmberOps.td).
//
//   mlir::MLIRContext context;
//   context.getOrLoadDialect<ember::ir::EmberDialect>();
//
// Runtime and tracer headers never include this file: MLIR stays out of the
// eager path (DESIGN.md, "Layers").
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ember/ir/EmberDialect.h.inc"
#include "ember/ir/TypeInference.h"
#include "ember/op_attrs.h"

#define GET_OP_CLASSES
#include "ember/ir/EmberOps.h.inc"
