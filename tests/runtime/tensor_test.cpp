// tensor_test.cpp - tensors: creation, dtypes and promotion, views sharing
// storage and version, contiguous/clone, printing, the allocator, threads.
#include <gtest/gtest.h>

#include <sstream>

#include "ember/ember.h"
#include "ember/threading.h"

extern "C" int openblas_get_parallel();

namespace ember {
namespace {

TEST(Tensor, CreationFromVectorsAndBuffers) {
  Tensor a = tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.sizes(), (Shape{2, 3}));
  EXPECT_EQ(a.dtype(), DType::Float32);
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(tensor<int64_t>({7}).dtype(), DType::Int64);
  EXPECT_EQ(tensor<bool>({true, false}).dtype(), DType::Bool);

  double buffer[4] = {1, 2, 3, 4};
  bool freed = false;
  {
    Tensor b = from_blob(buffer, {2, 2}, DType::Float64, [&] { freed = true; });
    b.mul_(2);  // writes through to the caller's memory
    EXPECT_FALSE(freed);
  }
  EXPECT_TRUE(freed);
  EXPECT_EQ(buffer[3], 8);
  EXPECT_THROW(tensor<float>({1, 2, 3}, {2, 2}), Error);
}

TEST(Tensor, TypePromotionFollowsPyTorch) {
  const Tensor i32 = tensor<int32_t>({1, 2}), i64 = tensor<int64_t>({1, 2});
  const Tensor f32 = tensor<float>({1, 2}), f64 = tensor<double>({1, 2}), b = tensor<bool>({true, false});
  EXPECT_EQ((i32 + i64).dtype(), DType::Int64);
  EXPECT_EQ((i32 + f32).dtype(), DType::Float32);
  EXPECT_EQ((f32 + f64).dtype(), DType::Float64);
  EXPECT_EQ((b + i32).dtype(), DType::Int32);
  EXPECT_EQ((i32 * 2.5).dtype(), DType::Float32);  // a C++ float gives the default dtype
  EXPECT_EQ((i32 * 2).dtype(), DType::Int32);      // a C++ int keeps the tensor's
  EXPECT_EQ((f32 * 2.5).dtype(), DType::Float32);
  EXPECT_EQ((b * 2).dtype(), DType::Int64);
  EXPECT_EQ((f32 + scalar_tensor(2.0).to(DType::Float64)).dtype(), DType::Float32);  // 0-d loses to dims
  EXPECT_EQ((i32 / i32).dtype(), DType::Float32);                                    // true division
  EXPECT_EQ((i32 / i32).to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ((i32 > 1.5).dtype(), DType::Bool);
  EXPECT_EQ((i32 > 1.5).to_vector<bool>(), (std::vector<bool>{false, true}));
}

TEST(Tensor, ViewsShareStorageAndVersion) {
  Tensor x = arange(0.0, 12.0, 1.0).view({3, 4});
  Tensor row = x[1];
  Tensor col = x.select(1, 2);
  Tensor block = x.narrow(0, 1, 2).slice(1, 0, 4, 2);
  const uint32_t v0 = x.version();
  row.fill_(-1);
  EXPECT_EQ(x.version(), v0 + 1);
  EXPECT_EQ(col.version(), x.version());
  EXPECT_EQ(col.to_vector<float>(), (std::vector<float>{2, -1, 10}));
  EXPECT_EQ(block.to_vector<float>(), (std::vector<float>{-1, -1, 8, 10}));
  EXPECT_FALSE(block.is_contiguous());
  EXPECT_EQ(x.t().stride(0), 1);
  EXPECT_EQ(x.unsqueeze(0).sizes(), (Shape{1, 3, 4}));
  EXPECT_EQ(x.unsqueeze(0).squeeze(0).sizes(), (Shape{3, 4}));
  EXPECT_EQ(x.flatten().sizes(), (Shape{12}));
  EXPECT_EQ(x.expand({2, 3, 4}).stride(0), 0);
  EXPECT_EQ(x.permute({1, 0}).data_ptr(), x.data_ptr());
  EXPECT_EQ(x.transpose(0, 1).sizes(), (Shape{4, 3}));
  EXPECT_EQ(x[-1].to_vector<float>(), (std::vector<float>{8, 9, 10, 11}));
}

TEST(Tensor, ContiguousCloneAndReshape) {
  Tensor x = arange(0.0, 6.0, 1.0).view({2, 3});
  Tensor t = x.t();
  EXPECT_FALSE(t.is_contiguous());
  Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.data_ptr(), x.data_ptr());
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(x.contiguous().data_ptr(), x.data_ptr());  // already contiguous: no copy
  Tensor k = x.clone();
  k.zero_();
  EXPECT_EQ(x.to_vector<float>()[1], 1);  // clone does not alias
  EXPECT_EQ(t.reshape({6}).to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(x.reshape({3, -1}).data_ptr(), x.data_ptr());  // a view when possible
  EXPECT_EQ(x.to(DType::Int32).dtype(), DType::Int32);
}

TEST(Tensor, InPlaceOpsBumpTheVersionAndBroadcast) {
  Tensor x = zeros({2, 3});
  const uint32_t v = x.version();
  x.add_(tensor<float>({1, 2, 3}));
  x.mul_(2);
  x.sub_(1);
  x.div_(tensor<float>({1, 1, 2}));
  EXPECT_EQ(x.version(), v + 4);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 3, 2.5, 1, 3, 2.5}));
  x += 1;
  x *= x;  // reads and writes the same buffer
  EXPECT_EQ(x.to_vector<float>()[0], 4);
  Tensor i = zeros({2}, DType::Int64);
  EXPECT_THROW(i.add_(tensor<float>({0.5, 0.5})), Error);  // float result into int
  Tensor y = arange(0.0, 4.0, 1.0).view({2, 2});
  y.add_(y.t());  // overlapping read and write of other elements
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 3, 3, 6}));
}

