// Note [In-place write-backs]: a result marked ember.in_place = j is computed
// into argument j and is no parameter; a function that also has checks gets
// a twin computing only the failure counts (Note [Checks before in-place
// writes]); an old value read after the write goes through a temporary.
// RUN: ember-compile %s -f sgd -emit=buffers | FileCheck %s --check-prefix=SGD
// RUN: ember-compile %s -f guarded -emit=buffers | FileCheck %s --check-prefix=GUARD
// RUN: ember-compile %s -f read_after -emit=buffers | FileCheck %s --check-prefix=LATE
// RUN: ember-compile %s -f sgd -emit=jit --runs 1 | FileCheck %s --check-prefix=CALL

// m = 0.9 m + g; p = p - 0.1 m: one loop (--ember-fuse-multi-use) writing
// both where it reads them.
// SGD-LABEL: func.func @sgd
// SGD-SAME: (%[[G:[a-z0-9]+]]: memref<64xf32>, %[[M:[a-z0-9]+]]: memref<64xf32>, %[[P:[a-z0-9]+]]: memref<64xf32>, %{{[a-z0-9]+}}: memref<64xf32>, %{{[a-z0-9]+}}: memref<?xi8>)
// SGD-SAME: ember.in_place_results = array<i64: 0, 1>
// SGD-NOT: memref.alloc
// SGD: linalg.generic {{.*}} outs(%[[M]], %[[P]] : memref<64xf32>, memref<64xf32>)
// SGD: linalg.yield %{{.*}}, %{{.*}} : f32, f32
// SGD-NOT: memref.copy
// SGD: return
// SGD-NOT: func.func @sgd_checks
// ember-compile prints in-place results from their argument:
// CALL: result 0: [64] float32
// CALL: result 1: [64] float32
// CALL: result 2: [64] float32
func.func @sgd(%g: tensor<64xf32>, %m: tensor<64xf32>, %p: tensor<64xf32>)
    -> (tensor<64xf32> {ember.in_place = 1 : i64}, tensor<64xf32> {ember.in_place = 2 : i64}, tensor<64xf32>) {
  %momentum = ember.constant dense<9.000000e-01> : tensor<f32>
  %lr = ember.constant dense<1.000000e-01> : tensor<f32>
  %0 = ember.mul %m, %momentum : tensor<64xf32>, tensor<f32> -> tensor<64xf32>
  %m2 = ember.add %0, %g : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
  %1 = ember.mul %m2, %lr : tensor<64xf32>, tensor<f32> -> tensor<64xf32>
  %p2 = ember.sub %p, %1 : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
  %loss = ember.exp %g : tensor<64xf32> -> tensor<64xf32>
  return %m2, %p2, %loss : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// GUARD-LABEL: func.func @guarded
// GUARD-SAME: (%{{.*}}: memref<4xf32>, %{{.*}}: memref<4xi1>, %{{.*}}: memref<i64>, %{{.*}}: memref<?xi8>)
// GUARD-LABEL: func.func @guarded_checks
// GUARD-SAME: (%{{.*}}: memref<4xf32>, %{{.*}}: memref<4xi1>, %{{.*}}: memref<i64>, %{{.*}}: memref<?xi8>)
// GUARD-NOT: math.exp
// GUARD-NOT: arith.addf
// GUARD: iterator_types = ["reduction"]
// GUARD: return
func.func @guarded(%x: tensor<4xf32>, %ok: tensor<4xi1>) -> (tensor<4xf32> {ember.in_place = 0 : i64}) {
  ember.check %ok {message = "index: out of range"} : tensor<4xi1>
  %e = ember.exp %x : tensor<4xf32> -> tensor<4xf32>
  %y = ember.add %e, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// x is read (by a sum, which no elementwise fusion absorbs) after its new
// value is made: the new value waits in the workspace and is copied into x
// at the end.
// LATE-LABEL: func.func @read_after
// LATE: %[[NEW:.*]] = memref.view
// LATE: linalg.generic {{.*}} ins(%arg0 : memref<4xf32>) outs(%[[NEW]] : memref<4xf32>)
// LATE: iterator_types = ["reduction"]} ins(%arg0 : memref<4xf32>)
// LATE: memref.copy %[[NEW]], %arg0
// LATE: return
func.func @read_after(%x: tensor<4xf32>) -> (tensor<4xf32> {ember.in_place = 0 : i64}, tensor<f32>) {
  %n = ember.exp %x : tensor<4xf32> -> tensor<4xf32>
  %s = ember.sum %x {dims = array<i64>, keepdim = false} : tensor<4xf32> -> tensor<f32>
  %later = ember.mul %s, %s : tensor<f32>, tensor<f32> -> tensor<f32>
  return %n, %later : tensor<4xf32>, tensor<f32>
}
