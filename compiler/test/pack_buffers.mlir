// --ember-pack-buffers on its own: the function's static temporaries
// become views of one workspace argument, packed by live range: %a and %b
// are live together and get different bytes, %c starts after %a's last use
// and reuses them; their deallocs go, and the function says how many bytes
// the caller must pass (ember.workspace_bytes).
// RUN: ember-opt --ember-pack-buffers %s | FileCheck %s

// CHECK-LABEL: func.func @three_temporaries
// CHECK-SAME: (%[[X:.*]]: memref<16xf32>, %[[OUT:.*]]: memref<16xf32>, %[[WS:.*]]: memref<?xi8>)
// CHECK-SAME: ember.workspace_bytes = 128
// CHECK-NOT: memref.alloc
// CHECK: %[[OFF_A:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[WS]][%[[OFF_A]]][] : memref<?xi8> to memref<16xf32>
// CHECK: %[[OFF_B:.*]] = arith.constant 64 : index
// CHECK: memref.view %[[WS]][%[[OFF_B]]][] : memref<?xi8> to memref<16xf32>
// CHECK: %[[OFF_C:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[WS]][%[[OFF_C]]][] : memref<?xi8> to memref<16xf32>
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @three_temporaries(%x: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %x, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  memref.dealloc %c : memref<16xf32>
  return
}
