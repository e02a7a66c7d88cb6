//===- CompiledGraph.cpp - a traced Graph as native code, and its calls ----===//
//
// Runs the stages of Pipeline.h on the graph's module, then calls the
// JIT-compiled code through MLIR's C interface (one memref descriptor per
// argument: inputs, captured tensors, then the result buffers).
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/CompiledGraph.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "ember/compiler/Passes.h"
#include "ember/compiler/Pipeline.h"
#include "ember/compiler/RowParallel.h"
#include "ember/grad_mode.h"
#include "ember/ir/GraphToMLIR.h"
#include "ember/kernels/sgemm.h"
#include "ember/meta.h"
#include "ember/ops.h"
#include "ember/threading.h"
#include "ember/tracer/dynamic.h"
#include "llvm/Support/Path.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

namespace ember::compiler {

// Note [Captured tensors are guarded]
// The code is compiled for each captured tensor's dtype, shape and strides
// (a float32 matmul reads 4-byte elements), so a captured tensor whose
// dtype, shape or strides changed since the trace (Module::to(Float64),
// set_data with another shape) would be read as something it is not. So
// every call compares them, with requires_grad (it decides which gradients
// a compiled backward makes), and refuses to run on a change; jit::compile
// looks first and recompiles, saying what changed. The storage is not
// compared: the code reads each captured tensor at its current address on
// every call (set_data with a tensor of the same type is simply seen),
// pre-packed weights are keyed by storage id and version (Note [Pre-packed
// weights]), and a write-back target that now shares its storage with
// another argument is written through a copy (Note [In-place
// write-backs]). In-place value changes (an optimizer's steps) are what
// capturing by reference is for: they never recompile.
struct CapturedType {
  DType dtype;
  Shape sizes, strides;
  bool requires_grad;
};
CapturedType captured_type(const Tensor& t);

// Note [Per-call state]
// Everything a call writes besides its results lives in a CallState: the
// argument list, the memref descriptors, the workspace of temporaries
// (ember-pack-buffers), the checks' failure counts, the stamps of
// pre-packed weights. A call takes a state from its graph's pool and gives
// it back at the end; when every state is in use (another call is in
// flight), it makes one more. So concurrent calls of one graph never share
// what they write, the pool holds as many states as there were calls in
// flight at once, and after the first calls a call allocates only its
// results (from the caching allocator) and the TensorImpls that hold them.
// The compiled code itself keeps no state: its globals are constants.
struct CompiledGraph::CallState {
  std::vector<Tensor> args;    // inputs and captured, contiguous, then result buffers
  std::vector<Tensor> staged;  // per write-back: a copy computed in place of an aliased target
  std::vector<std::pair<const void*, uint64_t>> stamps;  // Note [Pre-packed weights]
  std::vector<Tensor> workspaces;                        // one per chunk of rows
  std::vector<Tensor> counts;      // failure counts: one set per chunk, then the checks twin's
  std::vector<PackedArgs> packed;  // one per chunk
};

struct CompiledGraph::Impl {
  std::unique_ptr<mlir::MLIRContext> context = make_context();
  mlir::OwningOpRef<mlir::ModuleOp> module;  // in the LLVM dialect, for the LLVM IR on request
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*entry)(void**) = nullptr;         // the packed C-interface wrapper, looked up once
  void (*checks_entry)(void**) = nullptr;  // Note [Checks before in-place writes]
  tracer::Graph graph;
  std::string stages[4];
  std::once_flag llvm_stage;  // the LLVM IR is made on first request
  double compile_ms = 0;
  std::vector<int> result_values;  // graph value of each function result
  std::vector<int> result_inputs;  // per result: the input it writes back into, or -1
  std::vector<bool> in_place;      // per write-back: computed into its target (Note [In-place write-backs])
  bool any_in_place = false;
  bool dynamic = false;                // `?` dims (Note [Automatic dynamic dims])
  std::vector<bool> written_captured;  // per captured tensor: a write-back target
  std::vector<std::pair<Shape, DType>> input_types;
  std::vector<CapturedType> captured_types;  // Note [Captured tensors are guarded]
  std::vector<std::string> checks;           // ember.checks: a failure count follows the results for each
  int64_t workspace_bytes = 0;               // the temporaries (ember-pack-buffers)
  // Note [Row-parallel graphs]: the function computes one chunk of rows;
  // which arguments (inputs, captured, results) are cut into chunks.
  std::optional<RowSplit> split;
  std::vector<bool> batched_args;
  // Note [Pre-packed weights]: captured matmul operands in oneDNN's layout.
  std::shared_ptr<kernels::WeightPacks> packs = kernels::make_weight_packs();
  // Note [Per-call state]: the states no call is using.
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<CallState>> pool;
  std::vector<std::pair<std::string, double>> stage_ms;
  std::vector<std::string> gemm_report;
  int64_t llvm_ops = 0;
  std::atomic<int64_t> states_made{0};

