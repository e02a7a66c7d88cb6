//===- CompiledGraph.cpp - lowering a Graph to native code and running it --===//
//
// The pass pipeline from the ember dialect to LLVM, the destination-passing
// rewrite of the function, and the calls into the JIT-compiled code through
// MLIR's C interface (one memref descriptor per argument).
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/CompiledGraph.h"

#include <chrono>

#include "ember/compiler/Passes.h"
#include "ember/grad_mode.h"
#include "ember/ir/Dialect.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/ops.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

namespace ember::compiler {

struct CompiledGraph::Impl {
  mlir::MLIRContext context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*entry)(void**) = nullptr;  // the packed C-interface wrapper, looked up once
  tracer::Graph graph;
  std::string stages[3];
  double compile_ms = 0;
  std::vector<int> result_values;  // graph value of each function result
};

namespace {

constexpr const char* kFunction = "forward";

void register_everything(mlir::DialectRegistry& registry) {
  registry.insert<ir::EmberDialect, mlir::func::FuncDialect, mlir::linalg::LinalgDialect, mlir::tensor::TensorDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect, mlir::bufferization::BufferizationDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect, mlir::cf::ControlFlowDialect,
                  mlir::LLVM::LLVMDialect, mlir::affine::AffineDialect, mlir::vector::VectorDialect>();
  mlir::arith::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::linalg::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::tensor::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::memref::registerAllocationOpInterfaceExternalModels(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
}

// Note [Destination passing]
// The function's results become memref arguments that the runtime
// allocates (from its caching allocator) and the code writes into:
// `bufferization.materialize_in_destination` plus empty-tensor elimination
// make the last loop of each result write straight into its argument, so a
// replay allocates nothing it does not return.
void to_destination_passing(mlir::func::FuncOp func) {
  mlir::OpBuilder b(func.getContext());
  auto ret = mlir::cast<mlir::func::ReturnOp>(func.getBody().front().getTerminator());
  llvm::SmallVector<mlir::Type> inputs(func.getArgumentTypes());
  b.setInsertionPoint(ret);
  for (mlir::Value v : ret.getOperands()) {
    auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
    auto memref = mlir::MemRefType::get(t.getShape(), t.getElementType());
    mlir::Value out = func.getBody().front().addArgument(memref, func.getLoc());
    inputs.push_back(memref);
    auto m = b.create<mlir::bufferization::MaterializeInDestinationOp>(ret.getLoc(), mlir::TypeRange{}, v, out);
    m.setWritable(true);
    m.setRestrict(true);
  }
  ret->setOperands({});
  func.setType(b.getFunctionType(inputs, {}));
}

std::string print(mlir::ModuleOp m) { return ir::to_text(m); }

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

// A memref descriptor: allocated, aligned, offset, sizes, strides.
std::vector<int64_t> descriptor(const Tensor& t) {
  std::vector<int64_t> d{reinterpret_cast<int64_t>(t.data_ptr()), reinterpret_cast<int64_t>(t.data_ptr()), 0};
  for (int64_t s : t.sizes()) d.push_back(s);
  for (int64_t s : t.strides()) d.push_back(s);
  return d;
}

}  // namespace

CompiledGraph::CompiledGraph() : impl_(std::make_unique<Impl>()) {}
CompiledGraph::~CompiledGraph() = default;

std::unique_ptr<CompiledGraph> CompiledGraph::compile(const tracer::Graph& graph, const Loc& loc) {
  EMBER_CHECK(graph.replayable(), loc, "compile: the trace cannot be replayed: ",
              graph.data_dependent() ? "it read tensor values at " + graph.data_reads.front() : graph.unsupported.front());
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<CompiledGraph> result(new CompiledGraph());
  Impl& impl = *result->impl_;
  impl.graph = graph;
  mlir::DialectRegistry registry;
  register_everything(registry);
  impl.context.appendDialectRegistry(registry);
  impl.context.loadAllAvailableDialects();

  mlir::OwningOpRef<mlir::ModuleOp> module = ir::graph_to_mlir(impl.context, graph, kFunction);
  impl.stages[0] = print(*module);

  run_passes(*module, [](mlir::PassManager& pm) {
    pm.addPass(createEmberDecompose());
    pm.addPass(createConvertEmberToLinalg());
    pm.addPass(mlir::createLinalgElementwiseOpFusionPass());
    // No CSE here: it merges the `tensor.empty` inits of independent results,
    // and empty-tensor elimination then points them all at one destination
    // buffer (a wrong answer, found by the multi-output test).
    pm.addPass(mlir::createCanonicalizerPass());
  }, "lowering to linalg", loc);
  module->walk([&](mlir::Operation* op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "ember")
      throw_error(std::string("compile: ") + op->getName().getStringRef().str() +
                      " has no lowering yet (so far: elementwise ops, sum/mean/amax/amin, softmax, log_softmax, layer_norm, permute, 2-D matmul)",
                  loc);
  });
  impl.stages[1] = print(*module);

