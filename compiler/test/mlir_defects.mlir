// Reduced cases of the MLIR 19 (Debian 1:19.1.7) defects the pipeline works
// around, one per split, each with the workaround it motivates. When a case
// stops showing its defect (an upgrade fixed it), this test fails: retire
// the workaround it names.
// RUN: not ember-opt --split-input-file --convert-linalg-to-affine-loops '--affine-super-vectorize=virtual-vector-size=16' \
// RUN:   %S/Inputs/reduction_unit_dim.mlir 2>&1 | FileCheck %s --check-prefix=VECTORIZER
// RUN: ember-opt --split-input-file --finalize-memref-to-llvm %s 2>&1 | FileCheck %s --check-prefix=COPY
// RUN: ember-opt --split-input-file --expand-strided-metadata %s | FileCheck %s --check-prefix=VIEW
// RUN: ember-opt --cse %S/Inputs/two_results.mlir | ember-opt '--ember-destination-passing=function=two_results in-place=false' \
// RUN:     --eliminate-empty-tensors '--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map' \
// RUN:   | FileCheck %s --check-prefix=CSE
// RUN: ember-opt --split-input-file --convert-vector-to-scf %s | FileCheck %s --check-prefix=ALLOCA

// 1. The affine super-vectorizer takes a reduction over a unit dim (a
// [16, 1] -> [16] sum, a pooling window) for a parallel loop and emits an
// invalid broadcasting write (Inputs/reduction_unit_dim.mlir).
// Workaround: --ember-reductions-to-loops (ReductionLoops.cpp).
// VECTORIZER: error: 'vector.transfer_write' op should not have broadcast dimensions

// 2. A copy between strided memrefs lowers to a call of memrefCopy, which
// lives in MLIR's runtime library, not in an exported object's link line.
// Workaround: --ember-reductions-to-loops makes memref.copy a linalg.copy.
// COPY-LABEL: func.func @strided_copy
// COPY: llvm.call @memrefCopy
func.func @strided_copy(%a: memref<4x8xf32, strided<[16, 1]>>, %b: memref<4x8xf32>) {
  memref.copy %a, %b : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  return
}

// -----

// 3. --expand-strided-metadata folds the aligned pointer of a memref.view to
// its source's, dropping the view's byte shift (here 64).
// Workaround: --ember-matmul-to-blas adds the shift itself (MatmulToBlas.cpp,
// pointer_of; matmul_workspace_views.mlir).
// VIEW-LABEL: func.func @view_pointer
// VIEW-SAME: (%[[WS:.*]]: memref<?xi8>)
// VIEW-NEXT: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[WS]] : memref<?xi8> -> index
// VIEW-NEXT: return %[[P]]
func.func @view_pointer(%ws: memref<?xi8>) -> index {
  %c64 = arith.constant 64 : index
  %v = memref.view %ws[%c64][] : memref<?xi8> to memref<4xf32>
  %p = memref.extract_aligned_pointer_as_index %v : memref<4xf32> -> index
  return %p : index
}

// -----

// 4. CSE merges the tensor.empty inits of two independent results; empty-
// tensor elimination and one-shot bufferization then give both results the
// first one's values (Inputs/two_results.mlir): x + x is computed into a
// temporary and copied into result 0, and result 1 (x * x, written to
// result 0's buffer first) becomes a copy of result 0. A wrong answer.
// Workaround: no CSE before bufferization (Pipeline.cpp, build_linalg_pipeline).
// CSE-LABEL: func.func @two_results
// CSE-SAME: (%[[X:.*]]: memref<8xf32>, %[[OUT0:.*]]: memref<8xf32>, %[[OUT1:.*]]: memref<8xf32>)
// CSE: memref.copy %{{.*}}, %[[OUT0]]
// CSE-NEXT: memref.copy %[[OUT0]], %[[OUT1]]

// -----

// 5. --convert-vector-to-scf in loop form stages a 2-D transfer through a
// memref.alloca inside the enclosing loop, without an alloca scope: the
// stack grows every row (it overflowed at 4096 rows of softmax).
// Workaround: full unrolling (Pipeline.cpp, build_llvm_pipeline).
// ALLOCA-LABEL: func.func @rows
// ALLOCA: scf.for
// ALLOCA-NOT: memref.alloca_scope
// ALLOCA: memref.alloca() : memref<vector<1x32xf32>>
func.func @rows(%m: memref<4096x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 4096 : index
  %pad = arith.constant 0.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    %v = vector.transfer_read %m[%i, %c0], %pad : memref<4096x32xf32>, vector<1x32xf32>
    vector.transfer_write %v, %m[%i, %c0] : vector<1x32xf32>, memref<4096x32xf32>
  }
  return
}
