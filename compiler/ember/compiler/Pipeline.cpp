//===- Pipeline.cpp - the pass pipeline from ember to native code ----------===//
//
// The pass lists of each stage (see Pipeline.h), the destination-passing
// rewrite of the entry function, and the LLVM side: the host target machine,
// -O3, and ORC through mlir::ExecutionEngine.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Pipeline.h"

#include "ember/compiler/DestinationPassing.h"
#include "ember/compiler/OpenMPShim.h"
#include "ember/compiler/Passes.h"
#include "ember/kernels/sgemm.h"
#include "ember/random.h"
#include "ember/tracer/graph.h"
#include "ember/ir/Dialect.h"
#include "ember/ir/GraphToMLIR.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
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
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

namespace ember::compiler {

void register_dialects(mlir::DialectRegistry& registry) {
  registry.insert<ir::EmberDialect, mlir::func::FuncDialect, mlir::linalg::LinalgDialect, mlir::tensor::TensorDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect, mlir::bufferization::BufferizationDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect, mlir::cf::ControlFlowDialect,
                  mlir::LLVM::LLVMDialect, mlir::affine::AffineDialect, mlir::vector::VectorDialect,
                  mlir::omp::OpenMPDialect>();
  mlir::arith::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::linalg::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::linalg::registerTilingInterfaceExternalModels(registry);
  mlir::tensor::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::scf::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::vector::registerBufferizableOpInterfaceExternalModels(registry);
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

void run_passes(mlir::ModuleOp module, const std::function<void(mlir::PassManager&)>& add, const std::string& what,
                const Loc& loc) {
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(module.getContext(), [&](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::PassManager pm(module.getContext());
  add(pm);
  if (mlir::failed(pm.run(module))) throw_error("compile: " + what + " failed:\n" + diagnostics, loc);
}

}  // namespace

void lower_to_linalg(mlir::ModuleOp module, const Loc& loc) {
  run_passes(module, [](mlir::PassManager& pm) {
    pm.addPass(createEmberDecompose());
    pm.addPass(createConvertEmberToLinalg());
    pm.addPass(createEmberLowerChecks());  // after: lowerings make checks too (embedding)
    pm.addPass(mlir::createLinalgElementwiseOpFusionPass());
    pm.addPass(createEmberFuseMultiUse());
    // No CSE here: it merges the `tensor.empty` inits of independent results,
    // and empty-tensor elimination then points them all at one destination
    // buffer (a wrong answer, found by the multi-output test).
    pm.addPass(mlir::createCanonicalizerPass());
    pm.addPass(createEmberFuseRows());
    pm.addPass(mlir::createCanonicalizerPass());
  }, "lowering to linalg", loc);
  module.walk([&](mlir::Operation* op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "ember")
      throw_error(std::string("compile: ") + op->getName().getStringRef().str() +
                      " has no lowering yet (so far: elementwise ops, sum/mean/amax/amin, softmax, log_softmax, "
                      "layer_norm, cross_entropy, nll_loss, var, logsumexp, views, slices, cat, creation ops but random ones, "
                      "max/min/argmax/argmin along a dim, embedding, conv2d and pooling, matmul without batch "
                      "broadcasting)",
                  loc);
  });
}

namespace {

void bufferize_once(mlir::ModuleOp module, const std::string& function, const Loc& loc) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(function);
  llvm::SmallVector<mlir::func::FuncOp> entries{func};
  if (auto checks = split_checks(func)) entries.push_back(checks);
  for (auto f : entries) {
    to_destination_passing(f);
    f->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(module.getContext()));
  }
  run_passes(module, [](mlir::PassManager& pm) {
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
  }, "bufferization", loc);
  for (auto f : entries) {
    erase_self_copies(f);
    EMBER_CHECK(f.getNumResults() == 0, loc, "compile: a write-back of @", function, " did not bufferize into its argument");
  }
}

}  // namespace