  auto func = module->lookupSymbol<mlir::func::FuncOp>(kFunction);
  to_destination_passing(func);
  func->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(&impl.context));
  run_passes(*module, [](mlir::PassManager& pm) {
    pm.addPass(mlir::bufferization::createEmptyTensorEliminationPass());
    mlir::bufferization::OneShotBufferizationOptions options;
    options.bufferizeFunctionBoundaries = true;
    options.setFunctionBoundaryTypeConversion(mlir::bufferization::LayoutMapOption::IdentityLayoutMap);
    pm.addPass(mlir::bufferization::createOneShotBufferizePass(options));
    mlir::bufferization::BufferDeallocationPipelineOptions dealloc;
    mlir::bufferization::buildBufferDeallocationPipeline(pm, dealloc);
    // Loops, vectorized by MLIR (16 lanes of the innermost contiguous loop:
    // one AVX-512 register, or two AVX2 ones after LLVM legalizes them);
    // the polynomial math then runs on vectors (ew_chain: 25 ms -> 4.3 ms).
    pm.addNestedPass<mlir::func::FuncOp>(mlir::createConvertLinalgToAffineLoopsPass());
    static const int64_t kVectorSize[] = {16};
    mlir::affine::AffineVectorizeOptions vectorize;
    vectorize.vectorSizes = kVectorSize;
    pm.addNestedPass<mlir::func::FuncOp>(mlir::affine::createAffineVectorize(vectorize));
    pm.addPass(mlir::createLowerAffinePass());
    pm.addPass(createApproximateMath());
    pm.addPass(mlir::createConvertVectorToSCFPass());
    pm.addPass(mlir::createConvertSCFToCFPass());
    pm.addPass(mlir::createConvertVectorToLLVMPass());
    pm.addPass(mlir::createConvertMathToLLVMPass());
    pm.addPass(mlir::memref::createExpandStridedMetadataPass());
    pm.addPass(mlir::createFinalizeMemRefToLLVMConversionPass());
    pm.addPass(mlir::createArithToLLVMConversionPass());
    pm.addPass(mlir::createConvertIndexToLLVMPass());
    pm.addPass(mlir::createConvertFuncToLLVMPass());
    pm.addPass(mlir::createConvertControlFlowToLLVMPass());
    pm.addPass(mlir::createReconcileUnrealizedCastsPass());
  }, "lowering to LLVM", loc);
  impl.stages[2] = print(*module);

  // -O3 for this CPU: without the host's target machine LLVM's vectorizers
  // do not know the vector width and leave the loops scalar.
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  EMBER_CHECK(static_cast<bool>(builder), loc, "compile: cannot describe the host CPU to LLVM");
  auto target_machine = builder->createTargetMachine();
  EMBER_CHECK(static_cast<bool>(target_machine), loc, "compile: LLVM has no target machine for the host CPU");
  mlir::ExecutionEngineOptions options;
  options.transformer = mlir::makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0, target_machine->get());
  auto engine = mlir::ExecutionEngine::create(*module, options);
  if (!engine) {
    std::string message;
    llvm::raw_string_ostream os(message);
    os << engine.takeError();
    throw_error("compile: the JIT failed: " + message, loc);
  }
  impl.engine = std::move(*engine);
  auto entry = impl.engine->lookupPacked(std::string("_mlir_ciface_") + kFunction);
  EMBER_CHECK(static_cast<bool>(entry), loc, "compile: the JIT has no entry point");
  impl.entry = *entry;
  for (int v : graph.outputs) impl.result_values.push_back(v);
  for (const auto& w : graph.writebacks) impl.result_values.push_back(w.value);
  for (const auto& g : graph.grad_writes)
    if (g.value >= 0) impl.result_values.push_back(g.value);
  impl.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<Tensor> CompiledGraph::run(const std::vector<Tensor>& inputs, const Loc& loc) {
  const tracer::Graph& g = impl_->graph;
  EMBER_CHECK(inputs.size() == g.inputs.size(), loc, "compiled function: takes ", g.inputs.size(), " inputs, got ",
              inputs.size());
  std::vector<Tensor> args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const tracer::Value& v = g.values[g.inputs[i]];
    EMBER_CHECK(inputs[i].defined() && inputs[i].sizes() == v.shape && inputs[i].dtype() == v.dtype, loc,
                "compiled function: input ", i, " must be ", tracer::type_string(v.shape, v.dtype));
    args.push_back(inputs[i].contiguous());
  }
  for (const Tensor& c : g.captured) args.push_back(c.contiguous());
  std::vector<Tensor> results;
  for (int v : impl_->result_values) {
    results.push_back(empty(g.values[v].shape, g.values[v].dtype));
    args.push_back(results.back());
  }
  std::vector<std::vector<int64_t>> descriptors;
  for (const Tensor& t : args) descriptors.push_back(descriptor(t));
  std::vector<void*> pointers(descriptors.size());
  std::vector<void*> packed(descriptors.size());
  for (size_t i = 0; i < descriptors.size(); ++i) {
    pointers[i] = descriptors[i].data();
    packed[i] = &pointers[i];
  }
  impl_->entry(packed.data());
  // Results: outputs, then write-backs and .grad, in graph_to_mlir's order.
  std::vector<Tensor> outputs(results.begin(), results.begin() + g.outputs.size());
  size_t k = g.outputs.size();
  NoGradGuard no_grad;
  for (const auto& w : g.writebacks) {
    Tensor target = w.target == tracer::ValueKind::Input ? inputs[w.index] : g.captured[w.index];
    target.copy_(results[k++]);
  }
  for (const auto& gw : g.grad_writes) {
    Tensor leaf = g.captured[gw.captured_index];
    leaf.set_grad(gw.value < 0 ? Tensor() : results[k++]);
  }
  return outputs;
}

const std::string& CompiledGraph::stage(Stage s) const { return impl_->stages[static_cast<int>(s)]; }
double CompiledGraph::compile_ms() const { return impl_->compile_ms; }

}  // namespace ember::compiler
