//===- Pipeline.cpp - the pass pipeline from ember to native code ----------===//
//
// The pass lists of each stage (see Pipeline.h), the destination-passing
// rewrite of the entry function, and the LLVM side: the host target machine,
// -O3, and ORC through mlir::ExecutionEngine.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Pipeline.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

#include "ember/compiler/DestinationPassing.h"
#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/LLVMOptimize.h"
#include "ember/compiler/Passes.h"
#include "ember/ir/Dialect.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/meta.h"
#include "ember/random.h"
#include "ember/tracer/graph.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Object/SymbolSize.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/Passes.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

namespace ember::compiler {

void register_dialects(mlir::DialectRegistry& registry) {
  registry.insert<ir::EmberDialect, mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::tensor::TensorDialect, mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::bufferization::BufferizationDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::cf::ControlFlowDialect, mlir::LLVM::LLVMDialect,
                  mlir::affine::AffineDialect, mlir::vector::VectorDialect, mlir::omp::OpenMPDialect>();
  mlir::arith::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::linalg::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::linalg::registerTilingInterfaceExternalModels(registry);
  mlir::tensor::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::scf::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::vector::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::vector::registerSubsetOpInterfaceExternalModels(registry);  // Note [Rows in chunks of registers]
  mlir::tensor::registerSubsetOpInterfaceExternalModels(registry);
  mlir::bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::memref::registerAllocationOpInterfaceExternalModels(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerOpenMPDialectTranslation(registry);
}

std::unique_ptr<mlir::MLIRContext> make_context() {
  mlir::DialectRegistry registry;
  register_dialects(registry);
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

namespace {

// Runs the passes `add` puts in a pass manager; on failure, MLIR's
// diagnostics (what failed and where) in `diagnostics`.
bool run_passes(mlir::ModuleOp module, const std::function<void(mlir::OpPassManager&)>& add,
                std::string& diagnostics) {
  mlir::ScopedDiagnosticHandler handler(module.getContext(), [&](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::PassManager pm(module.getContext());
  add(pm);
  return mlir::succeeded(pm.run(module));
}

void run_passes_or_throw(mlir::ModuleOp module, const std::function<void(mlir::OpPassManager&)>& add,
                         const std::string& what, const Loc& loc) {
  std::string diagnostics;
  if (!run_passes(module, add, diagnostics))
    throw_error("compile: " + what + " failed:\n" + diagnostics, loc);
}

}  // namespace

void build_linalg_pipeline(mlir::OpPassManager& pm) {
  pm.addPass(createEmberDecompose());
  // Decompositions repeat terms (a loss's logsumexp and its gradient's
  // softmax, each parameter's Adam step its bias corrections): merged here,
  // on ember ops, whose effects are declared (random draws and checks are
  // never merged), and before any tensor.empty exists (see below).
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createConvertEmberToLinalg());
  pm.addPass(createEmberLowerChecks());      // after: lowerings make checks too (embedding)
  pm.addPass(createEmberFuseElementwise());  // MLIR's fusion, matmuls kept for BLAS
  pm.addPass(createEmberFuseMultiUse());
  // No CSE here: it merges the `tensor.empty` inits of independent results,
  // and empty-tensor elimination then points them all at one destination
  // buffer (a wrong answer, found by the multi-output test; reduced in
  // compiler/test/mlir_defects.mlir).
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(createEmberFuseRows());
  pm.addPass(mlir::createCanonicalizerPass());
}

void build_bufferize_pipeline(mlir::OpPassManager& pm, const std::string& function, bool in_place) {
  EmberDestinationPassingOptions destination;
  destination.function = function;
  destination.inPlace = in_place;
  pm.addPass(createEmberDestinationPassing(destination));
  pm.addPass(createEmberAttentionToCalls());  // after the checks twin dropped what it does not need
  pm.addPass(createEmberRecurrentToCalls());  // likewise
  pm.addPass(createEmberCollectivesToCalls());
  pm.addPass(createEmberScatterToLoops());  // likewise
  pm.addPass(mlir::bufferization::createEmptyTensorEliminationPass());
  mlir::bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = true;
  options.setFunctionBoundaryTypeConversion(mlir::bufferization::LayoutMapOption::IdentityLayoutMap);
  pm.addPass(mlir::bufferization::createOneShotBufferizePass(options));
  pm.addPass(mlir::bufferization::createDropEquivalentBufferResultsPass());
  mlir::bufferization::BufferDeallocationPipelineOptions dealloc;
  mlir::bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  // Packing first: it sees the matmuls' reads, which the BLAS calls hide
  // behind raw pointers.
  pm.addPass(createEmberPackBuffers());
  pm.addPass(createEmberMatmulToBlas());
  pm.addPass(createEmberEraseSelfCopies());
}

void build_llvm_pipeline(mlir::OpPassManager& pm, bool parallel_loops, bool cached_temporaries) {
  // Loops, vectorized by MLIR (16 lanes of the innermost contiguous loop:
  // one AVX-512 register, or two AVX2 ones after LLVM legalizes them);
  // the polynomial math then runs on vectors (ew_chain: 25 ms -> 4.3 ms).
  pm.addPass(createEmberReductionsToLoops());
  pm.addNestedPass<mlir::func::FuncOp>(mlir::createConvertLinalgToAffineLoopsPass());
  static const int64_t kVectorSize[] = {16};
  mlir::affine::AffineVectorizeOptions vectorize;
  vectorize.vectorSizes = kVectorSize;
  pm.addNestedPass<mlir::func::FuncOp>(mlir::affine::createAffineVectorize(vectorize));
  pm.addPass(createEmberBoolTransfersToScalars());  // i1 is a byte in memory, a bit in a vector
  pm.addPass(createEmberTransfersInBounds());       // plain loads and stores where the lanes stay inside
  if (parallel_loops) pm.addPass(createEmberParallelLoops());
  pm.addPass(mlir::createLowerAffinePass());  // affine.parallel becomes scf.parallel
  if (parallel_loops) {
    pm.addPass(mlir::createConvertSCFToOpenMPPass());
    pm.addPass(createEmberInlineAllocaScopes());
  }
  pm.addPass(createApproximateMath());
  pm.addNestedPass<mlir::func::FuncOp>(mlir::vector::createLowerVectorMultiReductionPass(
      mlir::vector::VectorMultiReductionLowering::InnerReduction));
  // Fully unrolled: the loop form stages each 2-D transfer through a
  // memref.alloca inside the row loop, which grows the stack every row
  // (a stack overflow at 4096 rows of softmax).
  pm.addPass(mlir::createConvertVectorToSCFPass(mlir::VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(mlir::createLowerAffinePass());  // vector-to-scf indexes masked transfers with affine.apply
  pm.addPass(mlir::createConvertSCFToCFPass());
  // Row reductions (ember-fuse-rows) are vector.reduction ops: reassociating
  // them lets LLVM reduce a row in a tree of vector adds instead of one
  // add at a time (a rounding difference the parity tests allow for).
  mlir::ConvertVectorToLLVMPassOptions vector_to_llvm;
  vector_to_llvm.reassociateFPReductions = true;
  pm.addPass(mlir::createConvertVectorToLLVMPass(vector_to_llvm));
  pm.addPass(mlir::createConvertMathToLLVMPass());
  pm.addPass(mlir::memref::createExpandStridedMetadataPass());
  pm.addPass(mlir::createLowerAffinePass());  // subview offsets come out as affine.apply
  mlir::FinalizeMemRefToLLVMConversionPassOptions memref_to_llvm;
  memref_to_llvm.useGenericFunctions = cached_temporaries;  // Note [Temporaries of run-time size]
  pm.addPass(mlir::createFinalizeMemRefToLLVMConversionPass(memref_to_llvm));
  pm.addPass(mlir::createArithToLLVMConversionPass());
  pm.addPass(mlir::createConvertIndexToLLVMPass());
  pm.addPass(mlir::createConvertFuncToLLVMPass());
  if (parallel_loops) pm.addPass(mlir::createConvertOpenMPToLLVMPass());
  pm.addPass(mlir::createConvertControlFlowToLLVMPass());
  pm.addPass(mlir::createReconcileUnrealizedCastsPass());
}

namespace {
struct JitPipelineOptions : mlir::PassPipelineOptions<JitPipelineOptions> {
  Option<std::string> function{*this, "function", llvm::cl::desc("the entry function"),
                               llvm::cl::init("forward")};
  Option<bool> in_place{*this, "in-place", llvm::cl::desc("compute write-backs into their arguments"),
                        llvm::cl::init(true)};
  Option<bool> parallel_loops{*this, "parallel-loops", llvm::cl::desc("large loop nests on the OpenMP pool"),
                              llvm::cl::init(false)};
};
}  // namespace

void register_pipelines() {
  static const bool registered = [] {
    mlir::PassPipelineRegistration<>("ember-jit-linalg",
                                     "ember -> fused linalg on tensors (the JIT's first stage)",
                                     [](mlir::OpPassManager& pm) { build_linalg_pipeline(pm); });
    mlir::PassPipelineRegistration<JitPipelineOptions>(
        "ember-jit-bufferize",
        "destination passing, bufferization, workspace packing, BLAS calls (the second stage)",
        [](mlir::OpPassManager& pm, const JitPipelineOptions& o) {
          build_bufferize_pipeline(pm, o.function, o.in_place);
        });
    mlir::PassPipelineRegistration<JitPipelineOptions>(
        "ember-jit-llvm", "loops, vectors, polynomial math, the LLVM dialect (the third stage)",
        [](mlir::OpPassManager& pm, const JitPipelineOptions& o) {
          build_llvm_pipeline(pm, o.parallel_loops);
        });
    mlir::PassPipelineRegistration<JitPipelineOptions>(
        "ember-jit-pipeline", "every stage the JIT runs, ember to the LLVM dialect",
        [](mlir::OpPassManager& pm, const JitPipelineOptions& o) {
          build_linalg_pipeline(pm);
          build_bufferize_pipeline(pm, o.function, o.in_place);
          build_llvm_pipeline(pm, o.parallel_loops);
        });
    return true;
  }();
  (void)registered;
}

void lower_to_linalg(mlir::ModuleOp module, const Loc& loc) {
  run_passes_or_throw(module, build_linalg_pipeline, "lowering to linalg", loc);
  module.walk([&](mlir::Operation* op) {
    // Attention, lstm and gru become kernel calls in the next stage
    // (ember-attention-to-calls, ember-recurrent-to-calls), embedding_backward a
    // loop on buffers (ember-scatter-to-loops), all_reduce a runtime call
    // (ember-collectives-to-calls).
    if (mlir::isa<ir::AttentionOp, ir::AttentionBackwardOp, ir::LstmOp, ir::LstmBackwardOp, ir::GruOp,
                  ir::GruBackwardOp, ir::EmbeddingBackwardOp, ir::AllReduceOp>(op))
      return;
    if (op->getDialect() && op->getDialect()->getNamespace() == "ember")
      throw_error(std::string("compile: ") + op->getName().getStringRef().str() + " has no lowering yet",
                  loc);
  });
}

namespace {
// The bufferized function has no results left: every one went into a
// buffer the caller passes, or into the argument it writes back.
bool results_passed(mlir::ModuleOp module, const std::string& function, std::string& why) {
  for (const std::string& name : {function, checks_function_name(function)}) {
    auto f = module.lookupSymbol<mlir::func::FuncOp>(name);
    if (f && f.getNumResults() != 0) {
      why = "a write-back of @" + name + " did not bufferize into its argument";
      return false;
    }
  }
  return true;
}
}  // namespace

// Note [In-place write-backs]: one-shot bufferization decides whether each
// write-back can be computed in its argument; when it cannot prove that
// safe for one of them (a loop reading old rows while it writes new ones),
// every result becomes an out-parameter instead. The decision is made on a
// copy of the module and recorded in `ember.in_place` on the function:
// "computed in place", or why not.
void bufferize(mlir::ModuleOp module, const std::string& function, const Loc& loc) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(function);
  EMBER_CHECK(static_cast<bool>(func), loc, "compile: the module has no function @", function);
  std::string why;
  if (has_in_place_results(func)) {
    mlir::OwningOpRef<mlir::ModuleOp> trial(module.clone());
    std::string diagnostics;
    const bool ok = run_passes(
        *trial, [&](mlir::OpPassManager& pm) { build_bufferize_pipeline(pm, function, true); }, diagnostics);
    if (ok && results_passed(*trial, function, why)) {
      module.getBodyRegion().takeBody(trial->getBodyRegion());
      if (mlir::Attribute report = (*trial)->getAttr(kGemmReport)) module->setAttr(kGemmReport, report);
      module.lookupSymbol(function)->setAttr("ember.in_place",
                                             mlir::StringAttr::get(module.getContext(), "computed in place"));
      return;
    }
    if (!ok) why = "one-shot bufferization: " + diagnostics.substr(0, diagnostics.find('\n'));
  }
  run_passes_or_throw(
      module, [&](mlir::OpPassManager& pm) { build_bufferize_pipeline(pm, function, false); },
      "bufferization", loc);
  EMBER_CHECK(results_passed(module, function, why), loc, "compile: ", why);
  if (!why.empty())
    module.lookupSymbol(function)->setAttr(
        "ember.in_place", mlir::StringAttr::get(module.getContext(), "not in place: " + why));
}

std::vector<int64_t> in_place_results(mlir::ModuleOp module, const std::string& function) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(function);
  auto attr = func ? func->getAttrOfType<mlir::DenseI64ArrayAttr>("ember.in_place_results") : nullptr;
  return attr ? std::vector<int64_t>(attr.asArrayRef().begin(), attr.asArrayRef().end())
              : std::vector<int64_t>{};
}

std::string checks_function(mlir::ModuleOp module, const std::string& function) {
  const std::string name = checks_function_name(function);
  return module.lookupSymbol(name) ? name : std::string();
}

void lower_to_llvm(mlir::ModuleOp module, const Loc& loc, bool parallel_loops, bool cached_temporaries) {
  run_passes_or_throw(
      module, [&](mlir::OpPassManager& pm) { build_llvm_pipeline(pm, parallel_loops, cached_temporaries); },
      "lowering to LLVM", loc);
}

std::unique_ptr<llvm::TargetMachine> host_target_machine(const Loc& loc, bool position_independent) {
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  EMBER_CHECK(static_cast<bool>(builder), loc, "compile: cannot describe the host CPU to LLVM");
  if (position_independent) builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  EMBER_CHECK(static_cast<bool>(machine), loc, "compile: LLVM has no target machine for the host CPU");
  return std::move(*machine);
}

namespace {
// The module as optimized LLVM IR for `machine`.
std::unique_ptr<llvm::Module> optimized_ir(mlir::ModuleOp module, llvm::LLVMContext& context,
                                           llvm::TargetMachine& machine, const Loc& loc) {
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(module, context);
  EMBER_CHECK(static_cast<bool>(ir), loc, "compile: the module does not translate to LLVM IR");
  ir->setDataLayout(machine.createDataLayout());
  ir->setTargetTriple(machine.getTargetTriple().str());
  if (auto error = optimize_llvm_module(*ir, machine)) {
    std::string message;
    llvm::raw_string_ostream os(message);
    os << error;
    throw_error("compile: LLVM's optimizer failed: " + message, loc);
  }
  return ir;
}
}  // namespace

std::string llvm_ir(mlir::ModuleOp module, const Loc& loc) {
  auto machine = host_target_machine(loc);
  llvm::LLVMContext context;
  auto ir = optimized_ir(module, context, *machine, loc);
  std::string text;
  llvm::raw_string_ostream os(text);
  ir->print(os, nullptr);
  return text;
}

std::string object_code(mlir::ModuleOp module, const Loc& loc) {
  auto machine = host_target_machine(loc, /*position_independent=*/true);
  llvm::LLVMContext context;
  auto ir = optimized_ir(module, context, *machine, loc);
  llvm::SmallString<0> bytes;
  llvm::raw_svector_ostream os(bytes);
  llvm::legacy::PassManager passes;
  EMBER_CHECK(!machine->addPassesToEmitFile(passes, os, nullptr, llvm::CodeGenFileType::ObjectFile), loc,
              "export: LLVM cannot emit an object file for the host CPU");
  passes.run(*ir);
  return std::string(bytes.str());
}

// Note [Compiled code in perf]
// perf sees JIT code as anonymous addresses. With EMBER_PERF_MAP set, each
// compile appends its functions (the entry and every loop nest extracted
// by Note [Loops as functions], named after the function and its number)
// to /tmp/perf-<pid>.map, the file perf reads for JIT code, so `perf
// report` names the loop nests a compiled step spends its time in. The
// addresses come from the object the JIT loaded: its text section is
// placed whole, so one exported symbol's address gives every function's.
// (Debian's LLVM has no perf JIT listener.)
bool perf_map_requested() { return std::getenv("EMBER_PERF_MAP") != nullptr; }

void write_perf_map(mlir::ExecutionEngine& engine) {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("ember-jit", "o", path)) return;
  engine.dumpToObjectFile(path);
  auto buffer = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
  if (!buffer) return;
  auto object = llvm::object::ObjectFile::createObjectFile((*buffer)->getMemBufferRef());
  if (!object) {
    llvm::consumeError(object.takeError());
    return;
  }
  std::optional<int64_t> shift;  // loaded address - address in the object
  std::vector<std::pair<llvm::object::SymbolRef, uint64_t>> functions;
  for (const auto& [symbol, size] : llvm::object::computeSymbolSizes(**object)) {
    auto type = symbol.getType();
    auto name = symbol.getName();
    auto address = symbol.getAddress();
    if (!type || *type != llvm::object::SymbolRef::ST_Function || !name || !address || size == 0) {
      if (!type) llvm::consumeError(type.takeError());
      if (!name) llvm::consumeError(name.takeError());
      if (!address) llvm::consumeError(address.takeError());
      continue;
    }
    functions.emplace_back(symbol, size);
    if (shift) continue;
    auto loaded = engine.lookup(*name);  // exported functions only
    if (loaded)
      shift = reinterpret_cast<int64_t>(*loaded) - static_cast<int64_t>(*address);
    else
      llvm::consumeError(loaded.takeError());
  }
  if (!shift) return;
  std::ofstream map("/tmp/perf-" + std::to_string(::getpid()) + ".map", std::ios::app);
  for (const auto& [symbol, size] : functions) {
    auto name = symbol.getName();
    auto address = symbol.getAddress();
    if (!name || !address) continue;
    map << std::hex << (*address + *shift) << " " << size << std::dec << " ember:" << name->str() << "\n";
  }
}

std::unique_ptr<mlir::ExecutionEngine> jit(mlir::ModuleOp module, const Loc& loc) {
  // -O3 for the host CPU: without the host's target machine LLVM's vectorizers
  // do not know the vector width and leave the loops scalar.
  auto machine = host_target_machine(loc);
  mlir::ExecutionEngineOptions options;
  // `transformer` is a function_ref: the function it refers to must outlive
  // create() (a temporary here was a use after scope, found by ASan).
  const std::function<llvm::Error(llvm::Module*)> optimize = [&](llvm::Module* m) {
    return optimize_llvm_module(*m, *machine);  // Note [Loops as functions]
  };
  options.transformer = optimize;
  options.enableObjectDump = perf_map_requested();  // Note [Compiled code in perf]
  auto engine = mlir::ExecutionEngine::create(module, options);
  if (!engine) {
    std::string message;
    llvm::raw_string_ostream os(message);
    os << engine.takeError();
    throw_error("compile: the JIT failed: " + message, loc);
  }
  // The runtime functions generated code calls: linked into the program, not
  // exported from it, so the JIT is told where they are.
  // Note [External calls]: every registered function at its address.
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (const ExternalFunction& f : external_functions())
      symbols[interner(f.symbol())] = {llvm::orc::ExecutorAddr::fromPtr(f.jit_address),
                                       llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  return std::move(*engine);
}

void append_checked_inputs(const std::vector<Tensor>& inputs,
                           const std::vector<std::pair<Shape, DType>>& types, const std::string& what,
                           const Loc& loc, std::vector<Tensor>& out) {
  EMBER_CHECK(inputs.size() == types.size(), loc, what, ": takes ", types.size(), " inputs, got ",
              inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [shape, dtype] = types[i];
    // A `?` dim (Note [Automatic dynamic dims]) takes any size.
    bool fits = inputs[i].defined() && inputs[i].dim() == shape.ndim() && inputs[i].dtype() == dtype;
    for (int64_t d = 0; fits && d < shape.ndim(); ++d)
      fits = shape[d] == kDynamic || shape[d] == inputs[i].size(d);
    EMBER_CHECK(fits, loc, what, ": input ", i, " must be ", tracer::type_string(shape, dtype));
    out.push_back(inputs[i].contiguous());
  }
}

void raise_failed_checks(const std::vector<Tensor>& counts, const std::vector<std::string>& messages,
                         const std::string& what, const Loc& loc) {
  for (size_t i = 0; i < counts.size(); ++i)
    EMBER_CHECK(counts[i].item<int64_t>() == 0, loc, what, ": ", messages[i % messages.size()]);
}

std::vector<std::string> check_messages(mlir::ModuleOp module, const std::string& function) {
  std::vector<std::string> messages;
  mlir::Operation* f = module.lookupSymbol(function);
  if (auto a = f ? f->getAttrOfType<mlir::ArrayAttr>("ember.checks") : nullptr)
    for (mlir::Attribute m : a) messages.push_back(mlir::cast<mlir::StringAttr>(m).str());
  return messages;
}

int64_t workspace_bytes(mlir::ModuleOp module, const std::string& function) {
  mlir::Operation* f = module.lookupSymbol(function);
  auto bytes = f ? f->getAttrOfType<mlir::IntegerAttr>("ember.workspace_bytes") : nullptr;
  return bytes ? bytes.getInt() : 0;
}

}  // namespace ember::compiler
