// --ember-decompose: softmax, log_softmax and layer_norm as the ember ops
// that lower to linalg.
// RUN: ember-opt --ember-decompose %s | FileCheck %s

// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // CHECK: %[[M:.*]] = ember.amax %arg0 {dims = array<i64: 1>, keepdim = true}
  // CHECK: %[[Z:.*]] = ember.sub %arg0, %[[M]]
  // CHECK: %[[E:.*]] = ember.exp %[[Z]]
  // CHECK: %[[S:.*]] = ember.sum %[[E]] {dims = array<i64: 1>, keepdim = true}
  // CHECK: ember.div %[[E]], %[[S]]
  // CHECK-NOT: ember.softmax
  %0 = ember.softmax %x {dim = -1 : i64} : tensor<4x3xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<4x3xf32>, %w: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // eps, as a constant of x's element type (hoisted to the top by the rewriter).
  // CHECK: ember.constant dense<9.99999974E-6> : tensor<f32>
  // CHECK: %[[MU:.*]] = ember.mean %arg0 {dims = array<i64: 1>, keepdim = true}
  // CHECK: %[[C:.*]] = ember.sub %arg0, %[[MU]]
  // CHECK: %[[SQ:.*]] = ember.mul %[[C]], %[[C]]
  // CHECK: %[[V:.*]] = ember.mean %[[SQ]]
  // CHECK: ember.rsqrt
  // CHECK: ember.mul %{{.*}}, %arg1
  // CHECK: ember.add %{{.*}}, %arg2
  %0 = ember.layer_norm %x, %w, %b {eps = 1.000000e-05 : f64, normalized_dims = 1 : i64} : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
