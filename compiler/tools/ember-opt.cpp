// ember-opt - mlir-opt with the ember dialect, the dialects it lowers to,
// every ember pass and the JIT's stages as pipelines registered, so that
// each pass can be run by FileCheck tests and a dumped module lowered by hand
// exactly as the JIT lowers it.
//
//   ember-opt --convert-ember-to-linalg model.mlir
//   ember-opt --ember-jit-pipeline jit-123-1.ember.mlir    # what the JIT ran (EMBER_JIT_DUMP)
//   ember-opt '--ember-jit-bufferize=function=model_forward in-place=false' m.mlir
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
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "ember/compiler/Passes.h"
#include "ember/compiler/Pipeline.h"
#include "ember/ir/Dialect.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  ember::compiler::register_dialects(registry);
  ember::compiler::registerEmberCompilerPasses();
  ember::compiler::register_pipelines();
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
