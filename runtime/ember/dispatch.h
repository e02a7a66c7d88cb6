// dispatch.h - the single hook every op call goes through.
//
// dispatch(op, inputs, attrs, loc): the op's kernel checks its arguments
// (clear errors) and computes the outputs; if an input requires grad, an
// autograd node is attached; if an observer (the tracer) is installed on this
// thread, it is told. The hot path allocates only the outputs (and the node
// when autograd needs one), formats no strings and makes no virtual call
// unless an observer is installed.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "ember/op_table.h"

namespace ember {

// What the observer sees of one op execution.
struct OpRecord {
  OpId op;
  const Tensor* inputs;
  int num_inputs;
  const OpAttrs& attrs;
  const Tensor* outputs;
  int num_outputs;
  bool inplace;  // outputs[0] is the tensor that was modified in place
  const Loc& loc;
};

class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;
  virtual void on_op(const OpRecord& record) = 0;
  // Tensor values were read into C++ (item(), to_vector()).
  virtual void on_data_read(const Tensor& tensor, const Loc& loc) {}
  // The .grad of `leaf` was set (by backward or set_grad); `grad` may be undefined.
  virtual void on_grad_set(const Tensor& leaf, const Tensor& grad) {}
};

// Note [Observers]
// A thread has a stack of observers (the tracer, gradient bucketing for
// data-parallel training, a profiler), each installed for a scope. Every op,
// data read and .grad write is told to each of them, outermost first; a
// scope removes exactly the observer it installed, so scopes must nest
// (they do: they are C++ scopes on one thread). Kernels that compose ops
// hide the whole stack (ObserversHidden): to the outside, a composite is
// one op.
inline constexpr int kMaxObservers = 4;
class ObserverScope {
 public:
  explicit ObserverScope(DispatchObserver* observer);
  ~ObserverScope();
  ObserverScope(const ObserverScope&) = delete;
  ObserverScope& operator=(const ObserverScope&) = delete;
};
class ObserversHidden {
 public:
  ObserversHidden();
  ~ObserversHidden();
  ObserversHidden(const ObserversHidden&) = delete;
  ObserversHidden& operator=(const ObserversHidden&) = delete;

 private:
  int hidden_;
};
// Whether any observer is installed on this thread (and not hidden).
bool observed();
// Tells every observer of this thread.
void notify_data_read(const Tensor& tensor, const Loc& loc);
void notify_grad_set(const Tensor& leaf, const Tensor& grad);

// Note [The user's line]
// Ops that ember issues itself (a layer's forward, a backward formula, an
// optimizer step) have call sites inside ember. While a UserLocScope is
// active, such ops report the scope's location instead, in errors, autograd
// nodes (anomaly mode), graph dumps and MLIR locs: Layer::operator(),
// Optimizer::step() and the backward engine open one with their caller's line
// (for backward: the forward op's line).
class UserLocScope {
 public:
  explicit UserLocScope(const Loc& loc);
  ~UserLocScope();
  UserLocScope(const UserLocScope&) = delete;
  UserLocScope& operator=(const UserLocScope&) = delete;

 private:
  const Loc* previous_;
  Loc loc_;
};
// `loc`, or the active scope's location when `loc` is inside ember.
const Loc& effective_loc(const Loc& loc);

// Note [Lines of other languages]
// An op called from Python reaches ember with a C++ location in the
// bindings. A front end installs a provider that returns its caller's own
// "file:line" (the innermost Python frame outside the package); while an
// observer (the tracer) records, each autograd node keeps it, and the
// backward engine hands a node's to the ops of its formula, so a traced
// graph, its MLIR locations and every message made from them name the
// user's line in forward and backward alike. Asked only while observed.
using LocationProvider = std::string (*)();
void set_location_provider(LocationProvider provider);
// The caller's line in another language: the running backward node's, else
// the provider's; "" when there is none.
std::string foreign_location();
// While alive, foreign_location() answers `where` (the engine, per node).
class ForeignLocationScope {
 public:
  explicit ForeignLocationScope(const std::string& where);
  ~ForeignLocationScope();
  ForeignLocationScope(const ForeignLocationScope&) = delete;
  ForeignLocationScope& operator=(const ForeignLocationScope&) = delete;

 private:
  const std::string* previous_;
};

// A ResourceError from making a tensor, as an error of `op` at `loc`
// ("randn: a float32[...] tensor has more elements than ... (model.cpp:12)").
[[noreturn]] void rethrow_located(const ResourceError& e, const char* op, const Loc& loc);
// A shape rule's refusal (meta.h: "op: message"), at `loc`.
class ShapeError;
[[noreturn]] void rethrow_located(const ShapeError& e, const Loc& loc);

Tensor dispatch(OpId op, std::initializer_list<Tensor> inputs, const OpAttrs& attrs, const Loc& loc);
Tensor dispatch(OpId op, const std::vector<Tensor>& inputs, const OpAttrs& attrs, const Loc& loc);
std::pair<Tensor, Tensor> dispatch2(OpId op, std::initializer_list<Tensor> inputs, const OpAttrs& attrs,
                                    const Loc& loc);
std::pair<Tensor, Tensor> dispatch2(OpId op, const std::vector<Tensor>& inputs, const OpAttrs& attrs,
                                    const Loc& loc);
// Writes op(inputs...) into `self` and bumps its version counter.
void dispatch_inplace(OpId op, Tensor& self, std::initializer_list<Tensor> inputs, const OpAttrs& attrs,
                      const Loc& loc);

}  // namespace ember
