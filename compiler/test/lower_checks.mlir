// --ember-lower-checks on its own: each ember.check becomes a count of the
// elements that failed it, returned after the function's results, and the
// function lists the checks' messages (ember.checks) for the runtime, which
// raises the first whose count is not zero.
// RUN: ember-opt --ember-lower-checks %s | FileCheck %s

// CHECK-LABEL: func.func @checked
// CHECK-SAME: -> (tensor<4xf32>, tensor<i64>)
// CHECK-SAME: ember.checks = ["targets out of range (at {{.*}}lower_checks.mlir:{{[0-9]+}})"]
// CHECK-NOT: ember.check
// CHECK: linalg.generic {{.*}}reduction
// CHECK: return %arg0, %{{.*}} : tensor<4xf32>, tensor<i64>
func.func @checked(%x: tensor<4xf32>, %ok: tensor<3xi1>) -> tensor<4xf32> {
  ember.check %ok {message = "targets out of range"} : tensor<3xi1>
  return %x : tensor<4xf32>
}
