//===- CompiledGraph.cpp - a traced Graph as native code, and its calls ----===//
//
// Runs the stages of Pipeline.h on the graph's module, then calls the
// JIT-compiled code through MLIR's C interface (one memref descriptor per
// argument: inputs, captured tensors, then the result buffers).
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/CompiledGraph.h"

#include <chrono>
#include <mutex>
#include <optional>

#include "ember/compiler/Pipeline.h"
#include "ember/compiler/RowParallel.h"
#include "ember/threading.h"
#include "ember/grad_mode.h"
#include "ember/kernels/sgemm.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/ops.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

namespace ember::compiler {

struct CompiledGraph::Impl {
  std::unique_ptr<mlir::MLIRContext> context = make_context();
  mlir::OwningOpRef<mlir::ModuleOp> module;  // in the LLVM dialect, for the LLVM IR on request
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*entry)(void**) = nullptr;  // the packed C-interface wrapper, looked up once
  void (*checks_entry)(void**) = nullptr;  // Note [Checks before in-place writes]
  tracer::Graph graph;
  std::string stages[4];
  double compile_ms = 0;
  std::vector<int> result_values;  // graph value of each function result
  std::vector<bool> in_place;       // per write-back: computed into its target (Note [In-place write-backs])
  std::vector<bool> written_captured;  // per captured tensor: a write-back target
  std::vector<std::pair<Shape, DType>> input_types;
  std::vector<std::string> checks;  // ember.checks: a failure count follows the results for each
  // The temporaries' bytes (ember-pack-buffers), kept between calls; a
  // call made while another uses it gets its own.
  int64_t workspace_bytes = 0;
  std::vector<Tensor> workspaces;  // one per chunk of rows
  std::mutex workspace_busy;
  // Note [Row-parallel graphs]: the function computes one chunk of rows;
  // which arguments (inputs, captured, results) are cut into chunks.
  std::optional<RowSplit> split;
  std::vector<bool> batched_args;
  // Note [Pre-packed weights]: captured matmul operands in oneDNN's layout.
  std::shared_ptr<kernels::WeightPacks> packs = kernels::make_weight_packs();
};

namespace {

constexpr const char* kFunction = "forward";

}  // namespace

CompiledGraph::CompiledGraph() : impl_(std::make_unique<Impl>()) {}
CompiledGraph::~CompiledGraph() = default;

