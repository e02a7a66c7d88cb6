// Every form of matmul becomes BLAS calls, never a loop nest (Note
// [Matmuls become BLAS calls]): batch dims on both sides, broadcast batch
// dims (missing or of size 1), a matrix or a vector times a batch, batched
// transposes read through BLAS's flags (no transpose copy), a 3-D linear as
// one GEMM over B*T rows. The values are checked against eager, with
// gradients, in tests/compiler/batched_matmul_test.cpp.
// RUN: ember-compile %s -f linear_3d -emit=buffers > %t
// RUN: FileCheck %s < %t
// RUN: FileCheck %s --check-prefix=NOLOOPS < %t
// NOLOOPS-NOT: linalg.matmul
// NOLOOPS-NOT: linalg.batch_matmul
// NOLOOPS-NOT: "reduction"
// NOLOOPS-NOT: linalg.transpose
// NOLOOPS: call @cblas_sgemm
// NOLOOPS-NOT: linalg.matmul
// NOLOOPS-NOT: linalg.batch_matmul
// NOLOOPS-NOT: "reduction"
// NOLOOPS-NOT: linalg.transpose

// CHECK-LABEL: func.func @attention_scores(
// Scores q @ k^T per (batch, head): 2x4 calls of 128x128x64, B transposed (112).
// CHECK-COUNT-2: scf.for
// CHECK: {{(func.)?}}call @cblas_sgemm(%c101_i32, %c111_i32, %c112_i32, %c128_i32, %c128_i32{{[_0-9]*}}, %c64_i32,
func.func @attention_scores(%q: tensor<2x4x128x64xf32>, %k: tensor<2x4x128x64xf32>) -> tensor<2x4x128x128xf32> {
  %kt = ember.permute %k {dims = array<i64: 0, 1, 3, 2>} : tensor<2x4x128x64xf32> -> tensor<2x4x64x128xf32>
  %s = ember.matmul %q, %kt : tensor<2x4x128x64xf32>, tensor<2x4x64x128xf32> -> tensor<2x4x128x128xf32>
  return %s : tensor<2x4x128x128xf32>
}

// CHECK-LABEL: func.func @broadcast_weights(
// A per-head weight [4, 64, 32] shared by the batch: B's pointer does not
// move along the batch loop.
// CHECK: {{(func.)?}}call @cblas_sgemm(%c101_i32, %c111_i32, %c111_i32{{[_0-9]*}}, %c128_i32, %c32_i32, %c64_i32,
func.func @broadcast_weights(%x: tensor<2x4x128x64xf32>, %w: tensor<4x64x32xf32>) -> tensor<2x4x128x32xf32> {
  %y = ember.matmul %x, %w : tensor<2x4x128x64xf32>, tensor<4x64x32xf32> -> tensor<2x4x128x32xf32>
  return %y : tensor<2x4x128x32xf32>
}

// CHECK-LABEL: func.func @matrix_times_batch(
// CHECK: scf.for
// CHECK: {{(func.)?}}call @cblas_sgemm(%c101_i32, %c111_i32, %c111_i32{{[_0-9]*}}, %c16_i32, %c8_i32, %c32_i32,
func.func @matrix_times_batch(%a: tensor<16x32xf32>, %b: tensor<3x32x8xf32>) -> tensor<3x16x8xf32> {
  %y = ember.matmul %a, %b : tensor<16x32xf32>, tensor<3x32x8xf32> -> tensor<3x16x8xf32>
  return %y : tensor<3x16x8xf32>
}

// CHECK-LABEL: func.func @linear_3d(
// One GEMM over all 2048 rows: no loop around it; the zero fill of the
// result, with the input's reshape between it and the GEMM, is BLAS's
// beta = 0 (no fill left).
// CHECK-NOT: scf.for
// CHECK-NOT: linalg.fill
// CHECK: %[[ZERO:cst_[0-9]+]] = arith.constant 0.000000e+00 : f32
// CHECK: {{(func.)?}}call @cblas_sgemm(%c101_i32, %c111_i32, %c112_i32, %c2048_i32, %c768_i32, %c256_i32, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[ZERO]],
// CHECK-NOT: scf.for
// CHECK: return
func.func @linear_3d(%x: tensor<16x128x256xf32>, %w: tensor<768x256xf32>) -> tensor<16x128x768xf32> {
  %wt = ember.permute %w {dims = array<i64: 1, 0>} : tensor<768x256xf32> -> tensor<256x768xf32>
  %y = ember.matmul %x, %wt : tensor<16x128x256xf32>, tensor<256x768xf32> -> tensor<16x128x768xf32>
  return %y : tensor<16x128x768xf32>
}
