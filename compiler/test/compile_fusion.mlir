// The compiler's stages through ember-compile: a chain of elementwise ops is
// one loop nest, a matmul with bias and relu is one BLAS call and one fused
// loop, and softmax is one loop over rows with vectorized reductions.
// RUN: ember-compile %s -f chain -emit=linalg | FileCheck %s --check-prefix=CHAIN
// RUN: ember-compile %s -f linear_relu -emit=buffers | FileCheck %s --check-prefix=LINEAR
// RUN: ember-compile %s -f softmax -emit=buffers | FileCheck %s --check-prefix=ROWS
// RUN: ember-compile %s -f layer_norm -emit=buffers | FileCheck %s --check-prefix=NORM
// RUN: ember-compile %s -f chain -emit=llvm | FileCheck %s --check-prefix=LLVM

// CHAIN-LABEL: func.func @chain
// CHAIN-COUNT-1: linalg.generic
// CHAIN-NOT: linalg.generic
// CHAIN: return
func.func @chain(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %a = ember.constant dense<1.5> : tensor<f32>
  %b = ember.constant dense<0.5> : tensor<f32>
  %0 = ember.mul %x, %a : tensor<1024xf32>, tensor<f32> -> tensor<1024xf32>
  %1 = ember.add %0, %b : tensor<1024xf32>, tensor<f32> -> tensor<1024xf32>
  %2 = ember.tanh %1 : tensor<1024xf32> -> tensor<1024xf32>
  %3 = ember.sigmoid %x : tensor<1024xf32> -> tensor<1024xf32>
  %4 = ember.mul %2, %3 : tensor<1024xf32>, tensor<1024xf32> -> tensor<1024xf32>
  %5 = ember.add %4, %x : tensor<1024xf32>, tensor<1024xf32> -> tensor<1024xf32>
  return %5 : tensor<1024xf32>
}

// Linear's x @ W.t(): the transpose is BLAS's flag (112), the zero fill its
// beta; bias and relu are one loop writing the result argument.
// LINEAR-LABEL: func.func @linear_relu
// LINEAR-NOT: linalg.transpose
// LINEAR-NOT: linalg.fill
// LINEAR: call @cblas_sgemm(%{{.*}}, %c111_i32, %c112_i32
// LINEAR-COUNT-1: linalg.generic
// LINEAR-NOT: linalg.generic
// LINEAR: return
func.func @linear_relu(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %t = ember.permute %w {dims = array<i64: 1, 0>} : tensor<32x16xf32> -> tensor<16x32xf32>
  %m = ember.matmul %x, %t : tensor<8x16xf32>, tensor<16x32xf32> -> tensor<8x32xf32>
  %y = ember.add %m, %b : tensor<8x32xf32>, tensor<32xf32> -> tensor<8x32xf32>
  %r = ember.relu %y : tensor<8x32xf32> -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// ROWS-LABEL: func.func @softmax
// ROWS: scf.for
// ROWS: vector.transfer_read
// ROWS: vector.multi_reduction <maximumf>
// ROWS: math.exp
// ROWS: vector.multi_reduction <add>
// One division per row, then a multiply per lane:
// ROWS: arith.divf %{{.*}}, %{{.*}} : vector<1xf32>
// ROWS: arith.mulf %{{.*}}, %{{.*}} : vector<1x128xf32>
// ROWS: vector.transfer_write
// ROWS-NOT: linalg.generic
// ROWS-NOT: memref.alloc
// ROWS: return
func.func @softmax(%x: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %s = ember.softmax %x {dim = -1 : i64} : tensor<64x128xf32> -> tensor<64x128xf32>
  return %s : tensor<64x128xf32>
}

// layer_norm's per-row mean, variance + eps and rsqrt are computed on the
// row's one value, not on each lane of its broadcast.
// NORM-LABEL: func.func @layer_norm
// NORM: scf.for
// NORM: vector.multi_reduction <add>
// NORM: arith.divf %{{.*}}, %{{.*}} : vector<1xf32>
// NORM: vector.multi_reduction <add>
// NORM: math.rsqrt %{{.*}} : vector<1xf32>
// NORM-NOT: math.rsqrt
// NORM: return
func.func @layer_norm(%x: tensor<64x128xf32>, %w: tensor<128xf32>, %b: tensor<128xf32>) -> tensor<64x128xf32> {
  %y = ember.layer_norm %x, %w, %b {eps = 1.000000e-05 : f64, normalized_dims = 1 : i64} : tensor<64x128xf32>, tensor<128xf32>, tensor<128xf32> -> tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// The chain's tanh is a polynomial by the time it is LLVM IR.
// LLVM: define void @_mlir_ciface_chain
// LLVM-NOT: tanh
