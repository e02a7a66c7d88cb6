// trace.cpp - the recording observer: tensors to SSA values, ops to nodes,
// in-place writes functionalized.
#include "ember/tracer/trace.h"

#include <unordered_map>
#include <unordered_set>

#include "ember/dispatch.h"
#include "ember/kernels/common.h"
#include "ember/meta.h"

namespace ember::tracer {

namespace {

// The user's line for a message: the Python caller's when there is one
// (Note [Lines of other languages]), else `loc`.
std::string line_of(const Loc& loc) {
  std::string where = foreign_location();
  return where.empty() ? format_loc(loc) : where;
}

// Note [Aliases are the same value]
// detach() and autograd's saved outputs make new TensorImpls over the same
// buffer with the same geometry. They hold the same value as the tensor they
// alias (and see its in-place writes), so values are found by (storage,
// offset, sizes, strides, dtype), not by TensorImpl; otherwise an alias made
// during the call would be baked as a constant, its values frozen at trace time.
struct AliasKey {
  uint64_t storage;  // Storage::id: unique for the process's life, so no traced tensor need be kept alive
  int64_t offset;
  Shape sizes, strides;
  DType dtype;
  bool operator==(const AliasKey& o) const {
    return storage == o.storage && offset == o.offset && sizes == o.sizes && strides == o.strides &&
           dtype == o.dtype;
  }
};
struct AliasKeyHash {
  size_t operator()(const AliasKey& k) const {
    size_t h = std::hash<uint64_t>()(k.storage) ^ (std::hash<int64_t>()(k.offset) << 1);
    for (int64_t d : k.sizes) h = h * 31 + std::hash<int64_t>()(d);
    for (int64_t d : k.strides) h = h * 17 + std::hash<int64_t>()(d);
    return h ^ static_cast<size_t>(k.dtype);
  }
};
AliasKey alias_key(const Tensor& t) {
  return {t.impl()->storage->id, t.storage_offset(), t.sizes(), t.strides(), t.dtype()};
}

class Recorder : public DispatchObserver {
 public:
  Recorder(const std::vector<Tensor>& inputs, uint64_t first_serial) : first_serial_(first_serial) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      EMBER_CHECK(inputs[i].defined(), Loc::current(), "trace: input ", i, " is undefined");
      const int v = graph.add_value({ValueKind::Input, inputs[i].sizes(), inputs[i].dtype(), int(i), 0});
      graph.inputs.push_back(v);
      bind(inputs[i], v);
      origin_.emplace_back(ValueKind::Input, int(i), inputs[i]);
    }
  }

  void on_op(const OpRecord& r) override {
    op_loc_ = &r.loc;
    if (r.inplace) {
      functionalize(r);
      return;
    }
    Node node{r.op, {}, r.attrs, {}, r.loc, foreign_location()};
    std::vector<TensorMeta> in;
    for (int i = 0; i < r.num_inputs; ++i) {
      node.inputs.push_back(value_of(r.inputs[i]));
      in.push_back(meta_of(r.inputs[i]));
    }
    // The values' types are the shape rule's (Note [One set of shape rules]),
    // which the kernel that just ran followed; a disagreement would make the
    // graph describe another program, so it is refused.
    TensorMeta out_meta[2];
    infer_meta(r.op, in.data(), r.num_inputs, r.attrs, out_meta);
    const int index = static_cast<int>(graph.nodes.size());
    for (int k = 0; k < r.num_outputs; ++k) {
      const Tensor& out = r.outputs[k];
      if (out_meta[k].sizes != out.sizes() || out_meta[k].dtype != out.dtype()) [[unlikely]]
        graph.unsupported.push_back(std::string(op_name(r.op)) + " at " + line_of(r.loc) +
                                    ": its kernel's output differs from its shape rule's");
      const int v = graph.add_value({ValueKind::Op, out_meta[k].sizes, out_meta[k].dtype, index, k});
      node.outputs.push_back(v);
      bind(out, v);
    }
    graph.nodes.push_back(std::move(node));
  }

  void on_data_read(const Tensor&, const Loc& loc) override { graph.data_reads.push_back(line_of(loc)); }

  void on_grad_set(const Tensor& leaf, const Tensor& grad) override {
    auto it = captured_index_.find(leaf.impl());
    if (it == captured_index_.end()) {
      // A leaf made during the call: its .grad is no state a replay must restore.
      if (leaf.impl()->serial >= first_serial_) return;
      value_of(leaf);
      it = captured_index_.find(leaf.impl());
    }
    graph.grad_writes.push_back({it->second, grad.defined() ? value_of(grad) : -1});
  }

  // After the call: every captured tensor or input whose value changed is written back.
  void finish(const std::vector<Tensor>& outputs) {
    for (const Tensor& t : outputs) {
      EMBER_CHECK(t.defined(), Loc::current(), "trace: the traced function returned an undefined tensor");
      graph.outputs.push_back(value_of(t));
    }
    for (const auto& [kind, index, t] : origin_) {
      const int now = current_.at(alias_key(t));
      const int initial = kind == ValueKind::Input ? graph.inputs[index] : graph.captured_values[index];
      if (now != initial) graph.writebacks.push_back({kind, index, now});
    }
  }

  Graph graph;

