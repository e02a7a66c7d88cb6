// ddp.cpp - see Note [Gradient buckets] in ddp.h.
#include "ember/distributed/ddp.h"

#include <chrono>
#include <sstream>

#include "ember/autograd/node.h"
#include "ember/collectives.h"
#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"
#include "ember/serialize/safetensors.h"

namespace ember::nn {

using distributed::ReduceOp;
using distributed::Work;

namespace {

struct Bucket {
  std::vector<int64_t> params;   // indices into the reducer's parameters
  std::vector<int64_t> offsets;  // of each in `flat`
  Tensor flat;                   // the gradients, one after another
  int64_t pending = 0;           // parameters not yet ready in this backward
  Work work;
};

}  // namespace

class DistributedDataParallel::Reducer {
 public:
  Reducer(std::vector<std::string> names, std::vector<Tensor> params, DistributedDataParallelOptions options,
          const Loc& loc)
      : names_(std::move(names)), params_(std::move(params)), options_(options), loc_(loc) {
    make_buckets();
    ready_.assign(params_.size(), false);
  }

  void on_gradient(int64_t param) {
    if (!syncing_) return;  // no_sync(): gradients accumulate locally
    if (!in_backward_) start_backward();
    if (ready_[param]) return;
    ready_[param] = true;
    Bucket& b = buckets_[bucket_of_[param]];
    if (--b.pending == 0) launch_ready_buckets();
  }

  std::vector<std::vector<int64_t>> layout() const {
    std::vector<std::vector<int64_t>> out;
    for (const Bucket& b : buckets_) out.push_back(b.params);
    return out;
  }

  size_t num_buckets() const { return buckets_.size(); }
  const DistributedDataParallelStats& stats() const { return stats_; }
  bool syncing() const { return syncing_; }
  void set_syncing(bool on) { syncing_ = on; }

 private:
  // Reverse registration order, a new bucket past the cap or at a dtype
  // change (a bucket is one flat buffer of one dtype).
  void make_buckets() {
    const double cap = options_.bucket_cap_mb * 1024 * 1024;
    bucket_of_.assign(params_.size(), -1);
    for (int64_t i = static_cast<int64_t>(params_.size()) - 1; i >= 0; --i) {
      const Tensor& p = params_[i];
      const double bytes = double(p.numel()) * double(itemsize(p.dtype()));
      const bool fits = !buckets_.empty() && buckets_.back().flat.dtype() == p.dtype() &&
                        double(buckets_.back().flat.numel()) * double(itemsize(p.dtype())) + bytes <= cap;
      if (!fits) {
        buckets_.emplace_back();
        buckets_.back().flat = empty({0}, p.dtype());
      }
      Bucket& b = buckets_.back();
      b.offsets.push_back(b.flat.numel());
      b.params.push_back(i);
      b.flat = empty({b.flat.numel() + p.numel()}, p.dtype());
      bucket_of_[i] = static_cast<int64_t>(buckets_.size()) - 1;
    }
  }

  void start_backward() {
    in_backward_ = true;
    traced_ = false;
    std::fill(ready_.begin(), ready_.end(), false);
    for (Bucket& b : buckets_) {
      b.pending = static_cast<int64_t>(b.params.size());
    }
    next_bucket_ = 0;
    autograd::queue_callback([this] { finish_backward(); }, loc_);
  }

