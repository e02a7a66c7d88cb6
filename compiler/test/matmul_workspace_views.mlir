// A matmul that reads or writes a temporary at a nonzero offset of the
// workspace (two hidden activations live at once): --ember-matmul-to-blas
// passes BLAS the workspace's address plus the view's byte shift, computed
// by hand because --expand-strided-metadata later folds a view's pointer to
// its source's, dropping the shift (see mlir_defects.mlir). The values are
// checked against eager in compiled_graph_test (WorkspaceViewsFeedBlas).
// RUN: ember-compile %s -emit=buffers | FileCheck %s

// CHECK-LABEL: func.func @two_hidden
// CHECK-SAME: %[[WS:arg5]]: memref<?xi8>
// CHECK: memref.view %[[WS]][%c1024][] : memref<?xi8> to memref<8x32xf32>
// CHECK: memref.extract_aligned_pointer_as_index %[[WS]] : memref<?xi8> -> index
// CHECK-NEXT: arith.addi %{{.*}}, %c1024 : index
// CHECK: call @cblas_sgemm
// CHECK: memref.view %[[WS]][%c1152][] : memref<?xi8> to memref<8x4xf32>
// CHECK: memref.extract_aligned_pointer_as_index %[[WS]] : memref<?xi8> -> index
// CHECK-NEXT: arith.addi %{{.*}}, %c1152 : index
// CHECK: call @cblas_sgemm
func.func @two_hidden(%x: tensor<8x16xf32>, %w1: tensor<16x32xf32>, %w2: tensor<16x32xf32>, %w3: tensor<32x4xf32>) -> tensor<8x4xf32> {
  %a = ember.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x32xf32> -> tensor<8x32xf32>
  %b = ember.matmul %x, %w2 : tensor<8x16xf32>, tensor<16x32xf32> -> tensor<8x32xf32>
  %ra = ember.relu %a : tensor<8x32xf32> -> tensor<8x32xf32>
  %tb = ember.tanh %b : tensor<8x32xf32> -> tensor<8x32xf32>
  %c = ember.matmul %ra, %w3 : tensor<8x32xf32>, tensor<32x4xf32> -> tensor<8x4xf32>
  %d = ember.matmul %tb, %w3 : tensor<8x32xf32>, tensor<32x4xf32> -> tensor<8x4xf32>
  %y = ember.add %c, %d : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}