void bufferize(mlir::ModuleOp module, const std::string& function, const Loc& loc) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(function);
  EMBER_CHECK(static_cast<bool>(func), loc, "compile: the module has no function @", function);
  if (!has_in_place_results(func)) return bufferize_once(module, function, loc);
  // Note [In-place write-backs]: when one-shot bufferization cannot prove
  // them safe, all results become out-parameters.
  mlir::OwningOpRef<mlir::ModuleOp> backup(module.clone());
  try {
    bufferize_once(module, function, loc);
  } catch (const Error&) {
    module.getBodyRegion().takeBody(backup->getBodyRegion());
    drop_in_place_marks(module.lookupSymbol<mlir::func::FuncOp>(function));
    bufferize_once(module, function, loc);
  }
}

std::vector<int64_t> in_place_results(mlir::ModuleOp module, const std::string& function) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(function);
  auto attr = func ? func->getAttrOfType<mlir::DenseI64ArrayAttr>("ember.in_place_results") : nullptr;
  return attr ? std::vector<int64_t>(attr.asArrayRef().begin(), attr.asArrayRef().end()) : std::vector<int64_t>{};
}

std::string checks_function(mlir::ModuleOp module, const std::string& function) {
  const std::string name = checks_function_name(function);
  return module.lookupSymbol(name) ? name : std::string();
}

void lower_to_llvm(mlir::ModuleOp module, const Loc& loc, bool parallel_loops) {
  run_passes(module, [parallel_loops](mlir::PassManager& pm) {
    // Loops, vectorized by MLIR (16 lanes of the innermost contiguous loop:
    // one AVX-512 register, or two AVX2 ones after LLVM legalizes them);
    // the polynomial math then runs on vectors (ew_chain: 25 ms -> 4.3 ms).
    pm.addPass(createEmberReductionsToLoops());
    pm.addNestedPass<mlir::func::FuncOp>(mlir::createConvertLinalgToAffineLoopsPass());
    static const int64_t kVectorSize[] = {16};
    mlir::affine::AffineVectorizeOptions vectorize;
    vectorize.vectorSizes = kVectorSize;
    pm.addNestedPass<mlir::func::FuncOp>(mlir::affine::createAffineVectorize(vectorize));
    pm.addPass(createEmberTransfersInBounds());  // plain loads and stores where the lanes stay inside
    if (parallel_loops) pm.addPass(createEmberParallelLoops());
    pm.addPass(mlir::createLowerAffinePass());  // affine.parallel becomes scf.parallel
    if (parallel_loops) {
      pm.addPass(mlir::createConvertSCFToOpenMPPass());
      pm.addPass(createEmberInlineAllocaScopes());
    }
    pm.addPass(createApproximateMath());
    pm.addNestedPass<mlir::func::FuncOp>(
        mlir::vector::createLowerVectorMultiReductionPass(mlir::vector::VectorMultiReductionLowering::InnerReduction));
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
    pm.addPass(mlir::createFinalizeMemRefToLLVMConversionPass());
    pm.addPass(mlir::createArithToLLVMConversionPass());
    pm.addPass(mlir::createConvertIndexToLLVMPass());
    pm.addPass(mlir::createConvertFuncToLLVMPass());
    if (parallel_loops) pm.addPass(mlir::createConvertOpenMPToLLVMPass());
    pm.addPass(mlir::createConvertControlFlowToLLVMPass());
    pm.addPass(mlir::createReconcileUnrealizedCastsPass());
  }, "lowering to LLVM", loc);
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
std::unique_ptr<llvm::Module> optimized_ir(mlir::ModuleOp module, llvm::LLVMContext& context, llvm::TargetMachine& machine,
                                           const Loc& loc) {
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(module, context);
  EMBER_CHECK(static_cast<bool>(ir), loc, "compile: the module does not translate to LLVM IR");
  ir->setDataLayout(machine.createDataLayout());
  ir->setTargetTriple(machine.getTargetTriple().str());
  if (auto error = mlir::makeOptimizingTransformer(3, 0, &machine)(ir.get())) {
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
              "export: LLVM cannot emit an object file for this CPU");
  passes.run(*ir);
  return std::string(bytes.str());
}

std::unique_ptr<mlir::ExecutionEngine> jit(mlir::ModuleOp module, const Loc& loc) {
  // -O3 for this CPU: without the host's target machine LLVM's vectorizers
  // do not know the vector width and leave the loops scalar.
  auto machine = host_target_machine(loc);
  mlir::ExecutionEngineOptions options;
  options.transformer = mlir::makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0, machine.get());
  auto engine = mlir::ExecutionEngine::create(module, options);
  if (!engine) {
    std::string message;
    llvm::raw_string_ostream os(message);
    os << engine.takeError();
    throw_error("compile: the JIT failed: " + message, loc);
  }
  // The runtime functions generated code calls: linked into the program, not
  // exported from it, so the JIT is told where they are.
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("ember_random_draw")] = {llvm::orc::ExecutorAddr::fromPtr(&ember_random_draw),
                                              llvm::JITSymbolFlags::Exported};
    // Float matmuls go where eager's go (Note [oneDNN for sgemm]); an export
    // links OpenBLAS's cblas_sgemm instead.
    symbols[interner("cblas_sgemm")] = {llvm::orc::ExecutorAddr::fromPtr(&ember_cblas_sgemm),
                                        llvm::JITSymbolFlags::Exported};
    for (const auto& [name, address] : openmp_shim_symbols())
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  return std::move(*engine);
}

