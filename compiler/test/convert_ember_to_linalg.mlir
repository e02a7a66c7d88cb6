// --convert-ember-to-linalg: each elementwise ember op becomes one
// linalg.generic over the result's dims other than size-1 ones; broadcasting
// is in the indexing maps (a broadcast size-1 dim is collapsed away, so maps
// stay projected permutations), type promotion in arith casts of the body's
// arguments.
// RUN: ember-opt --convert-ember-to-linalg %s | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[VEC:.*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>

// CHECK-LABEL: func.func @chain
func.func @chain(%a: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // A [3] operand of a [4, 3] result reads (d1).
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<4x3xf32>
  // CHECK: %[[ADD:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1 : tensor<4x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<4x3xf32>)
  // CHECK: arith.addf
  %0 = ember.add %a, %b : tensor<4x3xf32>, tensor<3xf32> -> tensor<4x3xf32>
  // CHECK: math.tanh
  %1 = ember.tanh %0 : tensor<4x3xf32> -> tensor<4x3xf32>
  // A C++ number: a 0-d constant read through ().
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]
  // CHECK: arith.mulf
  %c = ember.constant dense<1.5> : tensor<f32>
  %2 = ember.mul %1, %c : tensor<4x3xf32>, tensor<f32> -> tensor<4x3xf32>
  // CHECK-NOT: ember.
  return %2 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @promotion
func.func @promotion(%i: tensor<4x1xi32>, %x: tensor<4x3xf32>, %p: tensor<4x3xi1>) -> (tensor<4x3xi1>, tensor<4x1xf32>, tensor<4x3xi1>, tensor<4x3xf32>) {
  // int32 > float32 compares in f32; a [4, 1] operand is collapsed to [4]
  // and read through (d0).
  // CHECK: %[[I:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<4x1xi32> into tensor<4xi32>
  // CHECK: linalg.generic {indexing_maps = [#[[COL]], #[[ID]], #[[ID]]]{{.*}} ins(%[[I]], %arg1
  // CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : i32 to f32
  // CHECK: arith.cmpf ogt, %[[F]], %{{.*}} : f32
  %0 = ember.gt %i, %x : tensor<4x1xi32>, tensor<4x3xf32> -> tensor<4x3xi1>
  // Integer division is true division in f32; a [4, 1] result is computed
  // over [4] and expanded back.
  // CHECK: linalg.generic {indexing_maps = [#[[VEC]], #[[VEC]], #[[VEC]]]
  // CHECK: arith.sitofp
  // CHECK: arith.sitofp
  // CHECK: arith.divf
  // CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
  %1 = ember.div %i, %i : tensor<4x1xi32>, tensor<4x1xi32> -> tensor<4x1xf32>
  // bool + bool is logical or.
  // CHECK: arith.ori %{{.*}}, %{{.*}} : i1
  %2 = ember.add %p, %p : tensor<4x3xi1>, tensor<4x3xi1> -> tensor<4x3xi1>
  // where keeps its i1 condition; relu is a select that keeps NaN.
  // CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
  %3 = ember.where %p, %x, %x : tensor<4x3xi1>, tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  // CHECK: %[[LT:.*]] = arith.cmpf olt
  // CHECK: arith.select %[[LT]]
  %4 = ember.relu %3 : tensor<4x3xf32> -> tensor<4x3xf32>
  return %0, %1, %2, %4 : tensor<4x3xi1>, tensor<4x1xf32>, tensor<4x3xi1>, tensor<4x3xf32>
}

// Reductions: a filled accumulator of the kept dims and reduction iterators;
// keepdim expands the result back; mean divides by the count.
// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<4x3x2xf32>) -> (tensor<4xf32>, tensor<1x3x1xf32>) {
  // CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4xf32>)
  // CHECK: linalg.generic {{{.*}}iterator_types = ["parallel", "reduction", "reduction"]} ins(%arg0 : tensor<4x3x2xf32>) outs(%[[Z]] : tensor<4xf32>)
  // CHECK: arith.addf
  %0 = ember.sum %x {dims = array<i64: 1, 2>, keepdim = false} : tensor<4x3x2xf32> -> tensor<4xf32>
  // CHECK: iterator_types = ["reduction", "parallel", "reduction"]
  // CHECK: arith.divf %{{.*}}, %{{.*}} : f32
  // CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2]] output_shape [1, 3, 1] : tensor<3xf32> into tensor<1x3x1xf32>
  %1 = ember.mean %x {dims = array<i64: 0, 2>, keepdim = true} : tensor<4x3x2xf32> -> tensor<1x3x1xf32>
  return %0, %1 : tensor<4xf32>, tensor<1x3x1xf32>
}

// Ops of other families are left for later passes.
// CHECK-LABEL: func.func @not_lowered_yet
func.func @not_lowered_yet(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // CHECK: ember.softmax
  %0 = ember.softmax %x {dim = 1 : i64} : tensor<4x3xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