 private:
  // A view with the geometry of a tensor we already know (x.view(x.sizes()))
  // is that tensor's value: the first value bound to a key stays, so such a
  // view does not look like a write.
  void bind(const Tensor& t, int value) {
    const AliasKey key = alias_key(t);
    if (current_.try_emplace(key, value).second) by_storage_[key.storage].push_back(key);
  }

  int value_of(const Tensor& t) {
    const AliasKey key = alias_key(t);
    auto it = current_.find(key);
    if (it != current_.end()) return it->second;
    if (written_.count(key.storage)) [[unlikely]] {
      // Note [Writes through one alias, reads through another]
      graph.unsupported.push_back(
          "a tensor (shape " + to_string(t.sizes()) +
          ") that views the buffer of a tensor "
          "written in place earlier in the call, with another shape or offset: a replay would "
          "read the buffer as it was before the write" +
          (op_loc_ ? " (read at " + line_of(*op_loc_) + ")" : std::string()));
    }
    if (t.impl()->serial < first_serial_) {
      // Existed before the call: read by reference at every replay.
      const int index = static_cast<int>(graph.captured.size());
      const int v = graph.add_value({ValueKind::Captured, t.sizes(), t.dtype(), index, 0});
      graph.captured.push_back(t);
      graph.captured_values.push_back(v);
      captured_index_[t.impl()] = index;
      origin_.emplace_back(ValueKind::Captured, index, t);
      bind(t, v);
      return v;
    }
    // Made inside the call without an op (tensor(), a C++ number, a data
    // loader): its values are baked into the graph.
    const int index = static_cast<int>(graph.constants.size());
    const int v = graph.add_value({ValueKind::Constant, t.sizes(), t.dtype(), index, 0});
    Tensor frozen = kernels::cast(t, t.dtype());
    frozen.impl()->wrapped_number = t.impl()->wrapped_number;
    graph.constants.push_back(frozen);
    graph.constant_values.push_back(v);
    bind(t, v);
    return v;
  }

  // Note [In-place under an observer] makes every in-place write a copy of
  // an already recorded value into `self`: self's new value is that value,
  // broadcast to self's shape and converted to self's dtype.
  void functionalize(const OpRecord& r) {
    const Tensor& self = r.outputs[0];
    if (r.op != OpId::copy || r.num_inputs != 1) {
      graph.unsupported.push_back(std::string("in-place ") + op_name(r.op) + " at " + line_of(r.loc));
      return;
    }
    if (self.impl()->is_view) {
      graph.unsupported.push_back("an in-place write into a view (shape " + to_string(self.sizes()) +
                                  ") at " + line_of(r.loc) +
                                  ": the viewed tensor would not see it in a replay");
    }
    int v = value_of(r.inputs[0]);
    if (graph.values[v].shape != self.sizes()) {
      OpAttrs a;
      a.ints = self.sizes();
      v = emit(OpId::expand, v, a, self.sizes(), graph.values[v].dtype, r.loc);
    }
    if (graph.values[v].dtype != self.dtype()) {
      OpAttrs a;
      a.dtype = self.dtype();
      v = emit(OpId::copy, v, a, self.sizes(), self.dtype(), r.loc);
    }
    value_of(self);  // a tensor first seen as a write target is captured (or constant) first
    const AliasKey key = alias_key(self);
    current_[key] = v;  // every alias of self now holds the new value
    // Note [Writes through one alias, reads through another]
    // Tensors that view self's buffer with another geometry (a view made
    // before the call, captured apart from self) hold values the write
    // changed but that the graph does not recompute: they are forgotten,
    // and reading one again, or a new one, makes the trace unsupported,
    // rather than a replay that reads stale values (a wrong answer).
    written_.insert(key.storage);
    for (const AliasKey& other : by_storage_[key.storage])
      if (!(other == key)) current_.erase(other);
    by_storage_[key.storage] = {key};
  }

  int emit(OpId op, int input, const OpAttrs& attrs, const Shape& shape, DType dtype, const Loc& loc) {
    const int index = static_cast<int>(graph.nodes.size());
    const int v = graph.add_value({ValueKind::Op, shape, dtype, index, 0});
    graph.nodes.push_back({op, {input}, attrs, {v}, loc, foreign_location()});
    return v;
  }

  uint64_t first_serial_;
  std::unordered_map<AliasKey, int, AliasKeyHash> current_;  // the value a tensor (and its aliases) holds now
  std::unordered_map<const TensorImpl*, int> captured_index_;
  std::unordered_map<uint64_t, std::vector<AliasKey>>
      by_storage_;                                          // the keys bound in `current_`, per buffer
  std::unordered_set<uint64_t> written_;                    // buffers written in place during the call
  const Loc* op_loc_ = nullptr;                             // the line of the op being recorded
  std::vector<std::tuple<ValueKind, int, Tensor>> origin_;  // inputs and captured tensors, for write-backs
};

}  // namespace

TraceResult trace(const TracedFn& fn, const std::vector<Tensor>& inputs) {
  Recorder recorder(inputs, next_tensor_serial());
  std::vector<Tensor> outputs;
  {
    ObserverScope scope(&recorder);
    outputs = fn(inputs);
  }
  recorder.finish(outputs);
  return {std::move(recorder.graph), std::move(outputs)};
}

}  // namespace ember::tracer
