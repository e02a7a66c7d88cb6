// ember-compile takes a module's only public function without -f (an
// export's @model_forward), and says so when there is no single one.
// RUN: ember-compile %s -emit=jit --runs 1 | FileCheck %s
// RUN: not ember-compile %S/compile_buffers.mlir -emit=linalg 2>&1 | FileCheck %s --check-prefix=MANY

// CHECK: result 0: [4] float32
// CHECK: median {{.*}} ms over 1 calls
// MANY: has 2 public functions; name one with -f
func.func @model_forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = ember.exp %x : tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
