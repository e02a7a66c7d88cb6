// errors_test.cpp - bad input is an ember::Error naming the op, the shapes or
// dtypes, and the caller's file:line; never a crash or a silent wrong answer.
#include <gtest/gtest.h>

#include "ember/ember.h"

namespace ember {
namespace {

// These tests assert the line each error names: clang-format must not move
// a call away from the __LINE__ beside it.
// clang-format off

// Runs fn, expects an ember::Error whose message contains every fragment and
// names this file at `line`.
template <typename Fn>
void expect_error(Fn&& fn, int line, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown (expected one mentioning " << *fragments.begin() << ")";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "missing '" << f << "' in: " << msg;
    EXPECT_NE(msg.find("errors_test.cpp:" + std::to_string(line)), std::string::npos)
        << "the message must name the caller's line " << line << ": " << msg;
  }
}

TEST(BadInput, MatmulInnerSizeMismatch) {
  Tensor a = zeros({128, 784}), b = zeros({512, 10});
  expect_error([&] { a.matmul(b); }, __LINE__, {"matmul", "[128, 784]", "[512, 10]", "cannot be multiplied"});
  expect_error([&] { matmul(zeros({2, 3}), zeros({3, 2}, DType::Float64)); }, __LINE__, {"matmul", "float32", "float64"});
  expect_error([&] { matmul(zeros({}), zeros({3})); }, __LINE__, {"matmul", "at least 1 dimension"});
}

TEST(BadInput, IncompatibleBroadcast) {
  Tensor a = zeros({2, 3}), b = zeros({4});
  expect_error([&] { a.add(b); }, __LINE__, {"add", "[2, 3]", "[4]", "cannot be broadcast"});
  expect_error([&] { where(zeros({2}).gt(0), zeros({3}), zeros({3})); }, __LINE__, {"where", "broadcast"});
  Tensor x = zeros({3});
  expect_error([&] { x.add_(zeros({2, 3})); }, __LINE__, {"add_", "[2, 3]", "[3]"});
}

TEST(BadInput, DimensionOutOfRange) {
  Tensor x = zeros({2, 3});
  expect_error([&] { x.sum(2); }, __LINE__, {"sum", "dimension 2", "out of range", "2-d"});
  expect_error([&] { x.softmax(-3); }, __LINE__, {"softmax", "dimension -3"});
  expect_error([&] { x.size(5); }, __LINE__, {"size", "dimension 5"});
  expect_error([&] { x.transpose(0, 2); }, __LINE__, {"transpose", "dimension 2"});
  expect_error([&] { x.sum({0, 0}); }, __LINE__, {"sum", "more than once"});
  expect_error([&] { x.select(0, 2); }, __LINE__, {"select", "index 2", "size 2"});
  expect_error([&] { x.narrow(1, 2, 2); }, __LINE__, {"narrow", "out of range"});
  expect_error([&] { x.max(1 + 1); }, __LINE__, {"max_dim", "out of range"});
}

TEST(BadInput, WrongDtypeForAnIndex) {
  Tensor w = zeros({5, 3});
  expect_error([&] { embedding(w, zeros({2})); }, __LINE__, {"embedding", "indices", "int64", "float32"});
  expect_error([&] { embedding(w, tensor<int64_t>({1, 5})); }, __LINE__, {"embedding", "index 5", "out of range"});
  expect_error([&] { cross_entropy(zeros({2, 3}), zeros({2})); }, __LINE__, {"cross_entropy", "targets", "float32"});
  expect_error([&] { cross_entropy(zeros({2, 3}), tensor<int64_t>({0, 3})); }, __LINE__,
               {"cross_entropy", "target 3", "3 classes"});
  expect_error([&] { cross_entropy(zeros({2, 3}), tensor<int64_t>({0})); }, __LINE__, {"cross_entropy", "[1]", "[2, 3]"});
  expect_error([&] { where(zeros({2}), zeros({2}), zeros({2})); }, __LINE__, {"where", "bool", "float32"});
  expect_error([&] { one_hot(zeros({2}), 3); }, __LINE__, {"one_hot", "float32"});
}

TEST(BadInput, NonContiguousView) {
  Tensor x = zeros({4, 6}).t();
  expect_error([&] { x.view({24}); }, __LINE__, {"view", "[24]", "not contiguous", "reshape"});
  EXPECT_EQ(x.reshape({24}).numel(), 24);  // reshape copies instead
  expect_error([&] { zeros({2, 3}).view({4, 2}); }, __LINE__, {"view", "[4, 2]", "6 elements"});
  expect_error([&] { zeros({2, 3}).view({-1, -1}); }, __LINE__, {"view", "only one dimension can be -1"});
}

TEST(BadInput, ShapesAndArguments) {
  expect_error([&] { zeros({1, 1, 1, 1, 1, 1, 1, 1, 1}); }, __LINE__, {"9 dimensions", "at most 8"});
  expect_error([&] { zeros({2, -1}); }, __LINE__, {"full", "negative dimension"});
  expect_error([&] { cat({zeros({2, 3}), zeros({3, 3})}, 1); }, __LINE__, {"cat", "[3, 3]", "[2, 3]", "dimension 1"});
  expect_error([&] { cat({}); }, __LINE__, {"cat", "at least one"});
  expect_error([&] { zeros({2}).expand({3}); }, __LINE__, {"expand", "size 3", "existing size 2"});
  expect_error([&] { zeros({2, 3}).permute({0, 0}); }, __LINE__, {"permute", "twice"});
  expect_error([&] { conv2d(zeros({1, 3, 5, 5}), zeros({2, 4, 3, 3})); }, __LINE__, {"conv2d", "3 channels", "expects 4"});
  expect_error([&] { conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 3, 3})); }, __LINE__, {"conv2d", "larger than"});
  expect_error([&] { max_pool2d(zeros({4, 4}), {}); }, __LINE__, {"max_pool2d", "[N, C, H, W]"});
  expect_error([&] { layer_norm(zeros({2, 3}), {4}); }, __LINE__, {"layer_norm", "[4]", "[2, 3]"});
  expect_error([&] { layer_norm(zeros({2, 3}), {3}, zeros({2})); }, __LINE__, {"layer_norm", "weight", "[2]"});
  expect_error([&] { zeros({2}).mean(); zeros({2}, DType::Int64).mean(); }, __LINE__, {"mean", "int64"});
  expect_error([&] { sub(tensor<bool>({true}), tensor<bool>({true})); }, __LINE__, {"sub", "bool"});
  expect_error([&] { zeros({2}).t().t(); zeros({2, 2, 2}).t(); }, __LINE__, {"t:", "[2, 2, 2]"});
  expect_error([&] { arange(0, 5, -1); }, __LINE__, {"arange", "step"});
  expect_error([&] { randint(3, 3, {2}); }, __LINE__, {"randint", "high"});
  expect_error([&] { dropout(zeros({2}), 1.5, true); }, __LINE__, {"dropout", "p must be"});
  expect_error([&] { zeros({0}).max(); }, __LINE__, {"amax", "zero elements"});
  expect_error([&] { zeros({2, 0}).argmax(1); }, __LINE__, {"argmax", "size 0"});
}

