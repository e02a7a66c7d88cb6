// ember-lstm-to-calls: lstm becomes a call of the runtime's LSTM kernel on
// the operands' buffers, with fresh result buffers allocated at x's sizes
// (a `?` sequence length read from x at run time); no state is a [1, 1]
// zero placeholder, and flags say which optional operands are real.
// RUN: ember-opt --ember-lstm-to-calls %s | FileCheck %s

// CHECK: func.func private @ember_lstm_f32({{.*}}) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @dynamic_length
// CHECK: bufferization.to_memref {{.*}} read_only : memref<1x1xf32
// CHECK: %[[T:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[OUT:.*]] = memref.alloc(%[[T]]) : memref<?x2x3xf32>
// CHECK: %[[GATES:.*]] = memref.alloc(%{{.*}}) : memref<?x2x15xf32>
// CHECK: call @ember_lstm_f32({{.*}}, %c0_i64)
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @dynamic_length(%x: tensor<?x2x4xf32>, %wih: tensor<12x4xf32>, %whh: tensor<12x3xf32>, %b: tensor<12xf32>) -> tensor<?x2x3xf32> {
  %o, %g = ember.lstm %x, %wih, %whh, %b, %b : tensor<?x2x4xf32>, tensor<12x4xf32>, tensor<12x3xf32>, tensor<12xf32>, tensor<12xf32> -> tensor<?x2x3xf32>, tensor<?x2x15xf32>
  return %o : tensor<?x2x3xf32>
}

// With h0 and c0 (flags bit 0) and the gates' gradient (bit 1): the flat
// gradient holds 4H (I + H + 1) + 2 B H = 12 * 8 + 12 = 108 values.
// CHECK-LABEL: func.func @gradient_with_state
// CHECK: memref.alloc() : memref<5x2x4xf32>
// CHECK: memref.alloc() : memref<108xf32>
// CHECK: call @ember_lstm_backward_f32({{.*}}, %c3_i64)
func.func @gradient_with_state(%g: tensor<5x2x3xf32>, %x: tensor<5x2x4xf32>, %wih: tensor<12x4xf32>, %whh: tensor<12x3xf32>, %b: tensor<12xf32>, %h: tensor<2x3xf32>, %gates: tensor<5x2x15xf32>) -> (tensor<5x2x4xf32>, tensor<108xf32>) {
  %dx, %dp = ember.lstm_backward %g, %x, %wih, %whh, %b, %b, %g, %gates, %h, %h, %gates : tensor<5x2x3xf32>, tensor<5x2x4xf32>, tensor<12x4xf32>, tensor<12x3xf32>, tensor<12xf32>, tensor<12xf32>, tensor<5x2x3xf32>, tensor<5x2x15xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<5x2x15xf32> -> tensor<5x2x4xf32>, tensor<108xf32>
  return %dx, %dp : tensor<5x2x4xf32>, tensor<108xf32>
}
