// ExternalCalls.h - the functions compiled code calls outside itself, in
// one registry the lowerings, the JIT and export all use.
//
//   auto gemm = declare_external(module, "cblas_sgemm");   // in a lowering
//   engine->registerSymbols(jit_symbols);                  // in jit()
//
// Note [External calls]
// Compiled code calls BLAS for its GEMMs, the runtime's generator for its
// random draws, and (parallel loops) the OpenMP entry points. Each is an
// entry here, once: its C signature as an MLIR function type, the address
// the JIT binds it to (ember's own oneDNN-backed sgemm for cblas_sgemm),
// and what an exported object links to find it, or why it cannot (an
// export has no ember runtime to draw random numbers from). A lowering that
// calls out declares the function through declare_external, so the
// declaration, the JIT's binding and export's decision never disagree; a
// new external kernel (attention, collectives) is one entry.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

struct ExternalFunction {
  std::string name;
  // Its signature; null for the entry points LLVM's lowerings call directly
  // (OpenMP), which no ember lowering declares.
  mlir::FunctionType (*type)(mlir::MLIRContext* context);
  const void* jit_address;
  // What an exported object links for it ("libopenblas"), or null: then
  // `unexportable` says why an export cannot call it.
  const char* export_library;
  const char* unexportable;
  // Takes its memref arguments as MLIR's C interface does (pointers to
  // strided descriptors): the declaration carries llvm.emit_c_interface,
  // and the function the JIT binds is `_mlir_ciface_<name>`.
  bool c_interface = false;
  std::string symbol() const { return c_interface ? "_mlir_ciface_" + name : name; }
};

const std::vector<ExternalFunction>& external_functions();
const ExternalFunction* find_external(llvm::StringRef name);

// `name`'s private declaration in `module`, made once from its entry.
mlir::func::FuncOp declare_external(mlir::ModuleOp module, llvm::StringRef name);

// Rewrites `module`'s ops of types Ops into calls of runtime kernels (the
// attention and LSTM kernels): `kernel_of` names the kernel each calls,
// declared once before `patterns` run.
template <typename... Ops>
mlir::LogicalResult lower_to_kernel_calls(mlir::ModuleOp module,
                                          llvm::function_ref<std::string(mlir::Operation*)> kernel_of,
                                          mlir::RewritePatternSet&& patterns) {
  std::set<std::string> names;
  module.walk([&](mlir::Operation* op) {
    if (mlir::isa<Ops...>(op)) names.insert(kernel_of(op));
  });
  if (names.empty()) return mlir::success();
  for (const std::string& name : names) declare_external(module, name);  // Note [External calls]
  return mlir::applyPatternsAndFoldGreedily(module, std::move(patterns));
}

// The functions `module` calls out to that an export cannot link: one
// message per function ("ember_random_draw: draws from ...").
std::vector<std::string> unexportable_calls(mlir::ModuleOp module);

}  // namespace ember::compiler
