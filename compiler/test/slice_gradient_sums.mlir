// --ember-decompose: the gradients of slices that tile a dim (zeros with the
// slice written in, summed) become one cat of the slice gradients; slices
// that leave a gap or overlap, and partial sums used elsewhere, keep their
// adds (Note [Slice gradients that tile their input]).
// RUN: ember-opt --ember-decompose %s | FileCheck %s

// q, k and v selected from one [3, ...] tensor, summed in autograd's order.
// CHECK-LABEL: func.func @qkv_select_gradients
func.func @qkv_select_gradients(%q: tensor<2x4xf32>, %k: tensor<2x4xf32>, %v: tensor<2x4xf32>) -> tensor<3x2x4xf32> {
  // CHECK-DAG: %[[Q:.*]] = ember.unsqueeze %arg0 {dim = 0 : i64}
  // CHECK-DAG: %[[K:.*]] = ember.unsqueeze %arg1 {dim = 0 : i64}
  // CHECK-DAG: %[[V:.*]] = ember.unsqueeze %arg2 {dim = 0 : i64}
  // CHECK: %[[C:.*]] = ember.cat %[[Q]], %[[K]], %[[V]] {dim = 0 : i64}
  // CHECK-NOT: ember.select_backward
  // CHECK-NOT: ember.add
  // CHECK: return %[[C]]
  %0 = ember.select_backward %v {dim = 0 : i64, index = 2 : i64, input_shape = array<i64: 3, 2, 4>} : tensor<2x4xf32> -> tensor<3x2x4xf32>
  %1 = ember.select_backward %k {dim = 0 : i64, index = 1 : i64, input_shape = array<i64: 3, 2, 4>} : tensor<2x4xf32> -> tensor<3x2x4xf32>
  %2 = ember.add %0, %1 : tensor<3x2x4xf32>, tensor<3x2x4xf32> -> tensor<3x2x4xf32>
  %3 = ember.select_backward %q {dim = 0 : i64, index = 0 : i64, input_shape = array<i64: 3, 2, 4>} : tensor<2x4xf32> -> tensor<3x2x4xf32>
  %4 = ember.add %2, %3 : tensor<3x2x4xf32>, tensor<3x2x4xf32> -> tensor<3x2x4xf32>
  return %4 : tensor<3x2x4xf32>
}

// Two narrows of a [2, 6] tensor along dim -1 (columns 0-1 and 2-5).
// CHECK-LABEL: func.func @narrow_gradients
func.func @narrow_gradients(%a: tensor<2x2xf32>, %b: tensor<2x4xf32>) -> tensor<2x6xf32> {
  // CHECK: %[[C:.*]] = ember.cat %arg0, %arg1 {dim = 1 : i64}
  // CHECK-NOT: ember.add
  // CHECK: return %[[C]]
  %0 = ember.slice_backward %b {dim = -1 : i64, start = 2 : i64, end = 6 : i64, step = 1 : i64, input_shape = array<i64: 2, 6>} : tensor<2x4xf32> -> tensor<2x6xf32>
  %1 = ember.slice_backward %a {dim = 1 : i64, start = 0 : i64, end = 2 : i64, step = 1 : i64, input_shape = array<i64: 2, 6>} : tensor<2x2xf32> -> tensor<2x6xf32>
  %2 = ember.add %0, %1 : tensor<2x6xf32>, tensor<2x6xf32> -> tensor<2x6xf32>
  return %2 : tensor<2x6xf32>
}

// Index 1 of 3 is never written: its zeros are needed, the adds stay.
// CHECK-LABEL: func.func @gap_keeps_zeros
func.func @gap_keeps_zeros(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  // CHECK-NOT: ember.cat
  // CHECK: ember.add
  %0 = ember.select_backward %a {dim = 0 : i64, index = 0 : i64, input_shape = array<i64: 3, 4>} : tensor<4xf32> -> tensor<3x4xf32>
  %1 = ember.select_backward %b {dim = 0 : i64, index = 2 : i64, input_shape = array<i64: 3, 4>} : tensor<4xf32> -> tensor<3x4xf32>
  %2 = ember.add %0, %1 : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
  return %2 : tensor<3x4xf32>
}

// The same index twice: the gradients add, a cat would drop one.
// CHECK-LABEL: func.func @overlap_adds
func.func @overlap_adds(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<1x4xf32> {
  // CHECK-NOT: ember.cat
  // CHECK: ember.add
  %0 = ember.select_backward %a {dim = 0 : i64, index = 0 : i64, input_shape = array<i64: 1, 4>} : tensor<4xf32> -> tensor<1x4xf32>
  %1 = ember.select_backward %b {dim = 0 : i64, index = -1 : i64, input_shape = array<i64: 1, 4>} : tensor<4xf32> -> tensor<1x4xf32>
  %2 = ember.add %0, %1 : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
  return %2 : tensor<1x4xf32>
}

// A partial sum that is also returned: merging would compute it twice.
// CHECK-LABEL: func.func @shared_partial_sum
func.func @shared_partial_sum(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  // CHECK-NOT: ember.cat
  %0 = ember.select_backward %a {dim = 0 : i64, index = 0 : i64, input_shape = array<i64: 2, 4>} : tensor<4xf32> -> tensor<2x4xf32>
  %1 = ember.select_backward %b {dim = 0 : i64, index = 1 : i64, input_shape = array<i64: 2, 4>} : tensor<4xf32> -> tensor<2x4xf32>
  %2 = ember.add %0, %1 : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %2, %0 : tensor<2x4xf32>, tensor<2x4xf32>
}