TEST(BadInput, UndefinedTensors) {
  Tensor undefined;
  expect_error([&] { add(undefined, zeros({2})); }, __LINE__, {"add", "undefined"});
  expect_error([&] { matmul(zeros({2, 2}), undefined); }, __LINE__, {"matmul", "undefined"});
  expect_error([&] { cat({zeros({2}), undefined}); }, __LINE__, {"cat", "undefined"});
}

// A few more than the required minimum: operator forms keep ember's own
// location (C++ operators cannot take a source_location), but still throw.
TEST(BadInput, OperatorsThrowToo) {
  EXPECT_THROW(zeros({2}) + zeros({3}), Error);
  EXPECT_THROW(zeros({2}) * zeros({3, 1, 4}), Error);
}

// Requests no machine can serve: errors naming the op, the shape and the
// caller's line, not a crash, an overflowed size or the kernel's OOM killer.
TEST(AbsurdRequests, AShapeWhoseElementCountOverflowsIsAnError) {
  const int64_t huge = int64_t{1} << 40;
  expect_error([&] { randn({huge, huge}); }, __LINE__, {"randn", "[1099511627776, 1099511627776]", "int64"});
  expect_error([&] { zeros({huge, huge, huge}); }, __LINE__, {"full", "more elements than an int64 can count"});
  expect_error([&] { ones({1, 1}).expand({huge, huge}); }, __LINE__, {"expand", "[1099511627776, 1099511627776]"});
  expect_error([&] { empty({huge, huge}); }, __LINE__, {"empty", "int64"});
}

TEST(AbsurdRequests, ATensorLargerThanMemoryIsAnError) {
  const int64_t big = int64_t{1} << 20;  // [2^20, 2^20] float32: 4 TiB
  expect_error([&] { randn({big, big}); }, __LINE__, {"randn", "[1048576, 1048576]", "4.00 TiB", "more than the machine's"});
  expect_error([&] { empty({big, big}, DType::Float64); }, __LINE__, {"empty", "8.00 TiB"});
  expect_error([&] { arange(0, 1e15); }, __LINE__, {"arange", "more than the machine's"});
  expect_error([&] { ones({big, 1}).expand({big, big}).contiguous(); }, __LINE__, {"4.00 TiB"});
  // Nothing was left allocated by the refused requests.
  EXPECT_LT(memory_stats().allocated_bytes, int64_t{1} << 30);
}

TEST(AbsurdRequests, NegativeSizesAreErrors) {
  expect_error([&] { empty({2, -3}); }, __LINE__, {"empty", "negative", "[2, -3]"});
  expect_error([&] { zeros({-1}); }, __LINE__, {"full", "negative", "[-1]"});
  expect_error([&] { randn({-5, 2}); }, __LINE__, {"randn", "negative"});
  expect_error([&] { ones({6}).view({-2, -3}); }, __LINE__, {"view"});
  expect_error([&] { ones({6}).reshape({-5}); }, __LINE__, {"reshape"});
  expect_error([&] { ones({3}).expand({-3}); }, __LINE__, {"expand"});
}

// clang-format on

}  // namespace
}  // namespace ember
