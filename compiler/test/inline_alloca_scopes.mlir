// --ember-inline-alloca-scopes on its own: --convert-scf-to-openmp wraps the
// body of each parallel loop in a memref.alloca_scope; the pass inlines it
// (the body allocates nothing on the stack), so that scf-to-cf later does
// not put several blocks into a region that must hold one.
// RUN: ember-opt --ember-jit-linalg --ember-jit-bufferize --ember-reductions-to-loops \
// RUN:     --convert-linalg-to-affine-loops '--affine-super-vectorize=virtual-vector-size=16' \
// RUN:     --ember-parallel-loops --lower-affine --convert-scf-to-openmp %s | FileCheck %s --check-prefix=BEFORE
// RUN: ember-opt --ember-jit-linalg --ember-jit-bufferize --ember-reductions-to-loops \
// RUN:     --convert-linalg-to-affine-loops '--affine-super-vectorize=virtual-vector-size=16' \
// RUN:     --ember-parallel-loops --lower-affine --convert-scf-to-openmp %s \
// RUN:   | ember-opt --ember-inline-alloca-scopes | FileCheck %s

// BEFORE: omp.loop_nest
// BEFORE-NEXT: memref.alloca_scope
// CHECK: omp.loop_nest
// CHECK-NOT: memref.alloca_scope
// CHECK: math.tanh
// CHECK: omp.yield
func.func @forward(%x: tensor<1024x512xf32>) -> tensor<1024x512xf32> {
  %y = ember.tanh %x : tensor<1024x512xf32> -> tensor<1024x512xf32>
  return %y : tensor<1024x512xf32>
}
