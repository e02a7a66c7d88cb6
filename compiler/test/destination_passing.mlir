// --ember-destination-passing on its own. An ordinary result becomes a
// memref argument written through materialize_in_destination; a write-back
// marked ember.in_place = j is materialized in argument j and stays a result
// (for drop-equivalent-buffer-results), other arguments read-only; with
// in-place=false it is an out-parameter too. A function with checks that
// writes in place gets its checks twin.
// RUN: ember-opt '--ember-destination-passing=function=step' %s | FileCheck %s --check-prefix=INPLACE
// RUN: ember-opt '--ember-destination-passing=function=step in-place=false' %s | FileCheck %s --check-prefix=OUT
// RUN: ember-opt --convert-ember-to-linalg --ember-lower-checks %s | ember-opt '--ember-destination-passing=function=guarded' \
// RUN:   | FileCheck %s --check-prefix=TWIN

// INPLACE-LABEL: func.func @step
// INPLACE-SAME: (%[[P:arg0]]: tensor<8xf32> {bufferization.writable = true}, %arg1: tensor<8xf32> {bufferization.writable = false}, %[[DEST:arg2]]: memref<8xf32>) -> tensor<8xf32>
// INPLACE-SAME: ember.in_place_results = array<i64: 0>
// INPLACE-SAME: llvm.emit_c_interface
// INPLACE: %[[NEW:.*]] = bufferization.materialize_in_destination %{{.*}} in %[[P]]
// INPLACE: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[DEST]]
// INPLACE: return %[[NEW]]
// OUT-LABEL: func.func @step
// OUT-SAME: {bufferization.writable = false}
// OUT-SAME: {bufferization.writable = false}, %arg2: memref<8xf32>, %arg3: memref<8xf32>)
// OUT-NOT: ember.in_place_results
// OUT-COUNT-2: materialize_in_destination {{.*}} in restrict writable
// OUT: return{{$}}
func.func @step(%p: tensor<8xf32>, %g: tensor<8xf32>) -> (tensor<8xf32> {ember.in_place = 0 : i64}, tensor<8xf32>) {
  %new = ember.sub %p, %g : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %sq = ember.mul %g, %g : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return %new, %sq : tensor<8xf32>, tensor<8xf32>
}

// TWIN-LABEL: func.func @guarded(
// TWIN-LABEL: func.func @guarded_checks(
// TWIN-SAME: memref<i64>
// TWIN-NOT: ember.sub
// TWIN: return
func.func @guarded(%p: tensor<4xf32>, %i: tensor<2xi64>) -> (tensor<4xf32> {ember.in_place = 0 : i64}) {
  %p2 = ember.view %p {shape = array<i64: 4, 1>} : tensor<4xf32> -> tensor<4x1xf32>
  %e = ember.embedding %p2, %i : tensor<4x1xf32>, tensor<2xi64> -> tensor<2x1xf32>
  %s = ember.sum %e {dims = array<i64>, keepdim = false} : tensor<2x1xf32> -> tensor<f32>
  %new = ember.sub %p, %s : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %new : tensor<4xf32>
}
