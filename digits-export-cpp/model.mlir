module {
  func.func @model_forward(%arg0: tensor<1x64xf32>, %arg1: tensor<128x64xf32>, %arg2: tensor<128xf32>, %arg3: tensor<10x128xf32>, %arg4: tensor<10xf32>) -> tensor<1x10xf32> attributes {ember.arguments = ["input 0", "captured 0", "captured 1", "captured 2", "captured 3"], ember.results = ["output 0"]} {
    %0 = ember.permute %arg1 {dims = array<i64: 1, 0>} : tensor<128x64xf32> -> tensor<64x128xf32>
    %1 = ember.matmul %arg0, %0 : tensor<1x64xf32>, tensor<64x128xf32> -> tensor<1x128xf32>
    %2 = ember.add %1, %arg2 : tensor<1x128xf32>, tensor<128xf32> -> tensor<1x128xf32>
    %3 = ember.relu %2 : tensor<1x128xf32> -> tensor<1x128xf32>
    %4 = ember.permute %arg3 {dims = array<i64: 1, 0>} : tensor<10x128xf32> -> tensor<128x10xf32>
    %5 = ember.matmul %3, %4 : tensor<1x128xf32>, tensor<128x10xf32> -> tensor<1x10xf32>
    %6 = ember.add %5, %arg4 : tensor<1x10xf32>, tensor<10xf32> -> tensor<1x10xf32>
    return %6 : tensor<1x10xf32>
  }
}
