// Temporaries become views of one workspace argument, packed by live range;
// a value check becomes a failure count the function returns.
// RUN: ember-compile %s -f two_temporaries -emit=buffers | FileCheck %s --check-prefix=PACK
// RUN: ember-opt --ember-lower-checks %s | FileCheck %s --check-prefix=CHECKS

// e = exp(x) [4 KiB at 0] and its sum [at 4096] are live while e * sum is
// made [at 4160, 64-byte aligned]; e is dead by the max, whose accumulator
// reuses its bytes at 0.
// PACK-LABEL: func.func @two_temporaries
// PACK-SAME: %{{.*}}: memref<?xi8>) attributes {ember.workspace_bytes = 8256 : i64
// PACK-NOT: memref.alloc
// PACK: memref.view %{{.*}}[%c0{{.*}}][] : memref<?xi8> to memref<1024xf32>
// PACK: memref.view %{{.*}}[%c4096{{.*}}][] : memref<?xi8> to memref<1xf32>
// PACK: memref.view %{{.*}}[%c4160{{.*}}][] : memref<?xi8> to memref<1024xf32>
// PACK: memref.view %{{.*}}[%c0{{.*}}][] : memref<?xi8> to memref<1xf32>
// PACK-NOT: memref.dealloc
// PACK: return
func.func @two_temporaries(%x: tensor<1024xf32>) -> (tensor<1024xf32>, tensor<f32>) {
  %0 = ember.exp %x : tensor<1024xf32> -> tensor<1024xf32>
  %s = ember.sum %0 {dims = array<i64>, keepdim = false} : tensor<1024xf32> -> tensor<f32>
  %1 = ember.mul %0, %s : tensor<1024xf32>, tensor<f32> -> tensor<1024xf32>
  %m = ember.amax %1 {dims = array<i64>, keepdim = false} : tensor<1024xf32> -> tensor<f32>
  %2 = ember.sub %1, %m : tensor<1024xf32>, tensor<f32> -> tensor<1024xf32>
  return %2, %s : tensor<1024xf32>, tensor<f32>
}

// CHECKS-LABEL: func.func @checked
// CHECKS-SAME: -> (tensor<4xf32>, tensor<i64>) attributes {ember.checks = ["index: out of range (at {{.*}}compile_buffers.mlir:{{[0-9]+}})"]}
// CHECKS-NOT: ember.check
// CHECKS: arith.select %{{.*}}, %{{.*}}, %{{.*}} : i64
func.func @checked(%x: tensor<4xf32>, %ok: tensor<4xi1>) -> tensor<4xf32> {
  ember.check %ok {message = "index: out of range"} : tensor<4xi1>
  return %x : tensor<4xf32>
}
