// ember-fuse-elementwise: MLIR's elementwise fusion, except that no matmul
// is fused into or reshaped through. A linear on a 3-D input is one matmul
// over the flattened rows between two reshapes; MLIR's own pass folds the
// reshape after it into the matmul and leaves a 3-D generic that no BLAS
// call replaces (the GPT compile that grew past 24 GB).
// RUN: ember-opt --convert-ember-to-linalg --ember-fuse-elementwise %s | FileCheck %s
// RUN: ember-opt --convert-ember-to-linalg --linalg-fuse-elementwise-ops %s | FileCheck %s --check-prefix=MLIR

// CHECK-LABEL: func.func @linear_3d
// CHECK: linalg.matmul_transpose_b ins({{.*}} : tensor<2048x256xf32>, tensor<768x256xf32>)
// CHECK: tensor.expand_shape
// CHECK: linalg.generic
// MLIR-LABEL: func.func @linear_3d
// MLIR-NOT: linalg.matmul
// MLIR: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
func.func @linear_3d(%x: tensor<16x128x256xf32>, %w: tensor<768x256xf32>, %b: tensor<768xf32>) -> tensor<16x128x768xf32> {
  %t = ember.permute %w {dims = array<i64: 1, 0>} : tensor<768x256xf32> -> tensor<256x768xf32>
  %m = ember.matmul %x, %t : tensor<16x128x256xf32>, tensor<256x768xf32> -> tensor<16x128x768xf32>
  %y = ember.add %m, %b : tensor<16x128x768xf32>, tensor<768xf32> -> tensor<16x128x768xf32>
  return %y : tensor<16x128x768xf32>
}

// Elementwise chains still fuse into one generic.
// CHECK-LABEL: func.func @chain
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
func.func @chain(%x: tensor<64xf32>) -> tensor<64xf32> {
  %a = ember.exp %x : tensor<64xf32> -> tensor<64xf32>
  %b = ember.mul %a, %x : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
  %c = ember.tanh %b : tensor<64xf32> -> tensor<64xf32>
  return %c : tensor<64xf32>
}
