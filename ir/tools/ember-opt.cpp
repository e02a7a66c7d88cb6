// ember-opt - mlir-opt with the ember dialect (and the dialects its modules
// use) registered, so that every ember pass can be run by FileCheck tests.
//
//   ember-opt model.mlir                       # parse, verify, print
//   ember-opt --verify-diagnostics bad.mlir    # expected errors
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "ember/ir/Dialect.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  registry.insert<ember::ir::EmberDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "ember optimizer driver\n", registry));
}
