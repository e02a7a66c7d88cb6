// dialect_test.cpp - the ember dialect against the op table: every row has an
// op, every op's sample call traces to MLIR that verifies (so the dialect's
// type rules agree with what the eager kernel produced), prints, and parses
// back to the same text.
#include <gtest/gtest.h>

#include "../tracer/op_samples.h"
#include "ember/dispatch.h"
#include "ember/ir/Dialect.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/ir/ReadModule.h"
#include "ember/tracer/trace.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Parser/Parser.h"

namespace ember::ir {
namespace {

TEST(Dialect, EveryOpOfTheTableHasADialectOp) {
  mlir::MLIRContext context;
  load_dialects(context);
  for (int i = 0; i < kNumOps; ++i) {
    const std::string name = std::string("ember.") + op_name(static_cast<OpId>(i));
    EXPECT_TRUE(mlir::RegisteredOperationName::lookup(name, &context).has_value())
        << name << " is not in EmberOps.td";
  }
}

class DialectSweep : public ::testing::TestWithParam<int> {};

TEST_P(DialectSweep, TracedSampleVerifiesPrintsAndParsesBack) {
  const OpId op = static_cast<OpId>(GetParam());
  manual_seed(3);
  const auto sample = testing::op_sample(op);
  ASSERT_TRUE(sample.has_value()) << op_name(op);
  const tracer::Graph graph = testing::trace_sample(op, *sample).graph;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  try {
    module = graph_to_mlir(context, graph, op_name(op));
  } catch (const Error& e) {
    FAIL() << e.what() << "\n" << graph.to_text();
  }
  const std::string text = to_text(*module);
  EXPECT_NE(text.find(std::string("ember.") + op_name(op) + " "), std::string::npos) << text;
  mlir::OwningOpRef<mlir::ModuleOp> parsed = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  ASSERT_TRUE(parsed) << "does not parse back:\n" << text;
  EXPECT_EQ(to_text(*parsed), text);
}

INSTANTIATE_TEST_SUITE_P(AllOps, DialectSweep, ::testing::Range(0, kNumOps),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(op_name(static_cast<OpId>(info.param)));
                         });

TEST(Dialect, ScalarsBecomeConstantsOfTheComputeType) {
  const tracer::Graph g = tracer::trace(
                              [](const std::vector<Tensor>& in) {
                                return std::vector<Tensor>{in[0] * 2.5, in[1] + 1, in[1] > 0.5};
                              },
                              {ones({3}), ones({3}, DType::Int32)})
                              .graph;
  const std::string text = graph_to_mlir_text(g);
  EXPECT_NE(text.find("ember.constant dense<2.500000e+00> : tensor<f32>"), std::string::npos) << text;
  EXPECT_NE(text.find("ember.constant dense<1> : tensor<i32>"), std::string::npos) << text;
  EXPECT_NE(text.find("tensor<3xi32>, tensor<f32> -> tensor<3xi1>"), std::string::npos)
      << "int > 0.5 compares in f32: " << text;
}

TEST(Dialect, FunctionSignatureNamesInputsCapturedAndWriteBacks) {
  Tensor state = zeros({2});
  const tracer::Graph g = tracer::trace(
                              [&](const std::vector<Tensor>& in) {
                                state.add_(in[0]);
                                return std::vector<Tensor>{in[0].exp()};
                              },
                              {ones({2})})
                              .graph;
  mlir::MLIRContext context;
  auto module = graph_to_mlir(context, g, "step");
  const std::string text = to_text(*module);
  // The write-back is computed into captured 0 (argument 1).
  EXPECT_NE(
      text.find(
          "func.func @step(%arg0: tensor<2xf32>, %arg1: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32> "
          "{ember.in_place = 1 : i64})"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("ember.arguments = [\"input 0\", \"captured 0\"]"), std::string::npos) << text;
  EXPECT_NE(text.find("ember.results = [\"output 0\", \"write captured 0\"]"), std::string::npos) << text;
}

// The test asserts source lines: clang-format must not move calls from where __LINE__ counts them.
// clang-format off
TEST(Dialect, LocationsNameTheUsersLine) {
  const tracer::Graph g = tracer::trace([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].relu()};
  }, {ones({2})}).graph;
  const int line = __LINE__ - 2;
  const std::string text = graph_to_mlir_text(g, "f", /*with_locations=*/true);
  EXPECT_NE(text.find("loc(\"dialect_test.cpp\":" + std::to_string(line)), std::string::npos) << text;
}
// clang-format on

// Modules from files (exports, ember-opt): `?` dims only where the reader
// admits them, and then only on ops it admits (a dynamic export's reader
// admits the ops whose lowerings take `?` dims).
TEST(Dialect, ReadModulesAdmitDynamicDimsOnlyOnOpsTheReaderAdmits) {
  mlir::MLIRContext context;
  load_dialects(context);
  const std::string text = R"(func.func @f(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = ember.relu %x : tensor<?x4xf32> -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
})";
  const auto message = [&](bool (*admits)(mlir::Operation*)) {
    try {
      read_ember_module(context, text, "m.mlir", "f", Loc::current(), admits);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message(nullptr).find("has a dynamic dimension"), std::string::npos);
  EXPECT_NE(message([](mlir::Operation*) { return false; }).find("ember.relu has dynamic dims"),
            std::string::npos);
  EXPECT_EQ(message([](mlir::Operation*) { return true; }), "");
}

}  // namespace
}  // namespace ember::ir
