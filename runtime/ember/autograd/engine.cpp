// engine.cpp - runs backward: nodes in dependency order, gradients summed.
//
// Dependencies are counted over the part of the graph reachable from the
// root; a node runs once every node that feeds it has run. Among ready nodes
// the most recently created runs first (as in PyTorch), and leaf accumulators
// run at once, so gradients are freed early.
#include <cmath>
#include <limits>
#include <queue>
#include <unordered_map>

#include "ember/autograd/anomaly.h"
#include "ember/autograd/node.h"
#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember {

using autograd::Edge;
using autograd::Node;

namespace {
// Per thread, like grad mode: a guard on one thread changes no other's backward.
thread_local bool g_anomaly = false;

struct ByRecency {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

bool all_finite(const Tensor& t) {
  if (!is_floating(t.dtype()) || t.numel() == 0) return true;
  NoGradGuard no_grad;
  Tensor bad = t.ne(t).sum();  // NaN != NaN
  Tensor inf = t.abs().eq(std::numeric_limits<double>::infinity()).sum();
  return bad.item<int64_t>() == 0 && inf.item<int64_t>() == 0;
}

const char* nan_or_inf(const Tensor& t) {
  NoGradGuard no_grad;
  return t.ne(t).sum().item<int64_t>() ? "NaN" : "Inf";
}
}  // namespace

void set_detect_anomaly(bool enabled) { g_anomaly = enabled; }
bool is_anomaly_enabled() { return g_anomaly; }

namespace {

// Runs the graph from `roots` (each seeded with its gradient). A node in
// `capture` (a leaf's accumulator) hands its summed gradient to
// captured[index] instead of running: autograd::grad's results.
void execute(const std::vector<Edge>& roots, std::vector<Tensor> root_grads, bool retain_graph,
             bool create_graph, const std::unordered_map<Node*, size_t>& capture,
             std::vector<Tensor>* captured, const Loc& loc) {
  // Count, for each node reachable from the roots, how many edges feed it.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (const Edge& r : roots)
    if (!seen[r.fn.get()]) {
      seen[r.fn.get()] = true;
      stack.push_back(r.fn.get());
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      ++dependencies[e.fn.get()];
      if (!seen[e.fn.get()]) {
        seen[e.fn.get()] = true;
        stack.push_back(e.fn.get());
      }
    }
  }

  GradModeGuard grad_mode(create_graph);
  UserLocScope user_line(loc);  // what no forward op claims (seeding, accumulation) is backward()'s line
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;
  auto deliver = [&](const Edge& e, Tensor g) {
    auto& buf = buffers[e.fn.get()];
    if (buf.empty()) {
      buf.resize(e.fn->output_shapes.size() > 0 ? e.fn->output_shapes.size() : 1);
      keep_alive[e.fn.get()] = e.fn;
    }
    Tensor& slot = buf[e.input_nr];
    slot = slot.defined() ? slot + g : std::move(g);
  };
  std::priority_queue<Node*, std::vector<Node*>, ByRecency> ready;
  for (size_t r = 0; r < roots.size(); ++r) deliver(roots[r], std::move(root_grads[r]));
  for (const Edge& r : roots)  // a root another root feeds waits for it
    if (dependencies[r.fn.get()] == 0 && seen[r.fn.get()]) {
      seen[r.fn.get()] = false;
      ready.push(r.fn.get());
    }
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    std::vector<Tensor> grads = std::move(buffers[node]);
    buffers.erase(node);
    if (auto it = capture.find(node); it != capture.end()) {
      (*captured)[it->second] = grads.empty() ? Tensor() : grads[0];
      continue;
    }
    for (size_t i = 0; i < node->output_hooks.size() && i < grads.size(); ++i) {
      for (auto& hook : node->output_hooks[i]) {
        if (!grads[i].defined()) break;
        Tensor r = hook(grads[i]);
        if (r.defined()) grads[i] = r;
      }
    }
    std::vector<Tensor> input_grads;
    {
      UserLocScope user_line(node->loc);               // the formula's ops report the forward op's line
      ForeignLocationScope foreign_line(node->where);  // ... and its Python line, if any
      input_grads = node->apply(grads);
    }
    grads.clear();
    if (g_anomaly) {
      for (size_t i = 0; i < input_grads.size(); ++i) {
        if (input_grads[i].defined() && !all_finite(input_grads[i])) {
          throw_error(detail::concat("anomaly: the backward of ", node->name(), " produced ",
                                     nan_or_inf(input_grads[i]), " in the gradient of input ", i,
                                     "; the forward op was called at ", format_loc(node->loc)),
                      loc);
        }
      }
    }
    if (!retain_graph) node->release_saved();
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      if (i < input_grads.size() && input_grads[i].defined()) deliver(e, std::move(input_grads[i]));
      if (--dependencies[e.fn.get()] == 0) {
        if (buffers.count(e.fn.get()))
          ready.push(e.fn.get());
        else {
          // No gradient reached it: its inputs get none either, but nodes it
          // feeds still need their counts lowered.
          std::vector<Node*> skip{e.fn.get()};
          while (!skip.empty()) {
            Node* s = skip.back();
            skip.pop_back();
            for (const Edge& se : s->next_edges) {
              if (!se.valid()) continue;
              if (--dependencies[se.fn.get()] == 0) {
                if (buffers.count(se.fn.get()))
                  ready.push(se.fn.get());
                else
                  skip.push_back(se.fn.get());
              }
            }
          }
        }
      }
    }
  }
}

