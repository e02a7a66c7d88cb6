// node.h - the autograd graph: nodes, edges and per-tensor metadata.
//
// Reverse mode as in PyTorch: each differentiable op that sees an input
// requiring grad creates a Node whose edges point at the nodes that produced
// its inputs (or at a leaf's gradient accumulator). `backward()` runs the
// nodes in dependency order (engine.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ember/tensor.h"

namespace ember::autograd {

struct Node;

struct Edge {
  std::shared_ptr<Node> fn;  // null: no gradient flows this way
  uint32_t input_nr = 0;     // which of fn's outputs this edge feeds
  bool valid() const { return fn != nullptr; }
};

struct AutogradMeta {
  Tensor grad;
  std::shared_ptr<Node> grad_fn;         // null for leaves
  std::weak_ptr<Node> grad_accumulator;  // a leaf's AccumulateGrad, while a graph uses it
  std::vector<TensorHook> leaf_hooks;    // hooks of a leaf, run before accumulation
  std::vector<std::function<void(const Tensor&)>> post_accumulate_hooks;  // and after it
  uint32_t output_nr = 0;
  bool requires_grad = false;
};

struct Node : std::enable_shared_from_this<Node> {
  virtual ~Node() = default;
  virtual const char* name() const = 0;
  // `grads` holds one gradient per output (undefined: no gradient reached it).
  // Returns one gradient per next edge (undefined where none).
  virtual std::vector<Tensor> apply(std::vector<Tensor>& grads) = 0;
  // Frees saved tensors after a backward without retain_graph.
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  std::vector<std::vector<TensorHook>> output_hooks;  // per output, for non-leaf hooks
  std::vector<Shape> output_shapes;                   // to make zeros for missing grads
  std::vector<DType> output_dtypes;
  uint64_t sequence_nr = 0;
  Loc loc;            // the forward op's call site (anomaly mode names it)
  std::string where;  // its line in another language, kept while traced (Note [Lines of other languages])
};

// Creates the metadata on first use.
AutogradMeta& meta(const Tensor& t);
inline AutogradMeta* meta_if(const Tensor& t) { return t.impl()->autograd.get(); }

// The edge through which a gradient reaches `t`: its grad_fn, its leaf
// accumulator, or none.
Edge gradient_edge(const Tensor& t);

// Makes `outputs` the results of `node` (sets grad_fn, output_nr,
// requires_grad; records shapes for the engine).
// Makes `node` the grad_fn of the first `differentiable` float outputs
// (all when -1); the others carry no gradient and get no history.
void set_history(const std::shared_ptr<Node>& node, Tensor* outputs, int num_outputs,
                 int differentiable = -1);

uint64_t next_sequence_nr();

// Runs `callback` when the backward now running has finished (every node
// run, every .grad written), on the thread that called backward; callbacks
// queued while none runs are an error. Data-parallel training waits for its
// last all-reduces here, as PyTorch's DDP does with queue_callback.
void queue_callback(std::function<void()> callback, const Loc& loc = Loc::current());
bool in_backward();

// The gradients of `outputs` (seeded with `grad_outputs`) with respect to the
// leaves `inputs`, returned instead of accumulated into their .grad
// (undefined where no gradient reaches one). Frees the graph, as backward()
// does. The jit's compiled backward is traced through this.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                         const std::vector<Tensor>& inputs, const Loc& loc = Loc::current());

// A tensor kept for backward, with the version it had when saved.
class SavedTensor {
 public:
  SavedTensor() = default;
  // is_output: the tensor is an output of `node`; it is stored without its
  // history (no reference cycle) and gets it back when unpacked.
  SavedTensor(const Tensor& t, bool is_output);
  Tensor unpack(const std::shared_ptr<Node>& owner, const char* op_name, const Loc& loc) const;
  void reset() { data_ = Tensor(); }
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  uint32_t version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
};

}  // namespace ember::autograd
