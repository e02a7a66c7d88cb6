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

// A 2-D transfer of bools is not something the pipeline makes: an error,
// not a lowering that would store packed bits.
func.func @two_d(%m: memref<4x16xi1>, %v: vector<4x16xi1>) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{cannot scalarize this transfer of an i1 buffer}}
  vector.transfer_write %v, %m[%c0, %c0] {in_bounds = [true, true]} : vector<4x16xi1>, memref<4x16xi1>
  return
}
