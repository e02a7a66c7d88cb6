// --ember-fuse-multi-use on its own: an SGD step with momentum after
// elementwise fusion is two loops, the parameter update reading the new
// momentum, which also leaves as a result; the pass makes it one loop that
// writes both (MLIR 19's fusion would recompute the momentum instead).
// RUN: ember-opt --convert-ember-to-linalg --ember-fuse-elementwise %s | FileCheck %s --check-prefix=BEFORE
// RUN: ember-opt --convert-ember-to-linalg --ember-fuse-elementwise %s | ember-opt --ember-fuse-multi-use \
// RUN:   | FileCheck %s

// BEFORE-LABEL: func.func @sgd
// BEFORE-COUNT-2: linalg.generic
// CHECK-LABEL: func.func @sgd
// CHECK: %[[BOTH:.*]]:2 = linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<64xf32>, tensor<64xf32>)
// CHECK:   linalg.yield %{{.*}}, %{{.*}} : f32, f32
// CHECK-NOT: linalg.generic
// CHECK: return %[[BOTH]]#0, %[[BOTH]]#1
func.func @sgd(%g: tensor<64xf32>, %m: tensor<64xf32>, %p: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %momentum = ember.constant dense<9.000000e-01> : tensor<f32>
  %lr = ember.constant dense<1.000000e-01> : tensor<f32>
  %0 = ember.mul %m, %momentum : tensor<64xf32>, tensor<f32> -> tensor<64xf32>
  %m2 = ember.add %0, %g : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
  %1 = ember.mul %m2, %lr : tensor<64xf32>, tensor<f32> -> tensor<64xf32>
  %p2 = ember.sub %p, %1 : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
  return %m2, %p2 : tensor<64xf32>, tensor<64xf32>
}
