// jit.cpp - the guard-keyed cache of compiled traces, with eager fallbacks.
#include "ember/jit/jit.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <unordered_map>

#include "ember/autograd/node.h"
#include "ember/compiler/CompiledGraph.h"
#include "ember/jit/compiled_backward.h"
#include "ember/grad_mode.h"
#include "ember/serialize/atomic_file.h"
#include "ember/tracer/guard.h"

namespace ember::jit {

namespace {

// EMBER_JIT_DUMP=<dir>: <dir>/jit-<pid>-<n>.{graph.txt,ember.mlir,linalg.mlir,buffers.mlir,ll}
// for the n-th compile of the process.
void dump_stages(const std::string& dir, const std::string& graph, const compiler::CompiledGraph& c,
                 const Loc& loc) {
  static int64_t count = 0;
  const std::string base = dir + "/jit-" + std::to_string(::getpid()) + "-" + std::to_string(++count);
  const auto write = [&](const std::string& suffix, const std::string& text) {
    write_file_atomically(base + suffix, [&](std::ostream& out) { out << text; }, "EMBER_JIT_DUMP", loc);
  };
  write(".graph.txt", graph);
  write(".ember.mlir", c.stage(compiler::Stage::Ember));
  write(".linalg.mlir", c.stage(compiler::Stage::Linalg));
  write(".buffers.mlir", c.stage(compiler::Stage::Buffers));
  write(".ll", c.stage(compiler::Stage::LLVM));
  std::cerr << "ember::jit: stages of compile " << count << " written to " << base << ".*\n";
}

struct Entry {
  int64_t calls = 0;
  std::unique_ptr<compiler::CompiledGraph> compiled;  // null: eager (warm-up pending, or for good)
  bool eager_for_good = false;
  // Outputs that required grad when traced: their native results get a
  // compiled backward (compiled_backward.h).
  std::vector<bool> differentiable;
  std::shared_ptr<detail::BackwardCache> backward;
};
}  // namespace

struct CompiledFunction::Impl {
  tracer::TracedFn fn;
  Options options;
  Stats stats;
  std::unordered_map<tracer::GuardKey, Entry, tracer::GuardKeyHash> cache;
  std::optional<tracer::GuardKey> last_compiled_key;
  bool budget_spent = false;
  std::string graph_text;
  const compiler::CompiledGraph* last_compiled = nullptr;  // owned by its cache entry
  std::vector<std::shared_ptr<detail::BackwardCache>> backward_caches;  // for stats()

  std::vector<Tensor> eager(const std::vector<Tensor>& inputs) {
    ++stats.eager_calls;
    return fn(inputs);
  }

