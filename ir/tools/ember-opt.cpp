// ember-opt - mlir-opt with the ember dialect, the dialects it lowers to and
// every ember pass registered, so that each pass can be run by FileCheck tests.
//
//   ember-opt --convert-ember-to-linalg model.mlir
//
//   ember-opt model.mlir                       # parse, verify, print
//   ember-opt --verify-diagnostics bad.mlir    # expected errors
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "ember/compiler/Passes.h"
#include "ember/compiler/Pipeline.h"
#include "ember/ir/Dialect.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  ember::compiler::register_dialects(registry);
  ember::compiler::registerEmberCompilerPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "ember optimizer driver\n", registry));
}
