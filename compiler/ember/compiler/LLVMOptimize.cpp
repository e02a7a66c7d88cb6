// LLVMOptimize.cpp - see Note [Loops as functions] in LLVMOptimize.h.
#include "ember/compiler/LLVMOptimize.h"

#include <set>

#include "llvm/Analysis/CGSCCPassManager.h"
#include "llvm/Analysis/LoopAnalysisManager.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/IPO/LoopExtractor.h"

namespace ember::compiler {
namespace {

// Whether some function has several top-level loop nests, the case the
// extraction is for. LLVM's extractor takes the inner loops out of a
// function that is a single loop nest, which here would put a call inside
// every row of a row-fused graph (Note [Rows in chunks of registers]): such
// modules are left whole.
bool has_several_loop_nests(llvm::Module& module, llvm::FunctionAnalysisManager& functions) {
  for (llvm::Function& f : module) {
    if (f.isDeclaration()) continue;
    const llvm::LoopInfo& loops = functions.getResult<llvm::LoopAnalysis>(f);
    if (std::distance(loops.begin(), loops.end()) > 1) return true;
  }
  return false;
}

}  // namespace

llvm::Error optimize_llvm_module(llvm::Module& module, llvm::TargetMachine& machine) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;  // Note [No loop unrolling]
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);

  if (has_several_loop_nests(module, functions)) {
    std::set<const llvm::Function*> before;
    for (const llvm::Function& f : module) before.insert(&f);
    llvm::ModulePassManager extract;
    extract.addPass(llvm::LoopExtractorPass());
    extract.run(module, modules);
    for (llvm::Function& f : module)
      if (!before.count(&f) && !f.isDeclaration()) f.addFnAttr(llvm::Attribute::NoInline);
  }
  modules.clear();  // the extraction changed every function's analyses

  llvm::ModulePassManager optimize = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  optimize.run(module, modules);
  return llvm::Error::success();
}

}  // namespace ember::compiler
