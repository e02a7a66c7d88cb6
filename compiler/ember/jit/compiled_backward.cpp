// compiled_backward.cpp - see compiled_backward.h.
#include "ember/jit/compiled_backward.h"

#include <iostream>

#include "ember/autograd/node.h"
#include "ember/ember.h"
#include "ember/tracer/dynamic.h"

namespace ember::jit::detail {
namespace {

struct CompiledBackward : autograd::Node {
  tracer::TracedFn fn;
  std::vector<Tensor> inputs;         // of the forward call, as given
  std::vector<size_t> diff_inputs;    // indices of inputs that require grad
  std::vector<Tensor> diff_captured;  // captured tensors that require grad (leaves)
  std::vector<size_t> diff_outputs;   // which forward outputs this node produced
  size_t num_outputs = 0;
  std::shared_ptr<BackwardCache> cache;

  const char* name() const override { return "CompiledBackward"; }
  void release_saved() override { inputs.clear(); }

  // bw(inputs..., output grads...) -> grads of diff inputs, then of diff captured.
  std::vector<Tensor> backward_function_outputs(const std::vector<Tensor>& in) const {
    GradModeGuard grad_mode(true);
    std::vector<Tensor> leaves(in.begin(), in.begin() + static_cast<long>(inputs.size()));
    std::vector<Tensor> targets;
    for (size_t i : diff_inputs) {
      leaves[i] = leaves[i].detach().requires_grad_();
      targets.push_back(leaves[i]);
    }
    for (const Tensor& c : diff_captured) targets.push_back(c);
    const std::vector<Tensor> outs = fn(leaves);
    std::vector<Tensor> seeds(outs.size());
    for (size_t k = 0; k < diff_outputs.size(); ++k) seeds[diff_outputs[k]] = in[inputs.size() + k];
    std::vector<Tensor> grads = autograd::grad(outs, seeds, targets);
    NoGradGuard no_grad;
    for (size_t k = 0; k < grads.size(); ++k)
      if (!grads[k].defined()) grads[k] = zeros_like(targets[k]);  // the compiled graph returns tensors
    return grads;
  }

  std::vector<Tensor> apply(std::vector<Tensor>& grads) override {
    EMBER_CHECK(inputs.size() || diff_inputs.empty(), loc,
                "backward through a compiled function a second time: its saved inputs were freed (use "
                "retain_graph=true on the first backward)");
    std::vector<Tensor> bw_inputs = inputs;
    for (size_t k = 0; k < grads.size(); ++k)
      bw_inputs.push_back(grads[k].defined() ? grads[k] : zeros(output_shapes[k], output_dtypes[k]));
    if (cache->dynamic) return apply_at_any_size(bw_inputs);
    if (compiler::CompiledGraph* compiled = cache->compiled.load(std::memory_order_acquire)) {
      cache->hits.fetch_add(1, std::memory_order_relaxed);
      return compiled->run(bw_inputs);
    }
    if (cache->eager.load(std::memory_order_acquire)) {
      cache->eager_calls.fetch_add(1, std::memory_order_relaxed);
      return backward_function_outputs(bw_inputs);
    }
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (compiler::CompiledGraph* compiled = cache->compiled.load(std::memory_order_acquire)) {
      cache->hits.fetch_add(1, std::memory_order_relaxed);
      return compiled->run(bw_inputs);  // another thread compiled it while this one waited
    }
    if (cache->eager.load(std::memory_order_acquire)) {
      cache->eager_calls.fetch_add(1, std::memory_order_relaxed);
      return backward_function_outputs(bw_inputs);
    }
    // First backward of this key: trace (these are the eager gradients), then compile.
    tracer::TraceResult t = tracer::trace(
        [this](const std::vector<Tensor>& in) { return backward_function_outputs(in); }, bw_inputs);
    std::vector<Tensor> result = t.outputs;
    try {
      EMBER_CHECK(t.graph.replayable(), loc, "the backward cannot be replayed");
      cache->owned = compiler::CompiledGraph::compile(t.graph, cache->budget, loc);
      cache->compiles.fetch_add(1, std::memory_order_relaxed);
      cache->compile_ms.store(cache->compile_ms.load() + cache->owned->compile_ms());
      cache->compiled.store(cache->owned.get(), std::memory_order_release);
    } catch (const Error& e) {
      cache->eager_reason = e.what();
      cache->eager.store(true, std::memory_order_release);
      std::cerr << "ember::jit: the backward of a compiled function runs eagerly: " << e.what() << "\n";
    }
    return result;
  }

