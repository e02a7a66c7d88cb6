// A traced MLP training step (forward, cross-entropy, backward, SGD with
// momentum) as ember MLIR, with the source line of each op; ember-opt parses
// and verifies it.
// RUN: ember-ir-samples --mlp | ember-opt | FileCheck %s
// RUN: ember-ir-samples --mlp | ember-opt --mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// The inputs, then the captured parameters and momentum buffers.
// CHECK-LABEL: func.func @train_step(%arg0: tensor<16x784xf32>, %arg1: tensor<16xi64>, %arg2: tensor<32x784xf32>
// CHECK-SAME: ember.results = ["output 0", "write captured 0"
// Forward.
// CHECK: ember.permute %arg2 {dims = array<i64: 1, 0>} : tensor<32x784xf32> -> tensor<784x32xf32>
// CHECK: ember.matmul %arg0, %{{.*}} : tensor<16x784xf32>, tensor<784x32xf32> -> tensor<16x32xf32>
// CHECK: ember.relu
// CHECK: ember.cross_entropy %{{.*}}, %arg1 {ignore_index = -100 : i64, reduction = 1 : i64} : tensor<16x10xf32>, tensor<16xi64> -> tensor<f32>
// Backward: the cross-entropy gradient is softmax minus one-hot.
// CHECK-DAG: ember.softmax
// CHECK-DAG: ember.eq
// CHECK: ember.matmul
// The SGD update: momentum, then the step.
// CHECK: ember.mul %{{.*}}, %{{.*}} : tensor<32x784xf32>, tensor<f32> -> tensor<32x784xf32>
// CHECK: ember.sub
// The results: the loss, then every written-back parameter, buffer and gradient.
// CHECK: return %{{.*}} : tensor<f32>, tensor<32x784xf32>

// Each op carries the source line that called it: the user's for the model
// and the loss, the optimizer's for the update.
// LOC: ember.cross_entropy {{.*}} loc(#[[CE:loc[0-9]+]])
// LOC: #[[CE]] = loc("ir_samples.cpp":{{[0-9]+}}:{{[0-9]+}})
