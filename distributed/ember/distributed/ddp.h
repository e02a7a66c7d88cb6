// ddp.h - data-parallel training: each rank runs the same model on its own
// shard of the batch, and gradients are averaged over ranks during backward.
//
//   ember::distributed::init();
//   auto model = std::make_shared<nn::DistributedDataParallel>(make_model());
//   optim::SGD opt(model->parameters(), {.lr = 0.1});
//   for (...) {                                  // this rank's shard of each batch
//     opt.zero_grad();
//     nn::cross_entropy((*model)(x), y).backward();  // gradients averaged here
//     opt.step();                                    // the same step on every rank
//   }
//
// Note [Gradient buckets]
// As in PyTorch's DDP, parameters are grouped into buckets of about
// bucket_cap_mb, in reverse order of registration (backward produces the
// last layers' gradients first). A parameter's post-accumulate hook marks
// it ready; when a bucket's last gradient is ready its gradients are copied
// into one flat buffer and its all-reduce (mean) starts, non-blocking, while
// backward goes on with earlier layers. Buckets start strictly in index
// order on every rank (a ready bucket waits for the ones before it), since
// MPI pairs collectives by order alone. At the end of backward (an autograd
// callback) the remaining all-reduces are waited for and the averaged
// gradients written back into each .grad, so after backward() every rank
// holds the same gradients and the optimizer takes the same step.
//
// A parameter that got no gradient leaves its bucket unfinished: by default
// an error naming it (as PyTorch's), or with find_unused_parameters its
// contribution counts as zeros. Inside no_sync() nothing is communicated
// and gradients accumulate locally; the next backward outside it averages
// the accumulated sums (gradient accumulation over several micro-batches).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ember/distributed/distributed.h"
#include "ember/nn/module.h"

namespace ember::nn {

struct DistributedDataParallelOptions {
  double bucket_cap_mb = 25;
  // Parameters without a gradient in a backward count as zeros instead of
  // being an error.
  bool find_unused_parameters = false;
};

struct DistributedDataParallelStats {
  int64_t backwards = 0;    // backwards that averaged gradients
  int64_t all_reduces = 0;  // bucket all-reduces started
  double wait_ms = 0;       // time backward spent waiting for them at its end
};

class DistributedDataParallel : public Layer {
  // The buckets and the state of the backward now running; the parameters'
  // hooks hold it weakly, so a model that outlives its DDP wrapper trains on
  // without it.
  class Reducer;

 public:
  // Broadcasts rank 0's parameters and buffers to every rank.
  explicit DistributedDataParallel(std::shared_ptr<Module> module,
                                   DistributedDataParallelOptions options = {},
                                   const Loc& loc = Loc::current());

  // The wrapped module's forward (it must be a one-tensor Layer; call
  // module() directly for others: the hooks are on the parameters).
  Tensor forward(const Tensor& x) override;
  const std::shared_ptr<Module>& module() const { return module_; }

  // While the returned guard lives, backward accumulates gradients locally.
  class NoSync {
   public:
    explicit NoSync(DistributedDataParallel& ddp);
    ~NoSync();
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    Reducer& reducer_;
    bool previous_;
  };
  NoSync no_sync() { return NoSync(*this); }

  // Parameter indices (into parameters()) of each bucket, in launch order.
  std::vector<std::vector<int64_t>> bucket_layout() const;
  const DistributedDataParallelStats& stats() const;
  std::string extra_repr() const override;

 private:
  std::shared_ptr<Module> module_;
  std::shared_ptr<Reducer> reducer_;
};

// Saves `module` (safetensors, written to a temporary and renamed) on rank 0
// only, then waits until it is there, so that any rank may load it next.
// Every rank must call it.
void save_on_rank_zero(const Module& module, const std::string& path, const Loc& loc = Loc::current());

}  // namespace ember::nn
