// jit.cpp - the guard-keyed cache of compiled traces, with eager fallbacks.
#include "ember/jit/jit.h"

#include <cmath>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>

#include "ember/allocator.h"
#include "ember/autograd/node.h"
#include "ember/compiler/CompiledGraph.h"
#include "ember/grad_mode.h"
#include "ember/jit/compiled_backward.h"
#include "ember/serialize/atomic_file.h"
#include "ember/tracer/dynamic.h"
#include "ember/tracer/guard.h"

namespace ember::jit {

namespace {

// EMBER_JIT_DUMP=<dir>: <dir>/jit-<pid>-<n>.{graph.txt,ember.mlir,linalg.mlir,buffers.mlir,ll}
// for the n-th compile of the process.
void dump_stages(const std::string& dir, const std::string& graph, const compiler::CompiledGraph& c,
                 const Loc& loc) {
  static std::atomic<int64_t> counter{0};
  const int64_t count = ++counter;
  const std::string base = dir + "/jit-" + std::to_string(::getpid()) + "-" + std::to_string(count);
  const auto write = [&](const std::string& suffix, const std::string& text) {
    write_file_atomically(
        base + suffix, [&](std::ostream& out) { out << text; }, "EMBER_JIT_DUMP", loc);
  };
  write(".graph.txt", graph);
  write(".ember.mlir", c.stage(compiler::Stage::Ember));
  write(".linalg.mlir", c.stage(compiler::Stage::Linalg));
  write(".buffers.mlir", c.stage(compiler::Stage::Buffers));
  write(".ll", c.stage(compiler::Stage::LLVM));
  std::cerr << "ember::jit: stages of compile " << count << " written to " << base << ".*\n";
}

// Note [Calls from many threads]
// The cache maps a guard key to an Entry, and an Entry to its compiled
// Variant through an atomic pointer: a call finds its entry under a shared
// lock (many callers at once), loads the variant and runs it with no lock
// held; CompiledGraph::run is itself safe to call from many threads (Note
// [Per-call state]). Deciding to trace, publishing a variant and the stats'
// lists take the exclusive lock; tracing and compiling (hundreds of ms) run
// outside it, with the entry marked `compiling`, so calls of other keys go
// on natively and calls of the same key run eagerly until the variant is
// published: nobody ever sees a half-built graph. Variants are never freed
// before the function (a replaced one may still be running on another
// thread); at most the recompile budget of them exist. Counters are relaxed
// atomics: they count, they order nothing.
struct Variant {
  std::unique_ptr<compiler::CompiledGraph> compiled;
  // Outputs that required grad when traced: their native results get a
  // compiled backward (compiled_backward.h).
  std::vector<bool> differentiable;
  std::shared_ptr<detail::BackwardCache> backward;
};

struct Entry {
  std::atomic<int64_t> calls{0};
  std::atomic<const Variant*> variant{nullptr};
  // For a variant with `?` dims: its outputs' shapes at this key's sizes
  // (set before `variant` is published, never after).
  std::vector<Shape> output_shapes;
  bool eager_for_good = false;  // under the exclusive lock
  bool compiling = false;       // under the exclusive lock
};
}  // namespace

struct CompiledFunction::Impl {
  tracer::TracedFn fn;
  Options options;
  mutable std::shared_mutex mutex;
  std::unordered_map<tracer::GuardKey, Entry, tracer::GuardKeyHash> cache;  // elements never move
  std::vector<std::unique_ptr<Variant>> variants;
  std::atomic<int64_t> calls{0}, hits{0}, eager_calls{0};
  Stats stats;  // the rest, under the exclusive lock
  std::optional<tracer::GuardKey> last_compiled_key;
  bool budget_spent = false;
  std::string graph_text;
  const compiler::CompiledGraph* last_compiled = nullptr;               // owned by its variant
  std::vector<std::shared_ptr<detail::BackwardCache>> backward_caches;  // for stats()

  std::vector<Tensor> eager(const std::vector<Tensor>& inputs) {
    eager_calls.fetch_add(1, std::memory_order_relaxed);
    return fn(inputs);
  }

  // Under the exclusive lock.
  void stay_eager(Entry& e, const std::string& why) {
    e.eager_for_good = true;
    stats.eager_reasons.push_back(why);
    std::cerr << "ember::jit: " << why << "; this signature runs eagerly\n";  // once per key
  }