// The callbacks queued during the outermost backward running on this thread
// (autograd::queue_callback); null when none runs.
thread_local std::vector<std::function<void()>>* t_final_callbacks = nullptr;

// Runs `body` as a backward: callbacks queued inside run after it, in
// order; if it throws they are dropped, the error goes on.
template <typename Body>
void as_backward(const Body& body) {
  if (t_final_callbacks) {  // nested (a hook calling backward): the outer one runs them
    body();
    return;
  }
  std::vector<std::function<void()>> callbacks;
  t_final_callbacks = &callbacks;
  try {
    body();
  } catch (...) {
    t_final_callbacks = nullptr;
    throw;
  }
  // A callback may queue another (a later bucket): run until none is left.
  for (size_t i = 0; i < callbacks.size(); ++i) {
    auto callback = std::move(callbacks[i]);
    try {
      callback();
    } catch (...) {
      t_final_callbacks = nullptr;
      throw;
    }
  }
  t_final_callbacks = nullptr;
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& root_grad, bool retain_graph, bool create_graph,
                  const Loc& loc) {
  Edge root_edge = autograd::gradient_edge(root);
  EMBER_CHECK(root_edge.valid(), loc, "backward: the tensor does not require grad and has no grad_fn (shape ",
              root.sizes(), "); call requires_grad_() on an input before computing it");
  as_backward([&] { execute({root_edge}, {root_grad}, retain_graph, create_graph, {}, nullptr, loc); });
}

namespace autograd {

void queue_callback(std::function<void()> callback, const Loc& loc) {
  EMBER_CHECK(t_final_callbacks != nullptr, loc,
              "queue_callback: no backward is running on this thread (call it from a hook)");
  t_final_callbacks->push_back(std::move(callback));
}

bool in_backward() { return t_final_callbacks != nullptr; }

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                         const std::vector<Tensor>& inputs, const Loc& loc) {
  EMBER_CHECK(outputs.size() == grad_outputs.size(), loc, "grad: ", outputs.size(), " outputs but ",
              grad_outputs.size(), " gradients for them");
  std::vector<Edge> roots;
  std::vector<Tensor> seeds;
  for (size_t i = 0; i < outputs.size(); ++i) {
    Edge e = gradient_edge(outputs[i]);
    if (!e.valid() || !grad_outputs[i].defined()) continue;  // no gradient flows from it
    roots.push_back(e);
    seeds.push_back(grad_outputs[i]);
  }
  std::unordered_map<Node*, size_t> capture;
  std::vector<std::shared_ptr<Node>> accumulators;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].requires_grad() && !meta(inputs[i]).grad_fn, loc, "grad: input ", i,
                " must be a leaf that requires grad");
    Edge e = gradient_edge(inputs[i]);
    accumulators.push_back(e.fn);  // alive while the graph runs
    capture[e.fn.get()] = i;
  }
  std::vector<Tensor> result(inputs.size());
  if (!roots.empty())
    as_backward([&] {
      execute(roots, std::move(seeds), /*retain_graph=*/false, /*create_graph=*/false, capture, &result, loc);
    });
  return result;
}

}  // namespace autograd
}  // namespace ember