std::unique_ptr<CompiledGraph> CompiledGraph::compile(const tracer::Graph& graph, const Loc& loc) {
  EMBER_CHECK(graph.replayable(), loc, "compile: the trace cannot be replayed: ",
              graph.data_dependent() ? "it read tensor values at " + graph.data_reads.front() : graph.unsupported.front());
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<CompiledGraph> result(new CompiledGraph());
  Impl& impl = *result->impl_;
  impl.graph = graph;

  // A row-parallel graph is compiled for one chunk of its rows (two, or one
  // per thread), if it is big enough to be worth starting the pool.
  impl.split = row_split(graph, std::max(2, get_num_threads()), 2 * kParallelGrain);
  if (!impl.split) impl.split = row_split(graph, 2, 2 * kParallelGrain);
  impl.module = ir::graph_to_mlir(*impl.context, impl.split ? chunk_graph(graph, *impl.split) : graph, kFunction);
  mlir::ModuleOp module = *impl.module;
  impl.stages[0] = ir::to_text(module);
  lower_to_linalg(module, loc);
  impl.stages[1] = ir::to_text(module);
  bufferize(module, kFunction, loc);
  impl.stages[2] = ir::to_text(module);
  impl.in_place.assign(graph.writebacks.size(), false);
  for (int64_t r : in_place_results(module, kFunction)) impl.in_place[r - graph.outputs.size()] = true;
  const std::string checks = checks_function(module, kFunction);
  impl.workspace_bytes = workspace_bytes(module, kFunction);
  if (!checks.empty()) impl.workspace_bytes = std::max(impl.workspace_bytes, workspace_bytes(module, checks));
  impl.checks = check_messages(module, kFunction);
  const int64_t chunks = impl.split ? impl.split->chunks : 1;
  for (int64_t c = 0; c < chunks; ++c)
    impl.workspaces.push_back(empty({impl.workspace_bytes / 8 + 1}, DType::Float64));  // f64: 8-byte units
  // Parallel loops only when compiled with more than one thread: on one
  // thread their OpenMP regions made the mlp_train step 15.5 -> 18.5 ms and
  // its compile 240 -> 370 ms. (The thread count is not part of the guard
  // key: code compiled at one thread stays serial.)
  lower_to_llvm(module, loc, /*parallel_loops=*/get_num_threads() > 1);
  impl.engine = jit(module, loc);
  auto entry = impl.engine->lookupPacked(std::string("_mlir_ciface_") + kFunction);
  EMBER_CHECK(static_cast<bool>(entry), loc, "compile: the JIT has no entry point");
  impl.entry = *entry;
  if (!checks.empty()) {
    auto checks_entry = impl.engine->lookupPacked("_mlir_ciface_" + checks);
    EMBER_CHECK(static_cast<bool>(checks_entry), loc, "compile: the JIT has no entry point for the checks");
    impl.checks_entry = *checks_entry;
  }
  for (int v : graph.inputs) impl.input_types.emplace_back(graph.values[v].shape, graph.values[v].dtype);
  impl.written_captured.assign(graph.captured.size(), false);
  for (const auto& w : graph.writebacks)
    if (w.target == tracer::ValueKind::Captured) impl.written_captured[w.index] = true;
  for (int v : graph.outputs) impl.result_values.push_back(v);
  for (size_t i = 0; i < graph.writebacks.size(); ++i)
    if (!impl.in_place[i]) impl.result_values.push_back(graph.writebacks[i].value);
  for (const auto& g : graph.grad_writes)
    if (g.value >= 0) impl.result_values.push_back(g.value);
  if (impl.split) {
    for (int v : graph.inputs) impl.batched_args.push_back(impl.split->batched[v]);
    for (int v : graph.captured_values) impl.batched_args.push_back(impl.split->batched[v]);
    for (int v : impl.result_values) impl.batched_args.push_back(impl.split->batched[v]);
  }
  impl.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

namespace {

// Note [In-place write-backs]: an in-place target is passed as itself when
// nothing else passed shares its storage (the code assumes no aliasing);
// otherwise a copy is (returned, by write-back), and goes back into the
// target after the call.
std::vector<Tensor> stage_aliased_targets(const tracer::Graph& g, const std::vector<bool>& in_place,
                                          const std::vector<Tensor>& inputs, std::vector<Tensor>& args,
                                          const Loc& loc) {
  std::vector<Tensor> staged(g.writebacks.size());
  for (size_t i = 0; i < g.writebacks.size(); ++i) {
    if (!in_place[i]) continue;
    const auto& w = g.writebacks[i];
    const size_t a = w.target == tracer::ValueKind::Input ? w.index : inputs.size() + w.index;
    const Tensor& target = w.target == tracer::ValueKind::Input ? inputs[w.index] : g.captured[w.index];
    bool shared = !args[a].is_same(target);
    for (size_t b = 0; b < args.size() && !shared; ++b)
      shared = b != a && args[b].impl()->storage.get() == target.impl()->storage.get();
    if (shared) args[a] = staged[i] = target.clone(loc);
  }
  return staged;
}

}  // namespace

// Note [Pre-packed weights]: the captured tensors the call only reads, with
// what says their contents are unchanged.
std::vector<std::pair<const void*, uint64_t>> CompiledGraph::unchanged_operands(const std::vector<Tensor>& args,
                                                                             size_t inputs) const {
  const tracer::Graph& g = impl_->graph;
  std::vector<std::pair<const void*, uint64_t>> stamps;
  for (size_t c = 0; c < g.captured.size(); ++c) {
    const Tensor& arg = args[inputs + c];
    if (!impl_->written_captured[c] && arg.is_same(g.captured[c]))
      stamps.emplace_back(arg.data_ptr(), arg.impl()->storage->id << 32 ^ arg.version());
  }
  return stamps;
}

std::vector<Tensor> CompiledGraph::run(const std::vector<Tensor>& inputs, const Loc& loc) {
  const tracer::Graph& g = impl_->graph;
  std::vector<Tensor> args = checked_inputs(inputs, impl_->input_types, "compiled function", loc);
  for (const Tensor& c : g.captured) args.push_back(c.contiguous());
  const std::vector<Tensor> staged = stage_aliased_targets(g, impl_->in_place, inputs, args, loc);
  const kernels::StableOperands stable(*impl_->packs, unchanged_operands(args, inputs.size()));
  const size_t arguments = args.size();  // inputs and captured: what the checks twin takes
  std::vector<Tensor> results;
  for (int v : impl_->result_values) {
    results.push_back(empty(g.values[v].shape, g.values[v].dtype));
    args.push_back(results.back());
  }
  // A call made while another uses the kept workspaces gets its own.
  std::unique_lock<std::mutex> own(impl_->workspace_busy, std::try_to_lock);
  std::vector<Tensor> own_workspaces;
  if (!own.owns_lock())
    for (const Tensor& w : impl_->workspaces) own_workspaces.push_back(empty(w.sizes(), DType::Float64));
  const std::vector<Tensor>& workspaces = own.owns_lock() ? impl_->workspaces : own_workspaces;
  const auto new_counts = [&] {
    std::vector<Tensor> counts;
    for (size_t i = 0; i < impl_->checks.size(); ++i) counts.push_back(zeros({}, DType::Int64));
    return counts;
  };
  if (impl_->checks_entry) {  // Note [Checks before in-place writes]: never split in chunks
    std::vector<Tensor> check_args(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(arguments));
    const std::vector<Tensor> counts = new_counts();
    check_args.insert(check_args.end(), counts.begin(), counts.end());
    call_packed(impl_->checks_entry, check_args, workspaces[0], impl_->workspace_bytes);
    raise_failed_checks(counts, impl_->checks, "compiled function", loc);
  }
  // One function call per chunk of rows (one chunk unless row-parallel),
  // each with its own workspace and failure counts.
  std::vector<Tensor> failures;
  if (!impl_->split) {
    failures = new_counts();
    args.insert(args.end(), failures.begin(), failures.end());
    call_packed(impl_->entry, args, workspaces[0], impl_->workspace_bytes);
  } else {
    const int64_t chunks = impl_->split->chunks, rows = impl_->split->rows / chunks;
    std::vector<std::vector<Tensor>> counts(chunks);
    for (auto& c : counts) c = new_counts();
    parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        std::vector<Tensor> chunk_args = args;
        for (size_t a = 0; a < chunk_args.size(); ++a)
          if (impl_->batched_args[a]) chunk_args[a] = chunk_args[a].slice(0, c * rows, (c + 1) * rows);
        chunk_args.insert(chunk_args.end(), counts[c].begin(), counts[c].end());
        call_packed(impl_->entry, chunk_args, workspaces[c], impl_->workspace_bytes);
      }
    });
    for (const auto& c : counts) failures.insert(failures.end(), c.begin(), c.end());
  }
  raise_failed_checks(failures, impl_->checks, "compiled function", loc);
  // Results: outputs, then write-backs and .grad, in graph_to_mlir's order.
  std::vector<Tensor> outputs(results.begin(), results.begin() + g.outputs.size());
  size_t k = g.outputs.size();
  NoGradGuard no_grad;
  for (size_t i = 0; i < g.writebacks.size(); ++i) {
    const auto& w = g.writebacks[i];
    Tensor target = w.target == tracer::ValueKind::Input ? inputs[w.index] : g.captured[w.index];
    if (impl_->in_place[i] && !staged[i].defined()) {
      target.bump_version();  // as eager's in-place ops
      continue;
    }
    const Tensor& result = impl_->in_place[i] ? staged[i] : results[k++];
    // Note [Write-backs by swapping buffers]
    // A write-back that could not be computed in place would be one more
    // copy over the target. When nothing else can see the target's buffer
    // (not a view, no other tensor on its storage), the target takes the
    // result's buffer instead, which is the same to every holder of it.
    const bool sole_owner = !target.impl()->is_view && target.impl()->storage.use_count() == 1 &&
                            target.is_contiguous() && target.dtype() == result.dtype();
    if (sole_owner) target.set_data(result);
    else target.copy_(result);
  }
  for (const auto& gw : g.grad_writes) {
    Tensor leaf = g.captured[gw.captured_index];
    leaf.set_grad(gw.value < 0 ? Tensor() : results[k++]);
  }
  return outputs;
}

const std::string& CompiledGraph::stage(Stage s) const {
  std::string& text = impl_->stages[static_cast<int>(s)];
  if (s == Stage::LLVM && text.empty()) text = llvm_ir(*impl_->module, Loc::current());  // costs an -O3 run: on request
  return text;
}
double CompiledGraph::compile_ms() const { return impl_->compile_ms; }
const tracer::Graph& CompiledGraph::graph() const { return impl_->graph; }
int64_t CompiledGraph::row_chunks() const { return impl_->split ? impl_->split->chunks : 1; }
int64_t CompiledGraph::packed_weights() const { return kernels::packed_operands(*impl_->packs); }

}  // namespace ember::compiler
