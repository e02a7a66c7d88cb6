// jit.h - compile a function once its shapes settle; call it like the original.
//
//   auto f = jit::compile([&](const std::vector<Tensor>& in) {
//     return std::vector<Tensor>{(in[0] * 1.5 + 0.5).tanh() * in[0].sigmoid()};
//   });
//   auto y = f({x});            // 1st call with this signature: eager (warm-up)
//   y = f({x});                 // 2nd: traced (eagerly) and compiled
//   y = f({x});                 // then: native code
//   std::cout << f.explain();   // traces, compiles, hits, compile time, why it recompiled
//
// A call's guard key is its inputs' shapes, dtypes and requires_grad, grad
// mode and train/eval (tracer/guard.h). Each key is compiled once and cached;
// a new key recompiles (the reason is kept as a key diff) until the
// recompile budget (default 8) is spent, after which the function stays
// eager and says so. The tensors the function captures (parameters) are
// guarded too: a change of dtype, shape, strides or requires_grad recompiles
// ("captured fc1.weight: float32[10, 64] -> float64[10, 64]"); Note
// [Captured tensors are guarded] in CompiledGraph.cpp says why storage is not. A trace that reads values into
// C++ (item()) or uses an op without a lowering stays eager for that key, with a one-time warning. The first
// call of each key runs eagerly without tracing, so that state the function creates on its first call (an
// optimizer's momentum buffers) exists before the trace that captures it. Native results that require grad
// (grad mode on, inputs or captured parameters requiring grad, no side effects) get a compiled backward:
// loss.backward() outside the function reaches the parameters' .grad and
// the inputs through code compiled from the same formulas as eager backward.
//
// Threads: any number of threads may call one CompiledFunction (and
// different ones) at once; each call is right (Note [Calls from many
// threads] in jit.cpp). A key is compiled once: while one thread compiles
// it, other calls of that key run eagerly. A function that writes into
// captured tensors (a training step) races with itself across threads just
// as its eager version would: serialize such calls.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ember/compiler/CompiledGraph.h"
#include "ember/tracer/trace.h"

namespace ember::jit {

struct Stats {
  int64_t calls = 0;
  int64_t eager_calls = 0;  // warm-ups and fallbacks
  int64_t traces = 0;
  int64_t compiles = 0;
  int64_t hits = 0;                            // native calls
  double compile_ms = 0;                       // total
  std::vector<double> each_compile_ms;         // per compile, in order
  std::vector<std::string> recompile_reasons;  // one per recompile: what changed
  std::vector<std::string> eager_reasons;      // keys that stay eager, and why
  // backward() through native results (compiled_backward.h)
  int64_t backward_compiles = 0, backward_hits = 0, backward_eager_calls = 0;
  double backward_compile_ms = 0;
};

struct Options {
  int recompile_budget = 8;
  // Each compile's time, memory and code size (defaults in CompileBudget.h:
  // 120 s, 4 GiB, 400 k LLVM ops; a progress line per stage after 1 s). Past
  // it the signature runs eagerly, with the reason in explain() and stderr.
  compiler::CompileBudget budget;
  // Returns whether the model is training (part of the guard key); default: always true.
  std::function<bool()> training;
  // Note [Automatic dynamic dims]: when a new signature differs from a
  // compiled one only in sizes and traces as the same program, the dims
  // that changed become dynamic and one compile serves every such size
  // (each new size checked by one trace first). Off: one compile per size.
  bool automatic_dynamic = true;
  // Dims to compile as dynamic from the first compile on: (input, dim) pairs,
  // e.g. {{0, 0}} for the batch of input 0. Each new size is still admitted
  // by one trace (Note [Automatic dynamic dims]).
  std::vector<std::pair<int, int>> dynamic_dims;
};

class CompiledFunction {
 public:
  CompiledFunction(tracer::TracedFn fn, Options options);
  ~CompiledFunction();
  CompiledFunction(CompiledFunction&&) noexcept;
  CompiledFunction& operator=(CompiledFunction&&) noexcept;

  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs, const Loc& loc = Loc::current());

  Stats stats() const;  // a snapshot
  std::string explain() const;
  // The traced graph (text) of the most recently compiled key, and that key
  // at each stage of the compiler; empty before the first compile. Setting
  // EMBER_JIT_DUMP=<dir> also writes every stage of every compile there.
  std::string graph_text() const;
  // The graph of `inputs`' guard key and the key as text: the compiled
  // graph if that key is compiled, else a fresh trace (which runs the
  // function once, eagerly).
  std::pair<tracer::Graph, std::string> graph_for(const std::vector<Tensor>& inputs,
                                                  const Loc& loc = Loc::current()) const;
  std::string stage(compiler::Stage s) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

CompiledFunction compile(tracer::TracedFn fn, Options options = {});

}  // namespace ember::jit
