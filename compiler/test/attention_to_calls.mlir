// ember-attention-to-calls: attention becomes a call of the runtime's tiled
// kernel on the operands' buffers, brought to 4-D, with fresh result
// buffers; no mask is a [1, 1, 1, 1] zero, a bool mask an additive one.
// RUN: ember-opt --ember-attention-to-calls %s | FileCheck %s

// CHECK: func.func private @ember_attention_f32({{.*}}) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @causal
// CHECK: %[[FLAGS:.*]] = arith.constant 1 : i64
// CHECK: tensor.expand_shape {{.*}} into tensor<1x2x5x4xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x2x5x3xf32>
// CHECK: %[[LSE:.*]] = memref.alloc() : memref<1x2x5xf32>
// CHECK: bufferization.to_memref {{.*}} read_only
// CHECK: call @ember_attention_f32({{.*}}, %[[FLAGS]])
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @causal(%q: tensor<2x5x4xf32>, %k: tensor<2x6x4xf32>, %v: tensor<2x6x3xf32>) -> tensor<2x5x3xf32> {
  %o, %l = ember.attention %q, %k, %v {is_causal = true, scale = 5.000000e-01 : f64} : tensor<2x5x4xf32>, tensor<2x6x4xf32>, tensor<2x6x3xf32> -> tensor<2x5x3xf32>, tensor<2x5xf32>
  return %o : tensor<2x5x3xf32>
}

// CHECK-LABEL: func.func @bool_mask
// CHECK: arith.select {{.*}} : f32
// CHECK: call @ember_attention_f32
func.func @bool_mask(%q: tensor<1x1x5x4xf32>, %m: tensor<5x5xi1>) -> tensor<1x1x5x4xf32> {
  %o, %l = ember.attention %q, %q, %q, %m {is_causal = false, scale = 5.000000e-01 : f64} : tensor<1x1x5x4xf32>, tensor<1x1x5x4xf32>, tensor<1x1x5x4xf32>, tensor<5x5xi1> -> tensor<1x1x5x4xf32>, tensor<1x1x5xf32>
  return %o : tensor<1x1x5x4xf32>
}

// The gradient: dq is a buffer of its own; dk and dv are the two column
// ranges of one [.., S, D + Dv] buffer.
// CHECK-LABEL: func.func @gradient
// CHECK: %[[DQ:.*]] = memref.alloc() : memref<1x2x5x4xf32>
// CHECK: %[[DKV:.*]] = memref.alloc() : memref<1x2x5x8xf32>
// CHECK: memref.subview %[[DKV]][0, 0, 0, 0] [1, 2, 5, 4] [1, 1, 1, 1]
// CHECK: memref.subview %[[DKV]][0, 0, 0, 4] [1, 2, 5, 4] [1, 1, 1, 1]
// CHECK: call @ember_attention_backward_f32
func.func @gradient(%g: tensor<2x5x4xf32>, %q: tensor<2x5x4xf32>, %o: tensor<2x5x4xf32>, %l: tensor<2x5xf32>) -> (tensor<2x5x4xf32>, tensor<2x5x8xf32>) {
  %dq, %dkv = ember.attention_backward %g, %q, %q, %q, %o, %l {is_causal = true, scale = 5.000000e-01 : f64} : tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5xf32> -> tensor<2x5x4xf32>, tensor<2x5x8xf32>
  return %dq, %dkv : tensor<2x5x4xf32>, tensor<2x5x8xf32>
}
