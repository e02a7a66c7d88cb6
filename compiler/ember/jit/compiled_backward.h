// compiled_backward.h - the outputs of a compiled function under autograd.
//
// When a compiled function's outputs require grad, their grad_fn is a
// CompiledBackward node. Its first backward traces, once, a function that
// recomputes the forward eagerly and asks autograd::grad for the gradients
// of the inputs and captured tensors that require grad (the same formulas
// as eager backward), and compiles that trace; later backwards run it
// natively. The engine then routes those gradients on: into .grad of the
// parameters, into the graph that made the inputs.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ember/compiler/CompiledGraph.h"
#include "ember/tracer/trace.h"

namespace ember::jit::detail {

// One guard key's backward: compiled on its first use, shared by the nodes
// of every call with that key, whatever thread runs them: the first
// backward compiles under `mutex` (others of the same key wait for it),
// then `compiled` is published and read without a lock.
struct BackwardCache {
  compiler::CompileBudget budget;  // the forward's (jit::Options::budget)
  std::mutex mutex;
  std::unique_ptr<compiler::CompiledGraph> owned;
  std::atomic<compiler::CompiledGraph*> compiled{nullptr};
  std::atomic<bool> eager{false};  // it could not be compiled: runs eagerly
  std::string eager_reason;        // under `mutex`
  std::atomic<int64_t> compiles{0}, hits{0}, eager_calls{0};
  std::atomic<double> compile_ms{0};

  // Note [Backwards of a dynamic variant]: the cache of a forward variant
  // with `?` dims is called at every size that variant serves. Its first
  // backward compiles statically; a backward at another size traces, and
  // generalizes with the compiled graph into one with `?` dims, as the
  // forward did (tracer/dynamic.h); each later size is admitted by one
  // trace that is an instance of it (the output shapes kept per input
  // shapes), else that size's backwards run eagerly. All under `mutex`;
  // graphs replaced stay alive in `retired` (another thread may be running one).
  using Sizes = std::vector<std::vector<int64_t>>;  // the shapes of a call's inputs
  bool dynamic = false;
  Sizes static_sizes;                         // of a static `owned`
  std::map<Sizes, std::vector<Shape>> sizes;  // input shapes -> output shapes (dynamic `owned`)
  std::set<Sizes> eager_sizes;
  std::vector<std::unique_ptr<compiler::CompiledGraph>> retired;
};

// Makes the outputs of one native call (results of `fn` on `inputs`)
// differentiable: those marked in `differentiable` get a CompiledBackward
// grad_fn whose gradients flow to `inputs` and `captured` that require grad.
void attach_backward(const tracer::TracedFn& fn, const std::vector<Tensor>& inputs,
                     const std::vector<Tensor>& captured, const std::vector<bool>& differentiable,
                     std::vector<Tensor>& outputs, const std::shared_ptr<BackwardCache>& cache);

}  // namespace ember::jit::detail
