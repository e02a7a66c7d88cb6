// --ember-fuse-rows on its own: softmax's chain (max, exp, sum, divide over
// the last dim, as --ember-decompose and elementwise fusion leave it)
// becomes one loop over rows, each row read once into a vector, its max and
// sum vector reductions, one reciprocal per row, and one write; the chain's
// generics are left for the canonicalizer to drop (they are dead).
// RUN: ember-opt --ember-decompose --convert-ember-to-linalg --ember-fuse-elementwise --canonicalize %s \
// RUN:   | ember-opt --ember-fuse-rows | FileCheck %s

// CHECK-LABEL: func.func @softmax
// CHECK: %[[ROWS:.*]] = scf.for %[[ROW:.*]] = %{{.*}} to %c8 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<8x32xf32>)
// CHECK:   tensor.extract_slice %arg0[%[[ROW]], 0] [1, 32] [1, 1]
// CHECK:   %[[X:.*]] = vector.transfer_read {{.*}} : tensor<1x32xf32>, vector<1x32xf32>
// CHECK:   vector.multi_reduction <maximumf>, %[[X]]
// CHECK:   math.exp
// CHECK:   vector.multi_reduction <add>
// CHECK:   arith.divf %{{.*}}, %{{.*}} : vector<1xf32>
// CHECK-NOT: arith.divf
// CHECK:   arith.mulf
// CHECK:   vector.transfer_write
// CHECK:   tensor.insert_slice {{.*}} into %[[ACC]][%[[ROW]], 0]
// CHECK: return %[[ROWS]]
func.func @softmax(%x: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = ember.softmax %x {dim = 1 : i64} : tensor<8x32xf32> -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// A row chain's result read both by another row chain and by a matmul is a
// row loop of its own, computed once: fused only into its consumer's rows it
// was also computed whole for the matmul, its reductions as scalar loops.
// RUN: ember-opt --ember-decompose --convert-ember-to-linalg --ember-fuse-elementwise --canonicalize %s \
// RUN:   | ember-opt --ember-fuse-rows --canonicalize | FileCheck %s --check-prefix=SHARED
// SHARED-LABEL: func.func @row_result_read_by_rows_and_a_matmul
// SHARED: %[[Y:.*]] = scf.for
// SHARED: vector.multi_reduction <maximumf>
// SHARED: vector.multi_reduction <add>
// SHARED: scf.yield
// SHARED: %[[Z:.*]] = scf.for
// SHARED:   tensor.extract_slice %[[Y]]
// SHARED: vector.multi_reduction <maximumf>
// SHARED: scf.yield
// SHARED-NOT: "reduction"
// SHARED: linalg.matmul ins(%[[Y]],
// SHARED-NOT: "reduction"
// SHARED: return %[[Z]]
func.func @row_result_read_by_rows_and_a_matmul(%x: tensor<8x32xf32>, %w: tensor<32x4xf32>) -> (tensor<8x32xf32>, tensor<8x4xf32>) {
  %y = ember.softmax %x {dim = 1 : i64} : tensor<8x32xf32> -> tensor<8x32xf32>
  %t = ember.tanh %y : tensor<8x32xf32> -> tensor<8x32xf32>
  %z = ember.softmax %t {dim = 1 : i64} : tensor<8x32xf32> -> tensor<8x32xf32>
  %m = ember.matmul %y, %w : tensor<8x32xf32>, tensor<32x4xf32> -> tensor<8x4xf32>
  return %z, %m : tensor<8x32xf32>, tensor<8x4xf32>
}

// Rows longer than 512 are computed in chunks of 64 lanes (Note [Rows in
// chunks of registers]): each reduction a loop carrying a 64-lane partial
// result, merged once per row; the output a loop writing 64 lanes at a
// time; no value as long as the row.
// RUN: ember-opt --ember-decompose --convert-ember-to-linalg --ember-fuse-elementwise --canonicalize %s \
// RUN:   | ember-opt --ember-fuse-rows --canonicalize | FileCheck %s --check-prefix=CHUNKS
// CHUNKS-LABEL: func.func @long_row_softmax
// CHUNKS: scf.for %[[ROW:.*]] = %c0 to %c4 step %c1
// CHUNKS:   %[[MAX:.*]] = scf.for %{{.*}} = %c0 to %c1024 step %c64 iter_args(%[[M:.*]] = %{{.*}}) -> (vector<1x64xf32>)
// CHUNKS:     arith.maximumf %[[M]], %{{.*}} : vector<1x64xf32>
// CHUNKS:   vector.multi_reduction <maximumf>, %[[MAX]]
// CHUNKS:   %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %c1024 step %c64 iter_args(%[[S:.*]] = %{{.*}}) -> (vector<1x64xf32>)
// CHUNKS:     math.exp
// CHUNKS:     arith.addf %[[S]], %{{.*}} : vector<1x64xf32>
// CHUNKS:   vector.multi_reduction <add>, %[[SUM]]
// CHUNKS:   scf.for %{{.*}} = %c0 to %c1024 step %c64 iter_args(%{{.*}} = %{{.*}}) -> (tensor<1x1024xf32>)
// CHUNKS:     math.exp
// CHUNKS:     vector.transfer_write {{.*}} : vector<1x64xf32>, tensor<1x64xf32>
// CHUNKS-NOT: vector<1x1024xf32>
func.func @long_row_softmax(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> {
  %y = ember.softmax %x {dim = 1 : i64} : tensor<4x1024xf32> -> tensor<4x1024xf32>
  return %y : tensor<4x1024xf32>
}