TEST(Tensor, PrintingShowsValuesShapeDtypeAndGradFn) {
  Tensor x = tensor<float>({1.5, -2, 3, 4}, {2, 2}).requires_grad_();
  const std::string s = to_string(x * 2);
  EXPECT_NE(s.find("[[3.0000, -4.0000],"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=[2, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("dtype=float32"), std::string::npos) << s;
  EXPECT_NE(s.find("grad_fn=<mul_backward>"), std::string::npos) << s;
  EXPECT_NE(to_string(x).find("requires_grad=true"), std::string::npos);
  EXPECT_NE(to_string(tensor<bool>({true})).find("true"), std::string::npos);
  EXPECT_NE(to_string(arange(7)).find("[0, 1, 2, 3, 4, 5, 6]"), std::string::npos);
  // Large tensors are summarized.
  const std::string big = to_string(zeros({100, 100}));
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_LT(big.size(), 2000u);
  std::ostringstream out;
  out << scalar_tensor(2.5);
  EXPECT_NE(out.str().find("2.5000"), std::string::npos) << out.str();
}

TEST(Tensor, ItemAndToVector) {
  EXPECT_EQ(tensor<float>({2.5}).item<float>(), 2.5f);
  EXPECT_EQ(tensor<int64_t>({7}).item<double>(), 7.0);
  EXPECT_THROW(zeros({2}).item<float>(), Error);
  EXPECT_THROW(tensor<float>({1}).data_ptr<double>(), Error);
}

TEST(Tensor, SplitChunkStackCat) {
  Tensor x = arange(0.0, 10.0, 1.0);
  auto parts = split(x, 4);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].to_vector<float>(), (std::vector<float>{8, 9}));
  EXPECT_EQ(chunk(x, 2)[1].numel(), 5);
  Tensor s = stack({parts[0], parts[1]}, 1);
  EXPECT_EQ(s.sizes(), (Shape{4, 2}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
  EXPECT_EQ(cat(parts).to_vector<float>(), x.to_vector<float>());
}

TEST(Tensor, DropoutKeepsExpectationAndIsIdentityInEval) {
  manual_seed(0);
  Tensor x = ones({100000});
  Tensor y = dropout(x, 0.25, true);
  const auto v = y.to_vector<float>();
  int64_t zeros_count = 0;
  for (float e : v) {
    if (e == 0)
      ++zeros_count;
    else
      EXPECT_NEAR(e, 1 / 0.75, 1e-6);
  }
  EXPECT_NEAR(double(zeros_count) / v.size(), 0.25, 0.01);
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 0.01);
  EXPECT_TRUE(dropout(x, 0.25, false).is_same(x));
  EXPECT_EQ(dropout(x, 1.0, true).sum().item<float>(), 0);
}

TEST(Tensor, LinearAndOneHot) {
  Tensor x = tensor<float>({1, 2}, {1, 2}), w = tensor<float>({1, 0, 0, 1, 1, 1}, {3, 2}),
         b = tensor<float>({0, 1, 2});
  EXPECT_EQ(linear(x, w, b).to_vector<float>(), (std::vector<float>{1, 3, 5}));
  EXPECT_EQ(one_hot(tensor<int64_t>({2, 0}), 3).to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 0, 0}));
}

TEST(Allocator, FreedBlocksAreReusedAndCanBeReleased) {
  empty_cache();
  const MemoryStats before = memory_stats();
  void* first;
  {
    Tensor a = empty({1 << 20});  // 4 MiB
    first = a.data_ptr();
  }
  EXPECT_GE(memory_stats().cached_bytes, 4 << 20);
  {
    Tensor b = empty({1 << 20});
    EXPECT_EQ(b.data_ptr(), first) << "the freed block is reused";
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data_ptr()) % 64, 0u);
  }
  EXPECT_GT(memory_stats().cache_hits, before.cache_hits);
  empty_cache();
  EXPECT_EQ(memory_stats().cached_bytes, 0);
}

TEST(Allocator, PeakTracksLiveTensors) {
  Tensor keep = empty({1000});
  reset_peak_memory_stats();
  const int64_t base = memory_stats().allocated_bytes;
  { Tensor t = empty({1 << 18}); }
  EXPECT_GE(memory_stats().peak_allocated_bytes - base, 1 << 20);
  EXPECT_EQ(memory_stats().allocated_bytes, base);
}

TEST(Threads, SetNumThreadsControlsKernelsAndResultsDoNotChange) {
  const int original = get_num_threads();
  manual_seed(1);
  Tensor x = randn({300000});
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  const auto one = (x.tanh() * 2 + x).to_vector<float>();
  const double s1 = x.sum().item<double>();
  set_num_threads(2);
  const auto two = (x.tanh() * 2 + x).to_vector<float>();
  EXPECT_EQ(one, two);
  EXPECT_NEAR(x.sum().item<double>(), s1, 1e-6 * std::abs(s1) + 1e-6);
  set_num_threads(original);
}

TEST(Threads, OpenBlasIsTheOpenMPBuild) {
  // Note [One thread pool]: 2 is OPENBLAS_OPENMP (0 sequential, 1 pthreads).
  EXPECT_EQ(openblas_get_parallel(), 2);
}

}  // namespace
}  // namespace ember
