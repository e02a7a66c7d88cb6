// The passes after bufferization, each on its own through ember-opt.
// RUN: ember-opt --ember-approximate-math --split-input-file %s | FileCheck %s --check-prefix=MATH
// RUN: ember-opt --ember-reductions-to-loops --split-input-file %s | FileCheck %s --check-prefix=LOOPS
// RUN: ember-opt --ember-matmul-to-blas --split-input-file %s | FileCheck %s --check-prefix=BLAS

// tanh and exp become polynomials: only arith ops remain.
// MATH-LABEL: func.func @math
// MATH-NOT: math.tanh
// MATH-NOT: math.exp
// MATH: arith.mulf
// LOOPS-LABEL: func.func @math
// BLAS-LABEL: func.func @math
func.func @math(%x: f32) -> f32 {
  %t = math.tanh %x : f32
  %e = math.exp %t : f32
  return %e : f32
}

// -----

// A reduction becomes scf loops (which the affine vectorizer leaves alone);
// a parallel generic and memref.copy stay for the affine lowering, the copy
// as linalg.copy.
// LOOPS-LABEL: func.func @sum_rows
// LOOPS: scf.for
// LOOPS: scf.for
// LOOPS-NOT: linalg.generic {{.*}}reduction
// LOOPS: linalg.copy
// MATH-LABEL: func.func @sum_rows
// BLAS-LABEL: func.func @sum_rows
func.func @sum_rows(%x: memref<4x8xf32>, %out: memref<4xf32>, %a: memref<4x8xf32, strided<[16, 1]>>, %b: memref<4x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x8xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  }
  memref.copy %a, %b : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  return
}

// -----

// A zero fill then a matmul: one cblas_sgemm with beta 0 (no fill); the
// transposed form sets BLAS's transpose flag (112); a batch is a loop of calls.
// BLAS-LABEL: func.func @matmuls
// BLAS-NOT: linalg.fill
// BLAS: %[[BETA:cst_[0-9]+]] = arith.constant 0.000000e+00 : f32
// BLAS: call @cblas_sgemm(%c101_i32, %c111_i32, %c111_i32{{[_0-9]*}}, %c4_i32, %c2_i32, %c3_i32, %{{[^,]*}}, %{{[^,]*}}, %c3_i32{{[_0-9]*}}, %{{[^,]*}}, %c2_i32{{[_0-9]*}}, %[[BETA]],
// BLAS: call @cblas_sgemm(%c101_i32{{[_0-9]*}}, %c111_i32{{[_0-9]*}}, %c112_i32
// BLAS: scf.for
// BLAS: call @cblas_sgemm
// BLAS-NOT: linalg.matmul
// BLAS-NOT: linalg.batch_matmul
// MATH-LABEL: func.func @matmuls
// LOOPS-LABEL: func.func @matmuls
func.func @matmuls(%a: memref<4x3xf32>, %b: memref<3x2xf32>, %c: memref<4x2xf32>, %w: memref<2x3xf32>,
                   %x: memref<5x4x3xf32>, %y: memref<5x3x2xf32>, %z: memref<5x4x2xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x2xf32>)
  linalg.matmul ins(%a, %b : memref<4x3xf32>, memref<3x2xf32>) outs(%c : memref<4x2xf32>)
  linalg.matmul_transpose_b ins(%a, %w : memref<4x3xf32>, memref<2x3xf32>) outs(%c : memref<4x2xf32>)
  linalg.batch_matmul ins(%x, %y : memref<5x4x3xf32>, memref<5x3x2xf32>) outs(%z : memref<5x4x2xf32>)
  return
}
