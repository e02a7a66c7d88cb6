// ember-compile - the compiler's stages for a saved .mlir file in the ember
// dialect (from graph_to_mlir, a jit dump or an export), one at a time:
//
//   ember-compile model.mlir -emit=ember     # parsed and verified
//   ember-compile model.mlir -emit=linalg    # lowered to linalg on tensors, fused
//   ember-compile model.mlir -emit=buffers   # bufferized, BLAS calls, one workspace
//   ember-compile model.mlir -emit=llvm      # LLVM IR, optimized for the host CPU
//   ember-compile model.mlir -emit=jit       # compiled and run on seeded inputs:
//                                            # each result's shape and first values,
//                                            # and the median time of --runs calls
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>

#include "ember/compiler/Pipeline.h"
#include "ember/ember.h"
#include "ember/ir/GraphToMLIR.h"
#include "llvm/Support/SourceMgr.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

namespace {

using namespace ember;

DType dtype_for(mlir::Type t) {
  if (t.isF32()) return DType::Float32;
  if (t.isF64()) return DType::Float64;
  if (t.isInteger(1)) return DType::Bool;
  if (t.isInteger(32)) return DType::Int32;
  if (t.isInteger(64)) return DType::Int64;
  throw Error("ember-compile: element type without an ember dtype");
}

// Compiles `module` (in the LLVM dialect) and calls `function` on seeded
// uniform [-1, 1) inputs, printing what came out and how long it took.
// written_into[r]: the argument result r is a write-back of (ember.in_place),
// or -1; such results are printed from their argument when computed in place.
void run(mlir::ModuleOp module, const std::string& function, const std::vector<int64_t>& written_into,
         int runs) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(function);
  std::vector<bool> in_place(written_into.size(), false);
  for (int64_t r : compiler::in_place_results(module, function)) in_place[r] = true;
  std::vector<Tensor> args;
  manual_seed(0);
  const auto types = func.getArgumentTypes().drop_back();  // the last is the workspace
  for (mlir::Type t : types) {
    auto type = mlir::cast<mlir::ShapedType>(t);
    args.push_back((rand(std::vector<int64_t>(type.getShape().begin(), type.getShape().end())) * 2 - 1)
                       .to(dtype_for(type.getElementType())));
  }
  const auto out_params = static_cast<int64_t>(std::count(in_place.begin(), in_place.end(), false));
  std::vector<Tensor> outs;
  for (int64_t i = static_cast<int64_t>(args.size()) - out_params; i < static_cast<int64_t>(args.size()); ++i)
    outs.push_back(args[i]);
  for (size_t r = 0; r < in_place.size(); ++r)
    if (in_place[r]) outs.insert(outs.begin() + static_cast<std::ptrdiff_t>(r), args[written_into[r]]);
  const int64_t bytes = compiler::workspace_bytes(module, function);
  compiler::lower_to_llvm(module, Loc::current());
  auto engine = compiler::jit(module, Loc::current());
  auto entry = engine->lookupPacked("_mlir_ciface_" + function);
  if (!entry) throw Error("ember-compile: no entry point for @" + function);
  const Tensor workspace = empty({bytes / 8 + 1}, DType::Float64);
  compiler::PackedArgs packed;
  for (const Tensor& a : args) packed.add(a);
  packed.add_workspace(workspace, bytes);
  std::vector<double> times;
  for (int r = 0; r < std::max(runs, 1); ++r) {
    const auto start = std::chrono::steady_clock::now();
    packed.call(*entry);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  for (size_t i = 0; i < outs.size(); ++i) {
    std::cout << "result " << i << ": " << outs[i].sizes() << " " << dtype_name(outs[i].dtype()) << "\n";
    const Tensor flat = outs[i].reshape({-1}).to(DType::Float64);
    std::cout << "  first values:";
    for (int64_t k = 0; k < std::min<int64_t>(flat.numel(), 8); ++k)
      std::cout << " " << flat[k].item<double>();
    std::cout << "\n";
  }
  std::cout << "median " << times[times.size() / 2] << " ms over " << times.size() << " calls\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ember-compile: show each stage of the ember compiler for a saved .mlir file"};
  std::string path, emit = "linalg", function;
  int runs = 10;
  app.add_option("file", path, "a module in the ember dialect")->required()->check(CLI::ExistingFile);
  app.add_option("-e,--emit", emit, "stage to print: ember, linalg, buffers, llvm or jit")
      ->check(CLI::IsMember({"ember", "linalg", "buffers", "llvm", "jit"}));
  app.add_option("-f,--function", function, "the entry function (default: the module's only public one)");
  app.add_option("--runs", runs, "calls timed by -emit=jit");
  // Accept the single-dash spelling -emit=linalg too (as mlir tools do).
  std::vector<std::string> args;  // CLI11 takes them last first
  for (int i = argc - 1; i >= 1; --i) {
    std::string a = argv[i];
    if (a.rfind("-emit=", 0) == 0) a = "-" + a;
    args.push_back(a);
  }
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    const auto context = ember::compiler::make_context();
    llvm::SourceMgr sources;
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceFile<mlir::ModuleOp>(path, sources, context.get());
    if (!module) {
      std::cerr << "ember-compile: " << path << " does not parse as an MLIR module (see above)\n";
      return 1;
    }
    if (function.empty()) {  // a jit dump has @forward, an export @model_forward: take the only one
      std::vector<std::string> names;
      for (auto f : module->getOps<mlir::func::FuncOp>())
        if (f.isPublic()) names.push_back(f.getName().str());
      if (names.size() != 1) {
        std::cerr << "ember-compile: " << path << " has " << names.size()
                  << " public functions; name one with -f\n";
        return 1;
      }
      function = names.front();
    }
    auto func = module->lookupSymbol<mlir::func::FuncOp>(function);
    if (!func) {
      std::cerr << "ember-compile: " << path << " has no function @" << function << "\n";
      return 1;
    }
    const Loc here = Loc::current();
    if (emit == "ember") {
      std::cout << ember::ir::to_text(*module);
      return 0;
    }
    ember::compiler::lower_to_linalg(*module, here);
    std::vector<int64_t> written_into;  // per result, with the failure counts of checks
    for (unsigned r = 0; r < func.getNumResults(); ++r) {
      auto arg = func.getResultAttrOfType<mlir::IntegerAttr>(r, ember::ir::kInPlaceAttr);
      written_into.push_back(arg ? arg.getInt() : -1);
    }
    if (emit == "linalg") {
      std::cout << ember::ir::to_text(*module);
      return 0;
    }
    ember::compiler::bufferize(*module, function, here);
    if (emit == "buffers") {
      std::cout << ember::ir::to_text(*module);
      return 0;
    }
    if (emit == "llvm") {
      ember::compiler::lower_to_llvm(*module, here);
      std::cout << ember::compiler::llvm_ir(*module, here);
      return 0;
    }
    run(*module, function, written_into, runs);
  } catch (const ember::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