  // Buckets start in index order on every rank (Note [Gradient buckets]).
  void launch_ready_buckets() {
    while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].pending == 0)
      launch(buckets_[next_bucket_++]);
    // Starting a collective is also MPI's chance to move the earlier ones along.
    for (size_t i = 0; i + 1 < next_bucket_; ++i) (void)buckets_[i].work.is_completed();
  }

  void launch(Bucket& b) {
    if (observed()) return launch_in_graph(b);
    NoGradGuard no_grad;
    for (size_t k = 0; k < b.params.size(); ++k) {
      const Tensor& p = params_[b.params[k]];
      Tensor slot = b.flat.slice(0, b.offsets[k], b.offsets[k] + p.numel());
      const Tensor g = p.grad();
      if (!g.defined())
        slot.zero_();  // an unused parameter (find_unused_parameters): contributes nothing
      else if (g.data_ptr() !=
               slot.data_ptr())  // not already the bucket's view (Note [Gradients as bucket views])
        slot.copy_(g.reshape(Shape{p.numel()}));
    }
    // The last bucket has nothing left to overlap with: a blocking
    // all-reduce, whose algorithm is faster (7.4 MB over 2 ranks' shared
    // memory: 0.57 ms against 0.80 for MPI_Iallreduce and its wait, AMD Zen 5).
    if (&b == &buckets_.back()) {
      const auto start = std::chrono::steady_clock::now();
      distributed::all_reduce(b.flat, ReduceOp::Mean, loc_);
      stats_.wait_ms +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    } else {
      b.work = distributed::all_reduce_async(b.flat, ReduceOp::Mean, loc_);
    }
    ++stats_.all_reduces;
  }

  // Note [DDP inside a compiled step]
  // While the tracer records (the run jit::compile traces), a bucket is
  // built from ops a graph can hold, so the compiled step communicates
  // itself: the bucket's gradients concatenated, one all_reduce op (effect
  // `communicates`: kept, in order, never fused; a runtime call in compiled
  // code, Note [Collectives in compiled code]) and each .grad set to its
  // slice of the result. Buckets still start in index order, so every
  // rank's graph has its all-reduces in the same order.
  void launch_in_graph(Bucket& b) {
    std::vector<Tensor> parts;
    for (int64_t i : b.params) {
      const Tensor& p = params_[i];
      const Tensor g = p.grad();
      parts.push_back(g.defined() ? g.reshape(Shape{p.numel()}, loc_) : zeros({p.numel()}, p.dtype(), loc_));
    }
    const Tensor reduced = all_reduce_op(cat(parts, 0, loc_), AllReduceOp::Mean, loc_);
    for (size_t k = 0; k < b.params.size(); ++k) {
      Tensor& p = params_[b.params[k]];
      p.set_grad(reduced.slice(0, b.offsets[k], b.offsets[k] + p.numel(), 1, loc_).view(p.sizes(), loc_),
                 loc_);
    }
    traced_ = true;
    ++stats_.all_reduces;
  }

  void finish_backward() {
    in_backward_ = false;
    std::vector<std::string> unused;
    for (size_t i = 0; i < params_.size(); ++i)
      if (!ready_[i]) unused.push_back(names_[i]);
    if (!unused.empty() && !options_.find_unused_parameters) {
      std::ostringstream list;
      for (size_t i = 0; i < unused.size(); ++i) list << (i ? ", " : "") << unused[i];
      throw_error("DistributedDataParallel: parameters received no gradient in this backward: " + list.str() +
                      " (rank " + std::to_string(distributed::rank()) +
                      "); every parameter must take part in the loss, or construct with "
                      "find_unused_parameters = true to count their gradients as zeros",
                  loc_);
    }
    for (Bucket& b : buckets_) b.pending = 0;  // the unused ones too, now as zeros
    launch_ready_buckets();
    if (buckets_.empty() || traced_) {  // traced: the graph holds the all-reduces and the .grad writes
      ++stats_.backwards;
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    for (Bucket& b : buckets_) b.work.wait(loc_);
    stats_.wait_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ++stats_.backwards;
    // Note [Gradients as bucket views]
    // Each .grad becomes a view of its slot in the bucket (no copy back);
    // a backward without zero_grad() then accumulates straight into the
    // bucket, and launch() finds nothing to copy. As with PyTorch's
    // gradient_as_bucket_view, a .grad handle kept across steps sees the
    // next step's gradients.
    NoGradGuard no_grad;
    for (Bucket& b : buckets_)
      for (size_t k = 0; k < b.params.size(); ++k) {
        Tensor& p = params_[b.params[k]];
        const Tensor g = p.grad();
        const char* slot =
            static_cast<const char*>(b.flat.data_ptr()) + b.offsets[k] * int64_t(itemsize(p.dtype()));
        if (g.defined() && g.data_ptr() == slot) continue;  // already the view
        p.set_grad(b.flat.slice(0, b.offsets[k], b.offsets[k] + p.numel()).view(p.sizes()));
      }
  }

  std::vector<std::string> names_;
  std::vector<Tensor> params_;
  DistributedDataParallelOptions options_;
  Loc loc_;
  std::vector<int64_t> bucket_of_;
  std::vector<Bucket> buckets_;
  std::vector<bool> ready_;
  size_t next_bucket_ = 0;
  bool in_backward_ = false;
  bool traced_ =
      false;  // this backward's buckets are ops of a traced step (Note [DDP inside a compiled step])
  bool syncing_ = true;
  DistributedDataParallelStats stats_;
};

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<Module> module,
                                                 DistributedDataParallelOptions options, const Loc& loc)
    : Layer("DistributedDataParallel"), module_(register_module("module", std::move(module))) {
  EMBER_CHECK(distributed::is_initialized(), loc,
              "DistributedDataParallel: call ember::distributed::init() before wrapping a model");
  EMBER_CHECK(options.bucket_cap_mb > 0, loc, "DistributedDataParallel: bucket_cap_mb must be positive, not ",
              options.bucket_cap_mb);
  // Every rank starts from rank 0's weights and buffers.
  for (auto& [name, t] : module_->state()) distributed::broadcast(t, 0, loc);
  std::vector<std::string> names;
  std::vector<Tensor> params;
  for (auto& [name, p] : named_parameters())
    if (p.requires_grad()) {
      names.push_back(name);
      params.push_back(p);
    }
  reducer_ = std::make_shared<Reducer>(names, params, options, loc);
  std::weak_ptr<Reducer> weak = reducer_;
  for (size_t i = 0; i < params.size(); ++i)
    params[i].register_post_accumulate_grad_hook(
        [weak, i](const Tensor&) {
          if (auto reducer = weak.lock()) reducer->on_gradient(static_cast<int64_t>(i));
        },
        loc);
}

