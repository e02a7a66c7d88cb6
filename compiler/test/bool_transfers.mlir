// ember-bool-transfers-to-scalars: no vector transfer of an i1 buffer
// survives (LLVM would store 16 packed bits where the buffer has 16 bytes);
// each lane is a scalar load or store, guarded where it may be past the end.
// RUN: ember-opt --ember-bool-transfers-to-scalars --split-input-file --verify-diagnostics %s | FileCheck %s

// A compare of 16 floats written to 16 bools: 16 scalar stores, no guards
// (the write is known in bounds), the compare itself still on a vector.
// CHECK-LABEL: func.func @compare_out
// CHECK: vector.transfer_read {{.*}} : memref<16xf32>, vector<16xf32>
// CHECK: arith.cmpf ogt, {{.*}} : vector<16xf32>
// CHECK-NOT: vector.transfer_write
// CHECK-NOT: scf.if
// CHECK-COUNT-16: memref.store {{.*}} : memref<16xi1>
// CHECK: return
func.func @compare_out(%x: memref<16xf32>, %out: memref<16xi1>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %x[%c0], %pad {in_bounds = [true]} : memref<16xf32>, vector<16xf32>
  %z = vector.broadcast %zero : f32 to vector<16xf32>
  %gt = arith.cmpf ogt, %v, %z : vector<16xf32>
  vector.transfer_write %gt, %out[%c0] {in_bounds = [true]} : vector<16xi1>, memref<16xi1>
  return
}

// -----

// 10 bools read by 16 lanes: each lane's load is guarded by the buffer's
// size and yields the padding past it.
// CHECK-LABEL: func.func @short_mask
// CHECK-NOT: vector.transfer_read {{.*}} memref<10xi1>
// CHECK-COUNT-16: scf.if
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, memref<10xf32>
func.func @short_mask(%m: memref<10xi1>, %x: memref<10xf32>) {
  %c0 = arith.constant 0 : index
  %false = arith.constant false
  %pad = arith.constant 0.0 : f32
  %mask = vector.transfer_read %m[%c0], %false : memref<10xi1>, vector<16xi1>
  %v = vector.transfer_read %x[%c0], %pad : memref<10xf32>, vector<16xf32>
  %zero = arith.constant dense<0.0> : vector<16xf32>
  %s = arith.select %mask, %v, %zero : vector<16xi1>, vector<16xf32>
  vector.transfer_write %s, %x[%c0] : vector<16xf32>, memref<10xf32>
  return
}

// -----

// A loop-invariant bool broadcast across the lanes: one load, splatted.
// CHECK-LABEL: func.func @broadcast_flag
// CHECK-COUNT-1: memref.load {{.*}} : memref<4xi1>
// CHECK-NOT: memref.load {{.*}} : memref<4xi1>
// CHECK: vector.splat
func.func @broadcast_flag(%flags: memref<4xi1>, %i: index, %x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %false = arith.constant false
  %pad = arith.constant 0.0 : f32
  %f = vector.transfer_read %flags[%i], %false {in_bounds = [true], permutation_map = affine_map<(d0) -> (0)>} : memref<4xi1>, vector<16xi1>
  %v = vector.transfer_read %x[%c0], %pad {in_bounds = [true]} : memref<16xf32>, vector<16xf32>
  %zero = arith.constant dense<0.0> : vector<16xf32>
  %s = arith.select %f, %v, %zero : vector<16xi1>, vector<16xf32>
  vector.transfer_write %s, %x[%c0] {in_bounds = [true]} : vector<16xf32>, memref<16xf32>
  return
}

// -----

// A row of a row-fused chain (masked_fill's mask read by a softmax
// backward row, vectorized at the row's full shape): a 2-D read of a
// [1, 8] row, broadcast along nothing, each of its 8 lanes its own load at
// (row, lane), inserted at [0, lane].
// CHECK-LABEL: func.func @row_of_bools
// CHECK-NOT: vector.transfer_read {{.*}} memref<4x8xi1>
// CHECK-COUNT-8: memref.load {{.*}} : memref<4x8xi1>
// CHECK: vector.insert {{.*}} [0, 7] : i1 into vector<1x8xi1>
func.func @row_of_bools(%m: memref<4x8xi1>, %row: index) -> vector<1x8xi1> {
  %c0 = arith.constant 0 : index
  %false = arith.constant false
  %r = vector.transfer_read %m[%row, %c0], %false {in_bounds = [true, true]} : memref<4x8xi1>, vector<1x8xi1>
  return %r : vector<1x8xi1>
}

// -----

// A masked transfer of bools is not something the pipeline makes: an error,
// not a lowering that would store packed bits.
func.func @masked(%m: memref<16xi1>, %v: vector<16xi1>, %mask: vector<16xi1>) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{cannot scalarize this transfer of an i1 buffer}}
  vector.transfer_write %v, %m[%c0], %mask : vector<16xi1>, memref<16xi1>
  return
}