  // The entry of `key`, made if new.
  Entry& entry(const tracer::GuardKey& key) {
    {
      std::shared_lock<std::shared_mutex> lock(mutex);
      auto it = cache.find(key);
      if (it != cache.end()) return it->second;
    }
    std::unique_lock<std::shared_mutex> lock(mutex);
    return cache[key];
  }

  std::vector<Tensor> trace_and_compile(Entry& e, const tracer::GuardKey& key,
                                        const std::string& captured_reason, const std::vector<Tensor>& inputs,
                                        const Loc& loc);
  // Note [Automatic dynamic dims]: `e` bound to a compiled variant with `?`
  // dims that `graph` is an instance of, or to a new one generalized from a
  // compiled variant and `graph`; false when neither holds (the caller
  // compiles `graph` as it is), with why a compiled variant and `graph` are
  // not one program in `why_static` (explain() shows it).
  bool bind_dynamic(Entry& e, const tracer::Graph& graph, const std::vector<bool>& differentiable,
                    const Loc& loc, std::string* why_static);
  // Compiles `general` and binds `e` to it, with `graph`'s output shapes;
  // false (the reason kept) when it does not compile.
  bool compile_dynamic(Entry& e, const tracer::Generalized& general, const tracer::Graph& graph,
                       const std::vector<bool>& differentiable, const Loc& loc);
  // Whether any variant was compiled (under the exclusive lock): a new key
  // may then be a size of one of them, so its first call traces.
  bool dynamic_candidates() const { return dynamic() && !variants.empty(); }
  bool dynamic() const { return options.automatic_dynamic || !options.dynamic_dims.empty(); }
  // The backward cache of a variant whose outputs are `differentiable`
  // (null when none is), for one size or (dynamic) for every size it serves.
  std::shared_ptr<detail::BackwardCache> backward_cache(const std::vector<bool>& differentiable,
                                                        bool dynamic_sizes) const {
    if (std::find(differentiable.begin(), differentiable.end(), true) == differentiable.end()) return nullptr;
    auto cache = std::make_shared<detail::BackwardCache>();
    cache->budget = options.budget;
    cache->dynamic = dynamic_sizes;
    return cache;
  }
  std::mutex generalizing;  // bind_dynamic's, see there
};

bool CompiledFunction::Impl::compile_dynamic(Entry& e, const tracer::Generalized& general,
                                             const tracer::Graph& graph,
                                             const std::vector<bool>& differentiable, const Loc& loc) {
  auto d = std::make_unique<Variant>();
  d->differentiable = differentiable;
  d->backward = backward_cache(differentiable, /*dynamic=*/true);  // called at every size d serves
  try {
    d->compiled = compiler::CompiledGraph::compile(general.graph, options.budget, loc);
  } catch (const Error& err) {
    std::unique_lock<std::shared_mutex> lock(mutex);
    stats.recompile_reasons.push_back(general.reason + ", but the dynamic graph did not compile (" +
                                      err.what() + "): this size compiles on its own");
    return false;
  }
  if (const char* dir = std::getenv("EMBER_JIT_DUMP"))
    dump_stages(dir, general.graph.to_text(), *d->compiled, loc);
  for (int out : graph.outputs) e.output_shapes.push_back(graph.values[out].shape);
  std::unique_lock<std::shared_mutex> lock(mutex);
  if (d->backward) backward_caches.push_back(d->backward);
  ++stats.compiles;
  stats.compile_ms += d->compiled->compile_ms();
  stats.each_compile_ms.push_back(d->compiled->compile_ms());
  stats.recompile_reasons.push_back(general.reason);
  graph_text = general.graph.to_text();
  last_compiled = d->compiled.get();
  e.variant.store(d.get(), std::memory_order_release);
  variants.push_back(std::move(d));
  return true;
}

bool CompiledFunction::Impl::bind_dynamic(Entry& e, const tracer::Graph& graph,
                                          const std::vector<bool>& differentiable, const Loc& loc,
                                          std::string* why_static) {
  // One thread at a time: new sizes arriving together on several threads
  // wait for the first one's dynamic compile and bind to it, rather than
  // each compiling one of their own. (Taken before `mutex`, never under it.)
  std::lock_guard<std::mutex> one_at_a_time(generalizing);
  std::vector<const Variant*> candidates;
  {
    std::shared_lock<std::shared_mutex> lock(mutex);
    for (const auto& v : variants) candidates.push_back(v.get());
  }
  const auto publish = [&](const Variant* v) {
    for (int out : graph.outputs) e.output_shapes.push_back(graph.values[out].shape);
    e.variant.store(v, std::memory_order_release);
  };
  // A size of a dynamic variant (whose outputs get a backward as this
  // trace's do): no compile.
  for (const Variant* v : candidates)
    if (v->compiled->dynamic() && v->differentiable == differentiable &&
        tracer::instance_of(v->compiled->graph(), graph, nullptr)) {
      publish(v);
      return true;
    }
  // The first compile with dims marked dynamic (Options::dynamic_dims).
  if (candidates.empty() && !options.dynamic_dims.empty()) {
    std::string why;
    auto marked = tracer::mark_dynamic(graph, options.dynamic_dims, &why);
    if (marked && tracer::has_dynamic_dims(*marked))
      return compile_dynamic(e, tracer::Generalized{*marked, "dims marked dynamic"}, graph, differentiable,
                             loc);
    std::unique_lock<std::shared_mutex> lock(mutex);
    stats.recompile_reasons.push_back("the marked dims cannot be dynamic (" + why +
                                      "): this size compiles on its own");
    return false;
  }
  // A static variant and this trace, one program at two sizes: compile it once with `?` dims.
  for (const Variant* v : options.automatic_dynamic ? candidates : std::vector<const Variant*>{}) {
    if (v->compiled->dynamic() || v->differentiable != differentiable) continue;
    std::string why;
    if (auto general = tracer::generalize(v->compiled->graph(), graph, &why))
      return compile_dynamic(e, *general, graph, differentiable, loc);
    if (why_static->empty() && why != tracer::kSameSizes) *why_static = why;
  }
  return false;
}

std::vector<Tensor> CompiledFunction::Impl::trace_and_compile(Entry& e, const tracer::GuardKey& key,
                                                              const std::string& captured_reason,
                                                              const std::vector<Tensor>& inputs,
                                                              const Loc& loc) {
  // Clears `compiling` however this ends (the function may throw).
  struct Compiling {
    Impl& s;
    Entry& e;
    ~Compiling() {
      std::unique_lock<std::shared_mutex> lock(s.mutex);
      e.compiling = false;
    }
  } compiling{*this, e};
  tracer::TraceResult t = tracer::trace(fn, inputs);
  const auto stay_eager_locked = [&](const std::string& why) {
    std::unique_lock<std::shared_mutex> lock(mutex);
    stay_eager(e, why);
    return t.outputs;
  };
  if (t.graph.data_dependent())
    return stay_eager_locked("the trace reads tensor values into C++ at " + t.graph.data_reads.front());
  if (!t.graph.unsupported.empty())
    return stay_eager_locked("the trace cannot be replayed: " + t.graph.unsupported.front());
  // Outputs that require grad, from a function without side effects: later
  // calls' results get a compiled backward (a dynamic one for a dynamic
  // variant: compiled_backward.h).
  std::vector<bool> differentiable_outputs;
  bool differentiable = false;
  if (is_grad_enabled() && t.graph.writebacks.empty() && t.graph.grad_writes.empty()) {
    for (const Tensor& out : t.outputs) {
      differentiable_outputs.push_back(out.defined() && out.requires_grad());
      differentiable = differentiable || differentiable_outputs.back();
    }
    for (const Tensor& c : t.graph.captured)
      if (differentiable && c.requires_grad() && autograd::meta(c).grad_fn)
        return stay_eager_locked(
            "a captured tensor that requires grad is not a leaf (it has a grad_fn), so no compiled "
            "backward can reach its history");
  }
  std::string why_static;
  if (captured_reason.empty() && dynamic() &&
      bind_dynamic(e, t.graph, differentiable_outputs, loc, &why_static))
    return t.outputs;
  auto v = std::make_unique<Variant>();
  v->differentiable = differentiable_outputs;
  try {
    v->compiled = compiler::CompiledGraph::compile(t.graph, options.budget, loc);
  } catch (const Error& err) {
    return stay_eager_locked(err.what());
  }
  v->backward = backward_cache(differentiable_outputs, /*dynamic=*/false);
  if (const char* dir = std::getenv("EMBER_JIT_DUMP")) dump_stages(dir, t.graph.to_text(), *v->compiled, loc);
  // The blocks the eager warm-up and the trace freed are cached for eager
  // ops this signature no longer runs; the compiled graph has its own
  // workspace. Given back (and with the tracer no longer keeping every
  // traced tensor alive), ember-bench's compiled gpt_train peaks at 316 MB
  // instead of 854 (AMD Zen 5).
  empty_cache();
  std::unique_lock<std::shared_mutex> lock(mutex);
  if (v->backward) backward_caches.push_back(v->backward);
  ++stats.compiles;
  stats.compile_ms += v->compiled->compile_ms();
  stats.each_compile_ms.push_back(v->compiled->compile_ms());
  if (!captured_reason.empty())
    stats.recompile_reasons.push_back(captured_reason);
  else if (last_compiled_key)
    stats.recompile_reasons.push_back(
        last_compiled_key->diff(key) +
        (why_static.empty() || !dynamic() ? "" : "\n  static, not dynamic: " + why_static));
  last_compiled_key = key;
  graph_text = t.graph.to_text();
  last_compiled = v->compiled.get();
  e.variant.store(v.get(), std::memory_order_release);
  variants.push_back(std::move(v));
  return t.outputs;
}

CompiledFunction::CompiledFunction(tracer::TracedFn fn, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->fn = std::move(fn);
  impl_->options = std::move(options);
}
CompiledFunction::~CompiledFunction() = default;
CompiledFunction::CompiledFunction(CompiledFunction&&) noexcept = default;
CompiledFunction& CompiledFunction::operator=(CompiledFunction&&) noexcept = default;

std::vector<Tensor> CompiledFunction::operator()(const std::vector<Tensor>& inputs, const Loc& loc) {
  Impl& s = *impl_;
  s.calls.fetch_add(1, std::memory_order_relaxed);
  const bool training = s.options.training ? s.options.training() : true;
  const tracer::GuardKey key = tracer::make_guard_key(inputs, {}, training);
  Entry& e = s.entry(key);
  const int64_t calls = e.calls.fetch_add(1, std::memory_order_relaxed) + 1;
  std::string captured_reason;
  for (;;) {
    const Variant* v = e.variant.load(std::memory_order_acquire);
    if (v) {
      captured_reason = v->compiled->captured_changes();
      if (captured_reason.empty()) [[likely]] {
        s.hits.fetch_add(1, std::memory_order_relaxed);
        std::vector<Tensor> outputs = v->compiled->dynamic() ? v->compiled->run(inputs, e.output_shapes, loc)
                                                             : v->compiled->run(inputs, loc);
        if (v->backward)
          detail::attach_backward(s.fn, inputs, v->compiled->graph().captured, v->differentiable, outputs,
                                  v->backward);
        return outputs;
      }
    }
    std::unique_lock<std::shared_mutex> lock(s.mutex);
    // Another thread published a variant since we looked: use it.
    if (e.variant.load(std::memory_order_acquire) != v) continue;
    // A captured tensor changed under a compiled variant: recompile now (its
    // state exists: no warm-up needed). Otherwise the first call of a key
    // is the warm-up; a key another thread is compiling runs eagerly.
    // A new key of a function with compiled variants traces at once: it may
    // be a new size of one of them (Note [Automatic dynamic dims]).
    const bool warm_up = captured_reason.empty() && calls == 1 && !s.dynamic_candidates();
    if (e.eager_for_good || s.budget_spent || warm_up || e.compiling) {
      lock.unlock();
      return s.eager(inputs);
    }
    if (s.stats.compiles >= s.options.recompile_budget) {
      s.budget_spent = true;
      s.stats.eager_reasons.push_back("the recompile budget of " +
                                      std::to_string(s.options.recompile_budget) +
                                      " compiles is spent: the function stays eager");
      std::cerr << "ember::jit: " << s.stats.eager_reasons.back()
                << " (new signature: " << (captured_reason.empty() ? key.to_string() : captured_reason)
                << ")\n";
      lock.unlock();
      return s.eager(inputs);
    }
    e.compiling = true;
    ++s.stats.traces;
    break;
  }
  // A trace is an eager run: its outputs are this call's.
  return s.trace_and_compile(e, key, captured_reason, inputs, loc);
}

Stats CompiledFunction::stats() const {
  std::shared_lock<std::shared_mutex> lock(impl_->mutex);
  Stats s = impl_->stats;
  s.calls = impl_->calls.load(std::memory_order_relaxed);
  s.hits = impl_->hits.load(std::memory_order_relaxed);
  s.eager_calls = impl_->eager_calls.load(std::memory_order_relaxed);
  for (const auto& b : impl_->backward_caches) {
    s.backward_compiles += b->compiles.load(std::memory_order_relaxed);
    s.backward_hits += b->hits.load(std::memory_order_relaxed);
    s.backward_eager_calls += b->eager_calls.load(std::memory_order_relaxed);
    s.backward_compile_ms += b->compile_ms.load(std::memory_order_relaxed);
  }
  return s;
}

std::string CompiledFunction::explain() const {
  const Stats s = stats();
  std::ostringstream o;
  o << s.calls << " calls: " << s.hits << " native, " << s.eager_calls << " eager; " << s.traces
    << " traces, " << s.compiles << " compiles (" << s.compile_ms << " ms)\n";
  for (size_t i = 0; i < s.recompile_reasons.size(); ++i)
    o << "recompile " << i + 1 << ": " << s.recompile_reasons[i] << "\n";
  if (s.backward_compiles || s.backward_eager_calls)
    o << "backward: " << s.backward_compiles << " compiles (" << s.backward_compile_ms << " ms), "
      << s.backward_hits << " native, " << s.backward_eager_calls << " eager\n";
  for (const auto& r : s.eager_reasons) o << "eager: " << r << "\n";
  std::shared_lock<std::shared_mutex> lock(impl_->mutex);
  for (size_t i = 0; i < impl_->variants.size(); ++i) {
    const compiler::CompiledGraph& g = *impl_->variants[i]->compiled;
    o << "compile " << i + 1 << ": " << std::lround(g.compile_ms()) << " ms, " << g.llvm_ops()
      << " LLVM ops (";
    const char* sep = "";
    for (const auto& [stage, ms] : g.stage_ms()) o << sep << stage << " " << std::lround(ms), sep = ", ";
    o << ")\n";
    for (const std::string& line : g.gemm_report()) o << "  matmul " << line << "\n";
  }
  return o.str();
}

std::string CompiledFunction::graph_text() const {
  std::shared_lock<std::shared_mutex> lock(impl_->mutex);
  return impl_->graph_text;
}
std::pair<tracer::Graph, std::string> CompiledFunction::graph_for(const std::vector<Tensor>& inputs,
                                                                  const Loc& loc) const {
  const Impl& s = *impl_;
  const bool training = s.options.training ? s.options.training() : true;
  const tracer::GuardKey key = tracer::make_guard_key(inputs, {}, training);
  {
    std::shared_lock<std::shared_mutex> lock(s.mutex);
    auto it = s.cache.find(key);
    const Variant* v = it != s.cache.end() ? it->second.variant.load(std::memory_order_acquire) : nullptr;
    if (v && v->compiled->captured_changes().empty()) return {v->compiled->graph(), key.to_string()};
  }
  tracer::TraceResult t = tracer::trace(s.fn, inputs);
  EMBER_CHECK(t.graph.replayable(), loc, "the function cannot be traced for these inputs: ",
              t.graph.data_dependent() ? "it reads tensor values at " + t.graph.data_reads.front()
                                       : t.graph.unsupported.front());
  return {std::move(t.graph), key.to_string()};
}

std::string CompiledFunction::stage(compiler::Stage s) const {
  const compiler::CompiledGraph* last;
  {
    std::shared_lock<std::shared_mutex> lock(impl_->mutex);
    last = impl_->last_compiled;
  }
  return last ? last->stage(s) : std::string();
}

CompiledFunction compile(tracer::TracedFn fn, Options options) {
  return CompiledFunction(std::move(fn), std::move(options));
}

}  // namespace ember::jit
