// The JIT's stages are registered pipelines: ember-opt --ember-jit-pipeline
// lowers a module (as EMBER_JIT_DUMP writes them) to the LLVM dialect with
// the passes the JIT runs, and the stages one by one give the same module.
// RUN: ember-opt '--ember-jit-pipeline=function=sgd' %s | FileCheck %s
// RUN: ember-opt --ember-jit-linalg %s | ember-opt '--ember-jit-bufferize=function=sgd' \
// RUN:   | ember-opt --ember-jit-llvm > %t.stages
// RUN: ember-opt '--ember-jit-pipeline=function=sgd' %s > %t.whole
// RUN: diff %t.stages %t.whole
// RUN: ember-compile %s -f sgd -emit=buffers | FileCheck %s --check-prefix=DECISION

// CHECK-NOT: ember.
// CHECK: llvm.func @sgd(
// CHECK: llvm.func @_mlir_ciface_sgd(
// bufferize() records its in-place decision on the function:
// DECISION: ember.in_place = "computed in place"
func.func @sgd(%g: tensor<64xf32>, %p: tensor<64xf32>) -> (tensor<64xf32> {ember.in_place = 1 : i64}) {
  %lr = ember.constant dense<1.000000e-01> : tensor<f32>
  %0 = ember.mul %g, %lr : tensor<64xf32>, tensor<f32> -> tensor<64xf32>
  %p2 = ember.sub %p, %0 : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
  return %p2 : tensor<64xf32>
}