  void stay_eager(Entry& e, const std::string& why) {
    e.eager_for_good = true;
    stats.eager_reasons.push_back(why);
    std::cerr << "ember::jit: " << why << "; this signature runs eagerly\n";  // once per key
  }
};

CompiledFunction::CompiledFunction(tracer::TracedFn fn, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->fn = std::move(fn);
  impl_->options = std::move(options);
}
CompiledFunction::~CompiledFunction() = default;
CompiledFunction::CompiledFunction(CompiledFunction&&) noexcept = default;
CompiledFunction& CompiledFunction::operator=(CompiledFunction&&) noexcept = default;

std::vector<Tensor> CompiledFunction::operator()(const std::vector<Tensor>& inputs, const Loc& loc) {
  Impl& s = *impl_;
  ++s.stats.calls;
  const bool training = s.options.training ? s.options.training() : true;
  const tracer::GuardKey key = tracer::make_guard_key(inputs, {}, training);
  Entry& e = s.cache[key];
  ++e.calls;
  if (e.compiled) {
    ++s.stats.hits;
    std::vector<Tensor> outputs = e.compiled->run(inputs, loc);
    if (e.backward) detail::attach_backward(s.fn, inputs, e.compiled->graph().captured, e.differentiable, outputs, e.backward);
    return outputs;
  }
  if (e.eager_for_good || e.calls == 1 || s.budget_spent) return s.eager(inputs);

  // Second call of this key: trace (the call's results are the eager ones), then compile.
  if (s.stats.compiles >= s.options.recompile_budget) {
    s.budget_spent = true;
    s.stats.eager_reasons.push_back("the recompile budget of " + std::to_string(s.options.recompile_budget) +
                                    " compiles is spent: the function stays eager");
    std::cerr << "ember::jit: " << s.stats.eager_reasons.back() << " (new signature: " << key.to_string() << ")\n";
    return s.eager(inputs);
  }
  ++s.stats.traces;
  tracer::TraceResult t = tracer::trace(s.fn, inputs);
  if (t.graph.data_dependent()) {
    s.stay_eager(e, "the trace reads tensor values into C++ at " + t.graph.data_reads.front());
    return t.outputs;
  }
  if (!t.graph.unsupported.empty()) {
    s.stay_eager(e, "the trace cannot be replayed: " + t.graph.unsupported.front());
    return t.outputs;
  }
  // Outputs that require grad, from a function without side effects: later
  // calls' results get a compiled backward.
  bool differentiable = false;
  if (is_grad_enabled() && t.graph.writebacks.empty() && t.graph.grad_writes.empty()) {
    for (const Tensor& out : t.outputs) {
      e.differentiable.push_back(out.defined() && out.requires_grad());
      differentiable = differentiable || e.differentiable.back();
    }
    for (const Tensor& c : t.graph.captured)
      if (differentiable && c.requires_grad() && autograd::meta(c).grad_fn) {
        s.stay_eager(e, "a captured tensor that requires grad is not a leaf (it has a grad_fn), so no compiled "
                        "backward can reach its history");
        return t.outputs;
      }
  }
  try {
    e.compiled = compiler::CompiledGraph::compile(t.graph, loc);
  } catch (const Error& err) {
    s.stay_eager(e, err.what());
    return t.outputs;
  }
  if (differentiable) {
    e.backward = std::make_shared<detail::BackwardCache>();
    s.backward_caches.push_back(e.backward);
  }
  ++s.stats.compiles;
  s.stats.compile_ms += e.compiled->compile_ms();
  if (s.last_compiled_key) s.stats.recompile_reasons.push_back(s.last_compiled_key->diff(key));
  s.last_compiled_key = key;
  s.graph_text = t.graph.to_text();
  s.last_compiled = e.compiled.get();
  if (const char* dir = std::getenv("EMBER_JIT_DUMP")) dump_stages(dir, s.graph_text, *e.compiled, loc);
  return t.outputs;
}

const Stats& CompiledFunction::stats() const {
  Stats& s = impl_->stats;
  s.backward_compiles = s.backward_hits = s.backward_eager_calls = 0;
  s.backward_compile_ms = 0;
  for (const auto& b : impl_->backward_caches) {
    s.backward_compiles += b->compiles;
    s.backward_hits += b->hits;
    s.backward_eager_calls += b->eager_calls;
    s.backward_compile_ms += b->compile_ms;
  }
  return s;
}

std::string CompiledFunction::explain() const {
  const Stats& s = stats();
  std::ostringstream o;
  o << s.calls << " calls: " << s.hits << " native, " << s.eager_calls << " eager; " << s.traces << " traces, "
    << s.compiles << " compiles (" << s.compile_ms << " ms)\n";
  for (size_t i = 0; i < s.recompile_reasons.size(); ++i)
    o << "recompile " << i + 1 << ": " << s.recompile_reasons[i] << "\n";
  if (s.backward_compiles || s.backward_eager_calls)
    o << "backward: " << s.backward_compiles << " compiles (" << s.backward_compile_ms << " ms), " << s.backward_hits
      << " native, " << s.backward_eager_calls << " eager\n";
  for (const auto& r : s.eager_reasons) o << "eager: " << r << "\n";
  return o.str();
}

std::string CompiledFunction::graph_text() const { return impl_->graph_text; }
std::pair<tracer::Graph, std::string> CompiledFunction::graph_for(const std::vector<Tensor>& inputs,
                                                                  const Loc& loc) const {
  const Impl& s = *impl_;
  const bool training = s.options.training ? s.options.training() : true;
  const tracer::GuardKey key = tracer::make_guard_key(inputs, {}, training);
  auto it = s.cache.find(key);
  if (it != s.cache.end() && it->second.compiled) return {it->second.compiled->graph(), key.to_string()};
  tracer::TraceResult t = tracer::trace(s.fn, inputs);
  EMBER_CHECK(t.graph.replayable(), loc, "the function cannot be traced for these inputs: ",
              t.graph.data_dependent() ? "it reads tensor values at " + t.graph.data_reads.front()
                                       : t.graph.unsupported.front());
  return {std::move(t.graph), key.to_string()};
}

std::string CompiledFunction::stage(compiler::Stage s) const {
  return impl_->last_compiled ? impl_->last_compiled->stage(s) : std::string();
}

CompiledFunction compile(tracer::TracedFn fn, Options options) { return CompiledFunction(std::move(fn), std::move(options)); }

}  // namespace ember::jit