Tensor DistributedDataParallel::forward(const Tensor& x) {
  auto* layer = dynamic_cast<Layer*>(module_.get());
  EMBER_CHECK(layer != nullptr, Loc::current(), "DistributedDataParallel: the wrapped ", module_->type_name(),
              " does not take one tensor; call its forward through module()");
  return (*layer)(x);
}

DistributedDataParallel::NoSync::NoSync(DistributedDataParallel& ddp)
    : reducer_(*ddp.reducer_), previous_(ddp.reducer_->syncing()) {
  reducer_.set_syncing(false);
}
DistributedDataParallel::NoSync::~NoSync() { reducer_.set_syncing(previous_); }

std::vector<std::vector<int64_t>> DistributedDataParallel::bucket_layout() const {
  return reducer_->layout();
}
const DistributedDataParallelStats& DistributedDataParallel::stats() const { return reducer_->stats(); }

std::string DistributedDataParallel::extra_repr() const {
  return "world_size=" + std::to_string(distributed::world_size()) +
         ", buckets=" + std::to_string(reducer_->num_buckets());
}

void save_on_rank_zero(const Module& module, const std::string& path, const Loc& loc) {
  // A failed save on rank 0 must not leave the others waiting: its outcome
  // is shared before anyone goes on.
  Tensor failed = zeros({1}, DType::Int32);
  std::string error;
  if (distributed::rank() == 0) {
    try {
      save(module, path, loc);
    } catch (const Error& e) {
      error = e.what();
      failed.fill_(1);
    }
  }
  distributed::broadcast(failed, 0, loc);
  if (failed.item<int32_t>() != 0)
    throw_error("save_on_rank_zero: rank 0 could not save " + path + (error.empty() ? "" : ": " + error),
                loc);
}

}  // namespace ember::nn
