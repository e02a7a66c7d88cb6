// ember-recurrent-to-calls: lstm (gru) becomes a call of the runtime's LSTM
// (GRU) kernel on the operands' buffers, with fresh result buffers allocated at x's sizes
// (a `?` sequence length read from x at run time); no state is a [1, 1]
// zero placeholder, and flags say which optional operands are real.
// RUN: ember-opt --ember-recurrent-to-calls %s | FileCheck %s

// CHECK-DAG: func.func private @ember_lstm_f32({{.*}}) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_gru_f32(memref<?x?x?xf32, {{.*}}>, memref<?x?xf32, {{.*}}>, memref<?x?xf32, {{.*}}>, memref<?xf32, {{.*}}>, memref<?xf32, {{.*}}>, memref<?x?xf32, {{.*}}>, memref<?x?x?xf32, {{.*}}>, memref<?x?x?xf32, {{.*}}>, i64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_gru_backward_f32(memref<?x?x?xf32, {{.*}}>, memref<?x?x?xf32, {{.*}}>, memref<?x?xf32, {{.*}}>, memref<?x?xf32, {{.*}}>, memref<?xf32, {{.*}}>, memref<?xf32, {{.*}}>, memref<?x?x?xf32, {{.*}}>, memref<?x?x?xf32, {{.*}}>, memref<?x?xf32, {{.*}}>, memref<?x?x?xf32, {{.*}}>, memref<?xf32, {{.*}}>, i64) attributes {llvm.emit_c_interface}
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

// gru: one state (h0), saved gates [T, B, 4H] (r, z, n and W_hn h + b_hn).
// CHECK-LABEL: func.func @gru_dynamic_length
// CHECK: bufferization.to_memref {{.*}} read_only : memref<1x1xf32
// CHECK: %[[T:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[OUT:.*]] = memref.alloc(%[[T]]) : memref<?x2x3xf32>
// CHECK: memref.alloc(%{{.*}}) : memref<?x2x12xf32>
// CHECK: call @ember_gru_f32({{.*}}, %c0_i64)
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @gru_dynamic_length(%x: tensor<?x2x4xf32>, %wih: tensor<9x4xf32>, %whh: tensor<9x3xf32>, %b: tensor<9xf32>) -> tensor<?x2x3xf32> {
  %o, %g = ember.gru %x, %wih, %whh, %b, %b : tensor<?x2x4xf32>, tensor<9x4xf32>, tensor<9x3xf32>, tensor<9xf32>, tensor<9xf32> -> tensor<?x2x3xf32>, tensor<?x2x12xf32>
  return %o : tensor<?x2x3xf32>
}

// With h0 and a `?` batch: the flat gradient's length 3H (I + H + 2) + B H
// = 9 * 9 + 3 B is computed from x's batch at run time.
// CHECK-LABEL: func.func @gru_gradient_dynamic_batch
// CHECK: tensor.dim %arg1, %c1
// CHECK: %[[BH:.*]] = arith.muli %{{.*}}, %c3
// CHECK-NEXT: %[[N:.*]] = arith.addi %[[BH]], %c81
// CHECK: memref.alloc(%[[N]]) : memref<?xf32>
// CHECK: call @ember_gru_backward_f32({{.*}}, %c1_i64)
func.func @gru_gradient_dynamic_batch(%g: tensor<5x?x3xf32>, %x: tensor<5x?x4xf32>, %wih: tensor<9x4xf32>, %whh: tensor<9x3xf32>, %b: tensor<9xf32>, %h: tensor<?x3xf32>, %gates: tensor<5x?x12xf32>) -> (tensor<5x?x4xf32>, tensor<?xf32>) {
  %dx, %dp = ember.gru_backward %g, %x, %wih, %whh, %b, %b, %g, %gates, %h : tensor<5x?x3xf32>, tensor<5x?x4xf32>, tensor<9x4xf32>, tensor<9x3xf32>, tensor<9xf32>, tensor<9xf32>, tensor<5x?x3xf32>, tensor<5x?x12xf32>, tensor<?x3xf32> -> tensor<5x?x4xf32>, tensor<?xf32>
  return %dx, %dp : tensor<5x?x4xf32>, tensor<?xf32>
}