  // Note [Backwards of a dynamic variant] (compiled_backward.h).
  std::vector<Tensor> apply_at_any_size(const std::vector<Tensor>& bw_inputs) {
    BackwardCache::Sizes shapes;
    for (const Tensor& t : bw_inputs) shapes.push_back(t.sizes().vec());
    compiler::CompiledGraph* run = nullptr;
    std::vector<Shape> run_shapes;
    {
      std::lock_guard<std::mutex> lock(cache->mutex);
      compiler::CompiledGraph* compiled = cache->owned.get();
      if (compiled && !compiled->dynamic() && shapes == cache->static_sizes) run = compiled;
      if (compiled && compiled->dynamic())
        if (auto it = cache->sizes.find(shapes); it != cache->sizes.end())
          run = compiled, run_shapes = it->second;
      if (!run && !cache->eager_sizes.count(shapes)) return trace_new_size(bw_inputs, shapes);
    }
    if (!run) {
      cache->eager_calls.fetch_add(1, std::memory_order_relaxed);
      return backward_function_outputs(bw_inputs);
    }
    cache->hits.fetch_add(1, std::memory_order_relaxed);
    return run->dynamic() ? run->run(bw_inputs, run_shapes) : run->run(bw_inputs);
  }

  // Under cache->mutex: the first backward at these shapes, traced (its
  // gradients are this call's); the trace compiles statically (the first
  // size), generalizes with a static graph, or is admitted by a dynamic one.
  std::vector<Tensor> trace_new_size(const std::vector<Tensor>& bw_inputs,
                                     const BackwardCache::Sizes& shapes) {
    tracer::TraceResult t = tracer::trace(
        [this](const std::vector<Tensor>& in) { return backward_function_outputs(in); }, bw_inputs);
    std::vector<Shape> out_shapes;
    for (const Tensor& o : t.outputs) out_shapes.push_back(o.sizes());
    try {
      EMBER_CHECK(t.graph.replayable(), loc, "the backward cannot be replayed");
      compiler::CompiledGraph* compiled = cache->owned.get();
      if (!compiled) {
        cache->owned = compiler::CompiledGraph::compile(t.graph, cache->budget, loc);
        cache->static_sizes = shapes;
      } else if (!compiled->dynamic()) {
        auto general = tracer::generalize(compiled->graph(), t.graph, nullptr);
        if (!general) {
          cache->eager_sizes.insert(shapes);
          return t.outputs;
        }
        std::vector<Shape> static_out;
        for (int v : compiled->graph().outputs) static_out.push_back(compiled->graph().values[v].shape);
        auto dynamic = compiler::CompiledGraph::compile(general->graph, cache->budget, loc);
        cache->sizes[cache->static_sizes] = static_out;
        cache->retired.push_back(std::move(cache->owned));
        cache->owned = std::move(dynamic);
      } else if (!tracer::instance_of(compiled->graph(), t.graph, nullptr)) {
        cache->eager_sizes.insert(shapes);
        return t.outputs;
      }
      if (cache->owned->dynamic()) cache->sizes[shapes] = out_shapes;
      if (cache->owned.get() != compiled) {
        cache->compiles.fetch_add(1, std::memory_order_relaxed);
        cache->compile_ms.store(cache->compile_ms.load() + cache->owned->compile_ms());
      }
    } catch (const Error& e) {
      cache->eager_sizes.insert(shapes);
      std::cerr << "ember::jit: the backward of a compiled function runs eagerly at this size: " << e.what()
                << "\n";
    }
    return t.outputs;
  }
};

}  // namespace

void attach_backward(const tracer::TracedFn& fn, const std::vector<Tensor>& inputs,
                     const std::vector<Tensor>& captured, const std::vector<bool>& differentiable,
                     std::vector<Tensor>& outputs, const std::shared_ptr<BackwardCache>& cache) {
  auto node = std::make_shared<CompiledBackward>();
  node->fn = fn;
  node->inputs = inputs;
  node->cache = cache;
  node->sequence_nr = autograd::next_sequence_nr();
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad() && is_floating(inputs[i].dtype())) {
      node->diff_inputs.push_back(i);
      node->next_edges.push_back(autograd::gradient_edge(inputs[i]));
    }
  for (const Tensor& c : captured)
    if (c.requires_grad() && is_floating(c.dtype())) {
      node->diff_captured.push_back(c);
      node->next_edges.push_back(autograd::gradient_edge(c));
    }
  std::vector<Tensor> targets;
  for (size_t k = 0; k < outputs.size(); ++k)
    if (differentiable[k]) {
      node->diff_outputs.push_back(k);
      targets.push_back(outputs[k]);
    }
  if (targets.empty() || node->next_edges.empty()) return;
  autograd::set_history(node, targets.data(), static_cast<int>(targets.size()));
  for (size_t k = 0; k < node->diff_outputs.size(); ++k) outputs[node->diff_outputs[k]] = targets[k];
}

}  // namespace ember::jit::detail
