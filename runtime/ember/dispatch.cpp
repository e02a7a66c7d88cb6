// dispatch.cpp - the single hook: kernel, autograd, observer.
#include "ember/dispatch.h"

#include <atomic>

#include <string_view>

#include "ember/autograd/backward_context.h"
#include "ember/grad_mode.h"
#include "ember/kernels/common.h"
#include "ember/meta.h"

namespace ember {

namespace {
// Note [Observers]: this thread's stack; tl_observed is its live size.
thread_local DispatchObserver* tl_observers[kMaxObservers];
thread_local int tl_observed = 0;
thread_local const Loc* tl_user_loc = nullptr;

void notify_op(const OpRecord& record) {
  for (int i = 0; i < tl_observed; ++i) tl_observers[i]->on_op(record);
}

// Note [The user's line]: a location is ember's own when its file lies in
// the runtime's source folder, which is where this file was compiled from
// (the compiler records that path in every source_location, whatever the
// folder is called or wherever the tree lives).
std::string_view runtime_folder() {
  static const std::string_view folder = [] {
    const std::string_view self = Loc::current().file_name();  // .../ember/dispatch.cpp
    return self.substr(0, self.rfind('/') + 1);
  }();
  return folder;
}

bool inside_ember(const Loc& loc) { return std::string_view(loc.file_name()).starts_with(runtime_folder()); }

void run(OpId op, const Tensor* inputs, int num_inputs, const OpAttrs& attrs, Tensor* outputs,
         int num_outputs, const Loc& call_loc) {
  const Loc& loc = effective_loc(call_loc);
  const OpInfo& info = op_info(op);
  try {
    info.forward(OpCall{op, inputs, num_inputs, attrs, outputs, num_outputs, loc});
  } catch (const ResourceError& e) {
    rethrow_located(e, info.name, loc);
  } catch (const ShapeError& e) {
    rethrow_located(e, loc);
  }
  if (info.differentiable && is_grad_enabled() && autograd::any_requires_grad(inputs, num_inputs))
    autograd::record_op(op, info, inputs, num_inputs, attrs, outputs, num_outputs, loc);
  if (tl_observed) [[unlikely]]
    notify_op(OpRecord{op, inputs, num_inputs, attrs, outputs, num_outputs, false, loc});
}
}  // namespace

void rethrow_located(const ResourceError& e, const char* op, const Loc& loc) {
  if (e.located) throw e;
  throw ResourceError(std::string(op) + ": " + e.what() + " (" + format_loc(loc) + ")", true);
}

void rethrow_located(const ShapeError& e, const Loc& loc) { throw_error(e.what(), loc); }

UserLocScope::UserLocScope(const Loc& loc) : previous_(tl_user_loc), loc_(loc) {
  // The outermost user line wins: a scope opened inside ember keeps it.
  // A default-constructed location (line 0: e.g. a leaf's gradient
  // accumulator) says nothing and is skipped.
  if (loc.line() != 0 && (!previous_ || !inside_ember(loc))) tl_user_loc = &loc_;
}

UserLocScope::~UserLocScope() { tl_user_loc = previous_; }

namespace {
std::atomic<LocationProvider> g_location_provider{nullptr};
thread_local const std::string* tl_foreign_where = nullptr;
}  // namespace

void set_location_provider(LocationProvider provider) { g_location_provider.store(provider); }

std::string foreign_location() {
  if (tl_foreign_where && !tl_foreign_where->empty()) return *tl_foreign_where;
  const LocationProvider provider = g_location_provider.load(std::memory_order_relaxed);
  return provider ? provider() : std::string();
}

ForeignLocationScope::ForeignLocationScope(const std::string& where) : previous_(tl_foreign_where) {
  if (!where.empty()) tl_foreign_where = &where;
}
ForeignLocationScope::~ForeignLocationScope() { tl_foreign_where = previous_; }

const Loc& effective_loc(const Loc& loc) {
  if (tl_user_loc && inside_ember(loc)) [[unlikely]]
    return *tl_user_loc;
  return loc;
}

ObserverScope::ObserverScope(DispatchObserver* observer) {
  EMBER_CHECK(tl_observed < kMaxObservers, Loc::current(), "dispatch: more than ", kMaxObservers,
              " observers at once on one thread");
  tl_observers[tl_observed++] = observer;
}
ObserverScope::~ObserverScope() { --tl_observed; }

ObserversHidden::ObserversHidden() : hidden_(tl_observed) { tl_observed = 0; }
ObserversHidden::~ObserversHidden() { tl_observed = hidden_; }

bool observed() { return tl_observed > 0; }

void notify_data_read(const Tensor& tensor, const Loc& loc) {
  for (int i = 0; i < tl_observed; ++i) tl_observers[i]->on_data_read(tensor, loc);
}

void notify_grad_set(const Tensor& leaf, const Tensor& grad) {
  for (int i = 0; i < tl_observed; ++i) tl_observers[i]->on_grad_set(leaf, grad);
}

Tensor dispatch(OpId op, std::initializer_list<Tensor> inputs, const OpAttrs& attrs, const Loc& loc) {
  Tensor out;
  run(op, inputs.begin(), static_cast<int>(inputs.size()), attrs, &out, 1, loc);
  return out;
}

Tensor dispatch(OpId op, const std::vector<Tensor>& inputs, const OpAttrs& attrs, const Loc& loc) {
  for (const Tensor& t : inputs) EMBER_CHECK(t.defined(), loc, op_name(op), ": an input tensor is undefined");
  Tensor out;
  run(op, inputs.data(), static_cast<int>(inputs.size()), attrs, &out, 1, loc);
  return out;
}

std::pair<Tensor, Tensor> dispatch2(OpId op, std::initializer_list<Tensor> inputs, const OpAttrs& attrs,
                                    const Loc& loc) {
  Tensor out[2];
  run(op, inputs.begin(), static_cast<int>(inputs.size()), attrs, out, 2, loc);
  return {out[0], out[1]};
}

std::pair<Tensor, Tensor> dispatch2(OpId op, const std::vector<Tensor>& inputs, const OpAttrs& attrs,
                                    const Loc& loc) {
  for (const Tensor& t : inputs) EMBER_CHECK(t.defined(), loc, op_name(op), ": an input tensor is undefined");
  Tensor out[2];
  run(op, inputs.data(), static_cast<int>(inputs.size()), attrs, out, 2, loc);
  return {out[0], out[1]};
}

// Note [In-place under autograd]
// When autograd must record an in-place op, the op runs out of place on a
// recorded clone of `self` (the formula may need self's old value, which the
// write destroys), the result is copied into self's buffer, and self takes
// the result's history. Tensors saved earlier that share self's buffer see
// the version bump, so a backward that needs their old values fails clearly.
// A leaf that requires grad and views of tensors that require grad cannot be
// written in place under autograd, as in PyTorch.
void dispatch_inplace(OpId op, Tensor& self, std::initializer_list<Tensor> inputs, const OpAttrs& attrs,
                      const Loc& call_loc) {
  const Loc& loc = effective_loc(call_loc);
  const OpInfo& info = op_info(op);
  EMBER_CHECK(self.defined(), loc, info.name, "_: the tensor is undefined");
  const bool record =
      is_grad_enabled() && info.differentiable &&
      (self.requires_grad() || autograd::any_requires_grad(inputs.begin(), static_cast<int>(inputs.size())));
  if (!record && tl_observed && op != OpId::copy) [[unlikely]] {
    // Note [In-place under an observer]
    // The observer (the tracer) sees an in-place op as its out-of-place op
    // followed by an in-place copy into self: one form of in-place write to
    // functionalize, whatever the op.
    Tensor result = dispatch(op, inputs, attrs, loc);
    OpAttrs copy_attrs;
    copy_attrs.dtype = self.dtype();
    EMBER_CHECK(kernels::can_cast(result.dtype(), self.dtype()), loc, info.name, "_: the result is ",
                dtype_name(result.dtype()), " and cannot be written in place into a ",
                dtype_name(self.dtype()), " tensor");
    dispatch_inplace(OpId::copy, self, {result}, copy_attrs, loc);
    return;
  }
  if (!record) {
    Tensor out[1] = {self};
    try {
      info.forward(OpCall{op, inputs.begin(), static_cast<int>(inputs.size()), attrs, out, 1, loc});
    } catch (const ResourceError& e) {
      rethrow_located(e, info.name, loc);
    } catch (const ShapeError& e) {
      rethrow_located(e, loc);
    }
    self.impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
    if (tl_observed) [[unlikely]]
      notify_op(OpRecord{op, inputs.begin(), static_cast<int>(inputs.size()), attrs, out, 1, true, loc});
    return;
  }
  EMBER_CHECK(!(self.is_leaf() && self.requires_grad()), loc, info.name,
              "_: a leaf tensor that requires grad cannot be modified in place while grad mode is on "
              "(wrap the update in ember::NoGradGuard, or clone() the tensor first)");
  EMBER_CHECK(!self.impl()->is_view, loc, info.name,
              "_: in-place ops on a view are not supported when autograd records them; "
              "clone() the view first");
  EMBER_CHECK(is_floating(self.dtype()), loc, info.name, "_: cannot record gradients into a ",
              dtype_name(self.dtype()), " tensor");
  std::vector<Tensor> args(inputs);
  for (Tensor& a : args)
    if (a.is_same(self)) a = self.clone(loc);
  Tensor result = dispatch(op, args, attrs, loc);
  if (result.dtype() != self.dtype()) result = result.to(self.dtype(), loc);
  EMBER_CHECK(result.sizes() == self.sizes(), loc, info.name, "_: the result has shape ", result.sizes(),
              " and cannot be written in place into a tensor of shape ", self.sizes());
  {
    kernels::InternalScope scope;
    kernels::copy_convert(self, result);
  }
  self.impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
  if (tl_observed) [[unlikely]] {
    OpAttrs copy_attrs;
    copy_attrs.dtype = self.dtype();
    notify_op(OpRecord{OpId::copy, &result, 1, copy_attrs, &self, 1, true, loc});
  }
  auto& m = autograd::meta(self);
  auto& rm = autograd::meta(result);
  m.grad_fn = rm.grad_fn;
  m.output_nr = rm.output_nr;
  m.requires_grad = true;
}

}  // namespace ember