  int64_t chunks() const { return split ? split->chunks : 1; }
  std::unique_ptr<CallState> take_state();
  void give_state(std::unique_ptr<CallState> state);
};

namespace {

constexpr const char* kFunction = "forward";

// The user's line whose ops are the largest share of `module` now, for a
// compile that went over its budget: "gpt.cpp:41 (62% of 90000 ops, mostly
// llvm.fmul)".
std::string largest_source(mlir::ModuleOp module) {
  std::map<std::string, std::pair<int64_t, std::map<std::string, int64_t>>> by_line;
  int64_t total = 0;
  module.walk([&](mlir::Operation* op) {
    ++total;
    auto file = mlir::dyn_cast<mlir::FileLineColLoc>(op->getLoc());
    if (!file) return;
    auto& [count, kinds] = by_line[llvm::sys::path::filename(file.getFilename().getValue()).str() + ":" +
                                   std::to_string(file.getLine())];
    ++count;
    ++kinds[op->getName().getStringRef().str()];
  });
  if (by_line.empty() || total == 0) return {};
  auto top = std::max_element(by_line.begin(), by_line.end(),
                              [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  auto kind = std::max_element(top->second.second.begin(), top->second.second.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return top->first + " (" + std::to_string(100 * top->second.first / total) + "% of " +
         std::to_string(total) + " ops, mostly " + kind->first + ")";
}

int64_t count_ops(mlir::ModuleOp module) {
  int64_t n = 0;
  module.walk([&](mlir::Operation*) { ++n; });
  return n;
}

}  // namespace

// Note [Dynamic dims in lowerings]: the ops whose lowerings take `?` dims
// so far. A graph with another op on a value with `?` dims is refused
// before MLIR sees it (jit::compile then compiles that size on its own).
bool lowers_dynamic(OpId op) {
  if (is_elementwise(op)) return true;  // sizes read from an operand at run time
  switch (op) {
    // Reductions (var counts its elements at run time where a reduced dim
    // is `?`: a static count was the dynamic sweep's wrong answer) and
    // what decomposes into them.
    case OpId::sum:
    case OpId::mean:
    case OpId::var:
    case OpId::amax:
    case OpId::amin:
    case OpId::logsumexp:
    case OpId::softmax:
    case OpId::log_softmax:
    case OpId::layer_norm:
    case OpId::cross_entropy:
    case OpId::nll_loss:
    case OpId::max_dim:
    case OpId::min_dim:
    case OpId::argmax:
    case OpId::argmin:
    // matmul: rows of any rank times a matrix or vector; its batched forms
    // fail to lower (an Error) and compile per size.
    case OpId::matmul:
    // Views: view, squeeze and unsqueeze regroup static dims beside `?` ones
    // (others fail likewise); slice and select beside a `?` dim, and their
    // gradients (whose output-shape attributes carry it, as a view's does).
    case OpId::permute:
    case OpId::view:
    case OpId::squeeze:
    case OpId::unsqueeze:
    case OpId::select:
    case OpId::slice:
    case OpId::select_backward:
    case OpId::slice_backward:
    case OpId::cat:
    // expand to a `?` dim its operand has or graph_to_mlir widens it to; full
    // and arange with a `?` dim that is an input's dim (Note [Sizes in a
    // generalized graph]; else they fail to lower).
    case OpId::expand:
    case OpId::full:
    case OpId::arange:
    // embedding and its gradient: gathers and a loop over any count of indices.
    case OpId::embedding:
    case OpId::embedding_backward:
    // Kernel calls that read every size at run time.
    case OpId::attention:
    case OpId::attention_backward:
    case OpId::lstm:
    case OpId::lstm_backward:
    case OpId::gru:
    case OpId::gru_backward:
    // A `?` batch; other `?` dims fail to lower (an Error, compiled per size).
    case OpId::conv2d:
    case OpId::conv2d_backward_input:
    case OpId::conv2d_backward_weight:
    case OpId::max_pool2d:
    case OpId::max_pool2d_backward:
    case OpId::avg_pool2d:
    case OpId::avg_pool2d_backward:
      return true;
    default:
      return false;
  }
}

void check_dynamic_lowerings(const tracer::Graph& g, const char* what, const Loc& loc) {
  for (const tracer::Node& n : g.nodes) {
    bool touches = false;
    for (int v : n.inputs) touches = touches || tracer::has_dynamic_dims_of(g, v);
    for (int v : n.outputs) touches = touches || tracer::has_dynamic_dims_of(g, v);
    EMBER_CHECK(!touches || lowers_dynamic(n.op), loc, what, ": ", op_name(n.op), " at ", n.location(),
                " has no lowering with dynamic dims yet");
  }
}

CompiledGraph::CompiledGraph() : impl_(std::make_unique<Impl>()) {}
CompiledGraph::~CompiledGraph() = default;

std::unique_ptr<CompiledGraph> CompiledGraph::compile(const tracer::Graph& graph, const Loc& loc) {
  return compile(graph, CompileBudget{}, loc);
}

std::unique_ptr<CompiledGraph> CompiledGraph::compile(const tracer::Graph& graph, const CompileBudget& budget,
                                                      const Loc& loc) {
  EMBER_CHECK(graph.replayable(), loc, "compile: the trace cannot be replayed: ",
              graph.data_dependent() ? "it read tensor values at " + graph.data_reads.front()
                                     : graph.unsupported.front());
  CompileClock clock(budget, "a graph of " + std::to_string(graph.nodes.size()) + " ops", loc);
  std::unique_ptr<CompiledGraph> result(new CompiledGraph());
  Impl& impl = *result->impl_;
  impl.graph = graph;
  impl.dynamic = tracer::has_dynamic_dims(graph);
  if (impl.dynamic) check_dynamic_lowerings(graph, "compile", loc);

  // A row-parallel graph is compiled for one chunk of its rows (two, or one
  // per thread), if it is big enough to be worth starting the pool. (Not
  // yet one with `?` dims: its chunks would be of a size known at run time.)
  if (!impl.dynamic) {
    impl.split = row_split(graph, std::max(2, get_num_threads()), 2 * kParallelGrain);
    if (!impl.split) impl.split = row_split(graph, 2, 2 * kParallelGrain);
  }
  impl.module =
      ir::graph_to_mlir(*impl.context, impl.split ? chunk_graph(graph, *impl.split) : graph, kFunction);
  mlir::ModuleOp module = *impl.module;
  const auto stage_done = [&](const char* stage) {
    clock.stage_done(stage, [&] { return largest_source(module); });
  };
  stage_done("ember dialect");
  impl.stages[0] = ir::to_text(module);
  lower_to_linalg(module, loc);
  stage_done("linalg");
  impl.stages[1] = ir::to_text(module);
  bufferize(module, kFunction, loc);
  stage_done("buffers");
  impl.stages[2] = ir::to_text(module);
  if (auto report = module->getAttrOfType<mlir::ArrayAttr>(kGemmReport))
    for (auto line : report.getAsValueRange<mlir::StringAttr>()) impl.gemm_report.push_back(line.str());
  impl.in_place.assign(graph.writebacks.size(), false);
  for (int64_t r : in_place_results(module, kFunction)) impl.in_place[r - graph.outputs.size()] = true;
  const std::string checks = checks_function(module, kFunction);
  impl.workspace_bytes = workspace_bytes(module, kFunction);
  if (!checks.empty()) impl.workspace_bytes = std::max(impl.workspace_bytes, workspace_bytes(module, checks));
  impl.checks = check_messages(module, kFunction);
  // Parallel loops only when compiled with more than one thread: on one
  // thread their OpenMP regions made the mlp_train step 15.5 -> 18.5 ms and
  // its compile 240 -> 370 ms. (The thread count is not part of the guard
  // key: code compiled at one thread stays serial.)
  lower_to_llvm(module, loc, /*parallel_loops=*/get_num_threads() > 1, /*cached_temporaries=*/true);
  stage_done("LLVM dialect");
  clock.before_llvm(count_ops(module), [&] { return largest_source(module); });
  impl.engine = jit(module, loc);
  auto entry = impl.engine->lookupPacked(std::string("_mlir_ciface_") + kFunction);
  EMBER_CHECK(static_cast<bool>(entry), loc, "compile: the JIT has no entry point");
  impl.entry = *entry;
  if (!checks.empty()) {
    auto checks_entry = impl.engine->lookupPacked("_mlir_ciface_" + checks);
    EMBER_CHECK(static_cast<bool>(checks_entry), loc, "compile: the JIT has no entry point for the checks");
    impl.checks_entry = *checks_entry;
  }
  stage_done("LLVM -O3 and machine code");
  if (perf_map_requested()) write_perf_map(*impl.engine);
  impl.stage_ms = clock.stage_ms();
  impl.llvm_ops = clock.llvm_ops();
  for (int v : graph.inputs) impl.input_types.emplace_back(graph.values[v].shape, graph.values[v].dtype);
  for (const Tensor& c : graph.captured) impl.captured_types.push_back(captured_type(c));
  impl.any_in_place = std::find(impl.in_place.begin(), impl.in_place.end(), true) != impl.in_place.end();
  impl.written_captured.assign(graph.captured.size(), false);
  for (const auto& w : graph.writebacks)
    if (w.target == tracer::ValueKind::Captured) impl.written_captured[w.index] = true;
  for (int v : graph.outputs) impl.result_values.push_back(v);
  impl.result_inputs.assign(graph.outputs.size(), -1);
  for (size_t i = 0; i < graph.writebacks.size(); ++i)
    if (!impl.in_place[i]) {
      impl.result_values.push_back(graph.writebacks[i].value);
      const auto& w = graph.writebacks[i];
      impl.result_inputs.push_back(w.target == tracer::ValueKind::Input ? w.index : -1);
    }
  for (const auto& g : graph.grad_writes)
    if (g.value >= 0) {
      impl.result_values.push_back(g.value);
      impl.result_inputs.push_back(-1);
    }
  if (impl.split) {
    for (int v : graph.inputs) impl.batched_args.push_back(impl.split->batched[v]);
    for (int v : graph.captured_values) impl.batched_args.push_back(impl.split->batched[v]);
    for (int v : impl.result_values) impl.batched_args.push_back(impl.split->batched[v]);
  }
  impl.compile_ms = clock.total_ms();
  return result;
}

namespace {

// Note [In-place write-backs]: an in-place target is passed as itself when
// nothing else passed shares its storage (the code assumes no aliasing);
// otherwise a copy is (returned, by write-back), and goes back into the
// target after the call. `staged[i]` is that copy, or undefined.
void stage_aliased_targets(const tracer::Graph& g, const std::vector<bool>& in_place,
                           const std::vector<Tensor>& inputs, std::vector<Tensor>& args,
                           std::vector<Tensor>& staged, const Loc& loc) {
  staged.assign(g.writebacks.size(), Tensor());
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
}

// Note [Pre-packed weights]: the captured tensors the call only reads, with
// what says their contents are unchanged.
void unchanged_operands(const std::vector<Tensor>& args, size_t inputs, const tracer::Graph& g,
                        const std::vector<bool>& written_captured,
                        std::vector<std::pair<const void*, uint64_t>>& stamps) {
  stamps.clear();
  for (size_t c = 0; c < g.captured.size(); ++c) {
    const Tensor& arg = args[inputs + c];
    if (!written_captured[c] && arg.is_same(g.captured[c]))
      stamps.emplace_back(arg.data_ptr(), arg.impl()->storage->id << 32 ^ arg.version());
  }
}

std::string describe(const CapturedType& t) {
  std::ostringstream o;
  o << dtype_name(t.dtype) << t.sizes;
  return o.str();
}

// "captured 3 (fc1.weight)" or "captured 3".
std::string captured_name(const tracer::Graph& g, size_t c) {
  const std::string name = g.captured[c].name();
  return "captured " + (name.empty() ? std::to_string(c) : name);
}

// The shape of result r: as traced, or for a `?` dim the output's shape at
// this call's sizes, or the shape of the input it writes back into.
Shape result_shape(size_t r, const tracer::Value& value, int written_input,
                   const std::vector<Shape>& output_shapes, const std::vector<Tensor>& inputs,
                   const Loc& loc) {
  if (std::find(value.shape.begin(), value.shape.end(), kDynamic) == value.shape.end()) return value.shape;
  if (r < output_shapes.size()) return output_shapes[r];
  EMBER_CHECK(written_input >= 0, loc,
              "compiled function: a result with dynamic dims has no shape for this call");
  return inputs[static_cast<size_t>(written_input)].sizes();
}

void zero_counts(std::vector<Tensor>& counts, size_t begin, size_t n) {
  for (size_t i = begin; i < begin + n; ++i) *static_cast<int64_t*>(counts[i].data_ptr()) = 0;
}

}  // namespace

CapturedType captured_type(const Tensor& t) { return {t.dtype(), t.sizes(), t.strides(), t.requires_grad()}; }

std::string CompiledGraph::captured_changes() const {
  const tracer::Graph& g = impl_->graph;
  std::string changes;
  for (size_t c = 0; c < g.captured.size(); ++c) {
    const CapturedType& was = impl_->captured_types[c];
    const Tensor& t = g.captured[c];
    if (t.dtype() == was.dtype && t.sizes() == was.sizes && t.strides() == was.strides &&
        t.requires_grad() == was.requires_grad) [[likely]]
      continue;
    const CapturedType now = captured_type(t);
    std::ostringstream o;
    o << captured_name(g, c) << ": ";
    if (now.dtype != was.dtype || now.sizes != was.sizes)
      o << describe(was) << " -> " << describe(now);
    else if (now.strides != was.strides)
      o << "strides " << was.strides << " -> " << now.strides;
    else
      o << "requires_grad " << (was.requires_grad ? "true" : "false") << " -> "
        << (now.requires_grad ? "true" : "false");
    if (!changes.empty()) changes += '\n';
    changes += o.str();
  }
  return changes;
}

std::unique_ptr<CompiledGraph::CallState> CompiledGraph::Impl::take_state() {
  {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (!pool.empty()) {
      std::unique_ptr<CallState> state = std::move(pool.back());
      pool.pop_back();
      return state;
    }
  }
  auto state = std::make_unique<CallState>();
  for (int64_t c = 0; c < chunks(); ++c)
    state->workspaces.push_back(empty({workspace_bytes / 8 + 1}, DType::Float64));  // f64: 8-byte units
  for (size_t i = 0; i < checks.size() * static_cast<size_t>(chunks() + 1); ++i)
    state->counts.push_back(zeros({}, DType::Int64));
  state->packed.resize(static_cast<size_t>(chunks()));
  states_made.fetch_add(1, std::memory_order_relaxed);
  return state;
}

void CompiledGraph::Impl::give_state(std::unique_ptr<CallState> state) {
  state->args.clear();  // holds no tensor of a finished call
  state->staged.clear();
  std::lock_guard<std::mutex> lock(pool_mutex);
  pool.push_back(std::move(state));
}

std::vector<Tensor> CompiledGraph::run(const std::vector<Tensor>& inputs, const Loc& loc) {
  EMBER_CHECK(!impl_->dynamic, loc, "compiled function: a graph with dynamic dims needs its output shapes");
  return run(inputs, {}, loc);
}

bool CompiledGraph::dynamic() const { return impl_->dynamic; }

std::vector<Tensor> CompiledGraph::run(const std::vector<Tensor>& inputs,
                                       const std::vector<Shape>& output_shapes, const Loc& loc) {
  const std::string changes = captured_changes();
  EMBER_CHECK(changes.empty(), loc, "compiled function: the captured tensors changed since it was compiled (",
              changes, "); compile it again");
  adopt_thread_count();  // Note [Every thread's OpenMP count]
  Impl& impl = *impl_;
  const tracer::Graph& g = impl.graph;
  // Note [Per-call state]: a state of our own for the call, back to the pool after.
  std::unique_ptr<CallState> owned = impl.take_state();
  struct GiveBack {
    Impl& impl;
    std::unique_ptr<CallState>& state;
    ~GiveBack() { impl.give_state(std::move(state)); }
  } give_back{impl, owned};
  CallState& st = *owned;

  std::vector<Tensor>& args = st.args;
  append_checked_inputs(inputs, impl.input_types, "compiled function", loc, args);
  for (const Tensor& c : g.captured) args.push_back(c.contiguous());
  if (impl.any_in_place) stage_aliased_targets(g, impl.in_place, inputs, args, st.staged, loc);
  unchanged_operands(args, inputs.size(), g, impl.written_captured, st.stamps);
  const kernels::StableOperands stable(*impl.packs, st.stamps);
  const size_t arguments = args.size();  // inputs and captured: what the checks twin takes
  std::vector<Tensor> outputs;
  outputs.reserve(g.outputs.size());
  for (size_t r = 0; r < impl.result_values.size(); ++r) {
    const tracer::Value& value = g.values[impl.result_values[r]];
    args.push_back(empty(impl.dynamic
                             ? result_shape(r, value, impl.result_inputs[r], output_shapes, inputs, loc)
                             : value.shape,
                         value.dtype));
    if (outputs.size() < g.outputs.size()) outputs.push_back(args.back());
  }
  const size_t num_checks = impl.checks.size();
  const int64_t chunks = impl.chunks();
  if (impl.checks_entry) {  // Note [Checks before in-place writes]: never split in chunks
    const size_t first = num_checks * static_cast<size_t>(chunks);
    zero_counts(st.counts, first, num_checks);
    PackedArgs& p = st.packed[0];
    p.clear();
    for (size_t a = 0; a < arguments; ++a) p.add(args[a]);
    for (size_t i = 0; i < num_checks; ++i) p.add(st.counts[first + i]);
    p.add_workspace(st.workspaces[0], impl.workspace_bytes);
    p.call(impl.checks_entry);
    for (size_t i = 0; i < num_checks; ++i)
      EMBER_CHECK(*static_cast<const int64_t*>(st.counts[first + i].data_ptr()) == 0, loc,
                  "compiled function: ", impl.checks[i]);
  }
  // One function call per chunk of rows (one chunk unless row-parallel),
  // each with its own descriptors, workspace and failure counts.
  zero_counts(st.counts, 0, num_checks * static_cast<size_t>(chunks));
  const auto call_chunk = [&](int64_t c) {
    PackedArgs& p = st.packed[static_cast<size_t>(c)];
    p.clear();
    if (!impl.split) {
      for (const Tensor& a : args) p.add(a);
    } else {
      const int64_t rows = impl.split->rows / chunks;
      for (size_t a = 0; a < args.size(); ++a)
        if (impl.batched_args[a])
          p.add_rows(args[a], c * rows, (c + 1) * rows);
        else
          p.add(args[a]);
    }
    for (size_t i = 0; i < num_checks; ++i) p.add(st.counts[static_cast<size_t>(c) * num_checks + i]);
    p.add_workspace(st.workspaces[static_cast<size_t>(c)], impl.workspace_bytes);
    p.call(impl.entry);
  };
  if (chunks == 1)
    call_chunk(0);
  else
    parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) call_chunk(c);
    });
  for (size_t i = 0; i < num_checks * static_cast<size_t>(chunks); ++i)
    EMBER_CHECK(*static_cast<const int64_t*>(st.counts[i].data_ptr()) == 0, loc,
                "compiled function: ", impl.checks[i % num_checks]);
  // Results: outputs, then write-backs and .grad, in graph_to_mlir's order.
  size_t k = arguments + g.outputs.size();
  NoGradGuard no_grad;
  for (size_t i = 0; i < g.writebacks.size(); ++i) {
    const auto& w = g.writebacks[i];
    Tensor target = w.target == tracer::ValueKind::Input ? inputs[w.index] : g.captured[w.index];
    const bool staged = impl.any_in_place && st.staged[i].defined();
    if (impl.in_place[i] && !staged) {
      target.bump_version();  // as eager's in-place ops
      continue;
    }
    const Tensor& result = impl.in_place[i] ? st.staged[i] : args[k++];
    // Note [Write-backs by swapping buffers]
    // A write-back that could not be computed in place would be one more
    // copy over the target. When nothing else can see the target's buffer
    // (not a view, no other tensor on its storage), the target takes the
    // result's buffer instead, which is the same to every holder of it.
    const bool sole_owner = !target.impl()->is_view && target.impl()->storage.use_count() == 1 &&
                            target.is_contiguous() && target.dtype() == result.dtype();
    if (sole_owner)
      target.set_data(result);
    else
      target.copy_(result);
  }
  for (const auto& gw : g.grad_writes) {
    Tensor leaf = g.captured[gw.captured_index];
    leaf.set_grad(gw.value < 0 ? Tensor() : args[k++]);
  }
  return outputs;
}

const std::string& CompiledGraph::stage(Stage s) const {
  std::string& text = impl_->stages[static_cast<int>(s)];
  if (s == Stage::LLVM)  // costs an -O3 run: on request, once
    std::call_once(impl_->llvm_stage, [&] { text = llvm_ir(*impl_->module, Loc::current()); });
  return text;
}
const std::vector<std::pair<std::string, double>>& CompiledGraph::stage_ms() const { return impl_->stage_ms; }
const std::vector<std::string>& CompiledGraph::gemm_report() const { return impl_->gemm_report; }
int64_t CompiledGraph::llvm_ops() const { return impl_->llvm_ops; }

double CompiledGraph::compile_ms() const { return impl_->compile_ms; }
const tracer::Graph& CompiledGraph::graph() const { return impl_->graph; }
int64_t CompiledGraph::row_chunks() const { return impl_->chunks(); }
int64_t CompiledGraph::packed_weights() const { return kernels::packed_operands(*impl_->packs); }
int64_t CompiledGraph::call_states() const { return impl_->states_made.load(std::memory_order_relaxed); }

}  // namespace ember::compiler