void append_checked_inputs(const std::vector<Tensor>& inputs, const std::vector<std::pair<Shape, DType>>& types,
                           const std::string& what, const Loc& loc, std::vector<Tensor>& out) {
  EMBER_CHECK(inputs.size() == types.size(), loc, what, ": takes ", types.size(), " inputs, got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [shape, dtype] = types[i];
    EMBER_CHECK(inputs[i].defined() && inputs[i].sizes() == shape && inputs[i].dtype() == dtype, loc, what, ": input ",
                i, " must be ", tracer::type_string(shape, dtype));
    out.push_back(inputs[i].contiguous());
  }
}

void raise_failed_checks(const std::vector<Tensor>& counts, const std::vector<std::string>& messages,
                         const std::string& what, const Loc& loc) {
  for (size_t i = 0; i < counts.size(); ++i)
    EMBER_CHECK(counts[i].item<int64_t>() == 0, loc, what, ": ", messages[i % messages.size()]);
}

void PackedArgs::clear() {
  words_.clear();
  starts_.clear();
}

// A memref descriptor: allocated, aligned, offset, sizes, strides.
void PackedArgs::add_descriptor(const void* data, const Shape& sizes, const Shape& strides) {
  starts_.push_back(words_.size());
  const auto base = reinterpret_cast<int64_t>(data);
  words_.insert(words_.end(), {base, base, 0});
  words_.insert(words_.end(), sizes.begin(), sizes.end());
  words_.insert(words_.end(), strides.begin(), strides.end());
}

void PackedArgs::add(const Tensor& t) { add_descriptor(t.data_ptr(), t.sizes(), t.strides()); }

void PackedArgs::add_rows(const Tensor& t, int64_t begin, int64_t end) {
  Shape sizes = t.sizes();
  sizes[0] = end - begin;
  add_descriptor(static_cast<const char*>(t.data_ptr()) + begin * t.strides()[0] * int64_t(t.itemsize()), sizes,
                 t.strides());
}

void PackedArgs::add_workspace(const Tensor& workspace, int64_t bytes) {
  add_descriptor(workspace.data_ptr(), Shape{bytes}, Shape{1});  // memref<?xi8>
}

void PackedArgs::call(void (*entry)(void**)) {
  // Descriptor pointers, then pointers to them: the packed interface takes
  // a pointer to each argument, and each argument is a descriptor pointer.
  const size_t n = starts_.size();
  pointers_.resize(2 * n);
  for (size_t i = 0; i < n; ++i) {
    pointers_[i] = words_.data() + starts_[i];
    pointers_[n + i] = &pointers_[i];
  }
  entry(pointers_.data() + n);
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
