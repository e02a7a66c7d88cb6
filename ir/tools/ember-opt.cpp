// ember-opt - mlir-opt with the ember dialect, the dialects it lowers to and
// every ember pass registered, so that each pass can be run by FileCheck tests.
//
//   ember-opt --convert-ember-to-linalg model.mlir
//
//   ember-opt model.mlir                       # parse, verify, print
//   ember-opt --verify-diagnostics bad.mlir    # expected errors
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "ember/compiler/Passes.h"
#include "ember/compiler/Pipeline.h"
#include "ember/ir/Dialect.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  ember::compiler::register_dialects(registry);
  ember::compiler::registerEmberCompilerPasses();
  // The upstream passes of the pipeline, to run any part of it by hand.
  mlir::registerTransformsPasses();
  mlir::registerConversionPasses();
  mlir::registerLinalgPasses();
  mlir::affine::registerAffinePasses();
  mlir::bufferization::registerBufferizationPasses();
  mlir::memref::registerMemRefPasses();
  mlir::vector::registerVectorPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "ember optimizer driver\n", registry));
}
