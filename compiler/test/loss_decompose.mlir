// --ember-decompose of cross_entropy: the target's logit (picked by
// comparing the target with arange(C)) minus the row's logsumexp, whose
// terms are softmax's; with the CSE the pipeline runs next, a loss and the
// softmax of its gradient take each row's exponentials once (one ember.exp),
// and the row's log is taken once per row, not per element.
// RUN: ember-opt --ember-decompose --cse %s | FileCheck %s

// CHECK-LABEL: func.func @loss_and_softmax
// CHECK: %[[M:.*]] = ember.amax %arg0 {dims = array<i64: 1>, keepdim = true}
// CHECK: %[[Z:.*]] = ember.sub %arg0, %[[M]]
// CHECK: %[[E:.*]] = ember.exp %[[Z]]
// CHECK: %[[S:.*]] = ember.sum %[[E]] {dims = array<i64: 1>, keepdim = true}
// CHECK: %[[LOG:.*]] = ember.log %[[S]] : tensor<5x1xf32>
// CHECK: %[[LSE:.*]] = ember.add %[[LOG]], %[[M]]
// CHECK: %[[ROW:.*]] = ember.squeeze %[[LSE]] {dims = array<i64: 1>} : tensor<5x1xf32> -> tensor<5xf32>
// CHECK: ember.sub %{{.*}}, %[[ROW]] : tensor<5xf32>, tensor<5xf32>
// CHECK: ember.div %[[E]], %[[S]]
// CHECK-NOT: ember.exp
// CHECK-NOT: ember.log_softmax
func.func @loss_and_softmax(%x: tensor<5x7xf32>, %t: tensor<5xi64>) -> (tensor<f32>, tensor<5x7xf32>) {
  %loss = ember.cross_entropy %x, %t {ignore_index = -100 : i64, reduction = 1 : i64} : tensor<5x7xf32>, tensor<5xi64> -> tensor<f32>
  %p = ember.softmax %x {dim = 1 : i64} : tensor<5x7xf32> -> tensor<5x7xf32>
  return %loss, %p : tensor<f32>, tensor<5x7xf32>
}
