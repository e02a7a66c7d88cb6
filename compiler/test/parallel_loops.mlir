// --ember-parallel-loops on its own: an outer loop over 1024 rows of 32
// vectors each (32768 vector iterations, above the 16384 threshold) becomes
// affine.parallel, which scf-to-openmp then runs on the OpenMP pool; a
// nest of 64 rows of one vector stays serial (starting the pool costs more).
// RUN: ember-opt --split-input-file --ember-jit-linalg --ember-jit-bufferize --ember-reductions-to-loops \
// RUN:     --convert-linalg-to-affine-loops '--affine-super-vectorize=virtual-vector-size=16' %s \
// RUN:   | ember-opt --split-input-file --ember-parallel-loops | FileCheck %s

// CHECK-LABEL: func.func @forward(%{{.*}}: memref<1024x512xf32>
// CHECK: affine.parallel (%{{.*}}) = (0) to (1024)
// CHECK:   affine.for %{{.*}} = 0 to 512 step 16
func.func @forward(%x: tensor<1024x512xf32>) -> tensor<1024x512xf32> {
  %y = ember.tanh %x : tensor<1024x512xf32> -> tensor<1024x512xf32>
  return %y : tensor<1024x512xf32>
}

// -----

// CHECK-LABEL: func.func @forward(%{{.*}}: memref<64x16xf32>
// CHECK-NOT: affine.parallel
// CHECK: affine.for %{{.*}} = 0 to 64
func.func @forward(%x: tensor<64x16xf32>) -> tensor<64x16xf32> {
  %y = ember.tanh %x : tensor<64x16xf32> -> tensor<64x16xf32>
  return %y : tensor<64x16xf32>
}

// -----

// A `?` outer trip count (Note [Loops of run-time trip count]): versioned on
// the count read at run time; 32 vectors per row, so 512 rows and more run
// the parallel copy, fewer the serial loop.
// CHECK-LABEL: func.func @forward(%{{.*}}: memref<?x512xf32>
// CHECK: %[[ROWS:.*]] = memref.dim
// CHECK: %[[LARGE:.*]] = arith.cmpi sge, %{{.*}}, %c512
// CHECK: scf.if %[[LARGE]] {
// CHECK:   affine.parallel (%{{.*}}) = (0) to (symbol(%{{.*}}))
// CHECK: } else {
// CHECK:   affine.for %{{.*}} = 0 to %{{.*}} {
func.func @forward(%x: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %y = ember.tanh %x : tensor<?x512xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}
