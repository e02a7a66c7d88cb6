// Malformed ember ops are rejected with a message naming the op and the problem
// (a type rule that fails also makes InferTypeOpInterface's check fail).
// RUN: ember-opt %s -split-input-file -verify-diagnostics

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{'ember.add': shapes [2, 3] and [4] cannot be broadcast}}
  // expected-error @+1 {{'ember.add' op failed to infer returned types}}
  %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @matmul(%a: tensor<128x784xf32>, %b: tensor<512x10xf32>) {
  // expected-error @+2 {{'ember.matmul': shapes [128, 784] and [512, 10] cannot be multiplied}}
  // expected-error @+1 {{'ember.matmul' op failed to infer returned types}}
  %0 = ember.matmul %a, %b : tensor<128x784xf32>, tensor<512x10xf32> -> tensor<128x10xf32>
  return
}

// -----

func.func @wrong_result_type(%a: tensor<3xf32>) {
  // expected-error @+2 {{'ember.exp' op inferred type(s) 'tensor<3xf32>' are incompatible with return type(s) of operation 'tensor<3xf64>'}}
  // expected-error @+1 {{'ember.exp' op failed to infer returned types}}
  %0 = ember.exp %a : tensor<3xf32> -> tensor<3xf64>
  return
}

// -----

func.func @reduce_dim(%a: tensor<3x4xf32>) {
  // expected-error @+2 {{'ember.sum': dimension 2 is out of range for a 2-d tensor}}
  // expected-error @+1 {{'ember.sum' op failed to infer returned types}}
  %0 = ember.sum %a {dims = array<i64: 2>, keepdim = false} : tensor<3x4xf32> -> tensor<3xf32>
  return
}

// -----

func.func @view_numel(%a: tensor<3x4xf32>) {
  // expected-error @+2 {{'ember.view': shape [5, 2] is invalid for a tensor of 12 elements (shape [3, 4])}}
  // expected-error @+1 {{'ember.view' op failed to infer returned types}}
  %0 = ember.view %a {shape = array<i64: 5, 2>} : tensor<3x4xf32> -> tensor<5x2xf32>
  return
}

// -----

func.func @clamp(%a: tensor<3xf32>) {
  // expected-error @+2 {{'ember.clamp': give at least one of min and max}}
  // expected-error @+1 {{'ember.clamp' op failed to infer returned types}}
  %0 = ember.clamp %a : tensor<3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @where_condition(%c: tensor<3xf32>, %a: tensor<3xf32>) {
  // expected-error @+2 {{'ember.where': the condition must be bool, not float32}}
  // expected-error @+1 {{'ember.where' op failed to infer returned types}}
  %0 = ember.where %c, %a, %a : tensor<3xf32>, tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @embedding_indices(%w: tensor<5x3xf32>, %i: tensor<2xf32>) {
  // expected-error @+2 {{'ember.embedding': indices must be int64 or int32, not float32}}
  // expected-error @+1 {{'ember.embedding' op failed to infer returned types}}
  %0 = ember.embedding %w, %i : tensor<5x3xf32>, tensor<2xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @permute(%a: tensor<3x4xf32>) {
  // expected-error @+2 {{'ember.permute': dimension 0 appears twice in [0, 0]}}
  // expected-error @+1 {{'ember.permute' op failed to infer returned types}}
  %0 = ember.permute %a {dims = array<i64: 0, 0>} : tensor<3x4xf32> -> tensor<3x3xf32>
  return
}

// -----

func.func @unknown_element_type(%a: tensor<3xf16>) {
  // expected-error @+2 {{'ember.neg': operand 0 must be a ranked tensor of f32, f64, i64, i32 or i1}}
  // expected-error @+1 {{'ember.neg' op failed to infer returned types}}
  %0 = ember.neg %a : tensor<3xf16> -> tensor<3xf16>
  return
}
