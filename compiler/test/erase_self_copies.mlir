// --ember-erase-self-copies on its own: a copy of a buffer into itself (what
// one-shot bufferization leaves after materializing a write-back in its own
// argument) goes; a copy between two buffers stays.
// RUN: ember-opt --ember-erase-self-copies %s | FileCheck %s

// CHECK-LABEL: func.func @copies
// CHECK-NEXT: memref.copy %arg0, %arg1
// CHECK-NEXT: return
func.func @copies(%a: memref<8xf32>, %b: memref<8xf32>) {
  memref.copy %a, %a : memref<8xf32> to memref<8xf32>
  memref.copy %a, %b : memref<8xf32> to memref<8xf32>
  return
}
