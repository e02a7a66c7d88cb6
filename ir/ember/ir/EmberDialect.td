//===- EmberDialect.td - the ember dialect -----------------*- tablegen -*-===//
//
// The ember dialect holds a traced ember Graph in MLIR: one op per row of the
// op table (runtime/ember/ops.def), on ranked tensors. Its result types are
// inferred from operand types and attributes by the rules of the eager
// kernels, and every op checks its operands (verifiers), so a graph that
// parses here is one the eager runtime would have run.
//
//===----------------------------------------------------------------------===//

#ifndef EMBER_DIALECT
#define EMBER_DIALECT

include "mlir/IR/OpBase.td"

def Ember_Dialect : Dialect {
  let name = "ember";
  let cppNamespace = "::ember::ir";
  let summary = "Traced ember graphs: tensor ops of the ember op table";
  let description = [{
    Each op is one row of ember's op table and computes exactly what the
    eager kernel of that row computes, on ranked tensors of f32, f64, i64,
    i32 or i1 (ember's bool). A C++ number in the eager program becomes a
    0-d tensor constant (`ember.constant`).

    ```mlir
    func.func @f(%x: tensor<128x784xf32>, %w: tensor<10x784xf32>) -> tensor<128x10xf32> {
      %wt = ember.permute %w {dims = array<i64: 1, 0>} : tensor<10x784xf32> -> tensor<784x10xf32>
      %y = ember.matmul %x, %wt : tensor<128x784xf32>, tensor<784x10xf32> -> tensor<128x10xf32>
      return %y : tensor<128x10xf32>
    }
    ```
  }];
}

#endif  // EMBER_DIALECT
