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
bool g_anomaly = false;

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

void run_backward(const Tensor& root, const Tensor& root_grad, bool retain_graph,
                  bool create_graph, const Loc& loc) {
  Edge root_edge = autograd::gradient_edge(root);
  EMBER_CHECK(root_edge.valid(), loc,
              "backward: the tensor does not require grad and has no grad_fn (shape ",
              root.sizes(), "); call requires_grad_() on an input before computing it");

  // Count, for each node reachable from the root, how many edges feed it.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack{root_edge.fn.get()};
  std::unordered_map<Node*, bool> seen{{root_edge.fn.get(), true}};
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
  deliver(root_edge, root_grad);

  std::priority_queue<Node*, std::vector<Node*>, ByRecency> ready;
  ready.push(root_edge.fn.get());
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    std::vector<Tensor> grads = std::move(buffers[node]);
    buffers.erase(node);
    for (size_t i = 0; i < node->output_hooks.size() && i < grads.size(); ++i) {
      for (auto& hook : node->output_hooks[i]) {
        if (!grads[i].defined()) break;
        Tensor r = hook(grads[i]);
        if (r.defined()) grads[i] = r;
      }
    }
    std::vector<Tensor> input_grads;
    {
      UserLocScope user_line(node->loc);  // the formula's ops report the forward op's line
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
        if (buffers.count(e.fn.get())) ready.push(e.fn.get());
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
                if (buffers.count(se.fn.get())) ready.push(se.fn.get());
                else skip.push_back(se.fn.get());
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace ember
