// ember-transfers-in-bounds: a transfer dim is in bounds when its index's
// largest value plus the vector size fits the buffer's dim; i1 buffers are
// left masked (LLVM packs vector<16xi1> into 16 bits).
// RUN: ember-opt --ember-transfers-in-bounds %s | FileCheck %s

// 784 = 49 x 16: the last vector at 768 ends at 784.
// CHECK-LABEL: func.func @exact_rows
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : memref<8x784xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xf32>, memref<8x784xf32>
func.func @exact_rows(%a: memref<8x784xf32>) {
  %pad = arith.constant 0.0 : f32
  affine.for %i = 0 to 8 {
    affine.for %j = 0 to 784 step 16 {
      %v = vector.transfer_read %a[%i, %j], %pad : memref<8x784xf32>, vector<16xf32>
      %w = arith.addf %v, %v : vector<16xf32>
      vector.transfer_write %w, %a[%i, %j] : vector<16xf32>, memref<8x784xf32>
    }
  }
  return
}

// 10 elements, 16 lanes: the one vector runs past the end and stays masked.
// CHECK-LABEL: func.func @short_row
// CHECK-NOT: in_bounds = [true]
// CHECK: return
func.func @short_row(%a: memref<10xf32>) {
  %pad = arith.constant 0.0 : f32
  affine.for %j = 0 to 10 step 16 {
    %v = vector.transfer_read %a[%j], %pad : memref<10xf32>, vector<16xf32>
    vector.transfer_write %v, %a[%j] : vector<16xf32>, memref<10xf32>
  }
  return
}

// 40 = 2 x 16 + 8: the vector at 32 would end at 48.
// CHECK-LABEL: func.func @ragged_row
// CHECK-NOT: in_bounds = [true]
// CHECK: return
func.func @ragged_row(%a: memref<40xf32>) {
  %pad = arith.constant 0.0 : f32
  affine.for %j = 0 to 40 step 16 {
    %v = vector.transfer_read %a[%j], %pad : memref<40xf32>, vector<16xf32>
    vector.transfer_write %v, %a[%j] : vector<16xf32>, memref<40xf32>
  }
  return
}

// CHECK-LABEL: func.func @booleans
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : memref<32xf32>
// CHECK: vector.transfer_write %{{[a-z0-9]+}}, %{{[a-z0-9]+}}[%{{[a-z0-9]+}}] : vector<16xi1>, memref<32xi1>
func.func @booleans(%a: memref<32xf32>, %b: memref<32xi1>) {
  %pad = arith.constant 0.0 : f32
  %zero = arith.constant dense<0.0> : vector<16xf32>
  affine.for %j = 0 to 32 step 16 {
    %v = vector.transfer_read %a[%j], %pad : memref<32xf32>, vector<16xf32>
    %c = arith.cmpf ogt, %v, %zero : vector<16xf32>
    vector.transfer_write %c, %b[%j] : vector<16xi1>, memref<32xi1>
  }
  return
}
