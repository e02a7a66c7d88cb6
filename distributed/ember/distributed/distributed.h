// distributed.h - processes that train together: collectives over MPI.
//
// The same program runs as 1 process, as N processes on one machine, or
// on N machines: `mpirun -np N ./train` (README, "Beyond one machine").
//
//   ember::distributed::init();                 // from mpirun's environment
//   Tensor g = ...;
//   ember::distributed::all_reduce(g, ReduceOp::Mean);   // every rank: the mean
//
// Every collective must be called by every rank, in the same order, with
// tensors of the same shape and dtype: the ranks compare a signature of
// each call first, so a mismatch is an ember::Error on every rank (naming
// the op and the caller's line) instead of a hang or a wrong sum. Started
// without mpirun, init() makes a world of one process in which the
// collectives copy or do nothing, and no MPI is touched.
//
// Note [One rank's failure stops them all]
// A rank that dies of an uncaught exception would leave the others waiting
// in their next collective until a timeout of minutes. init() installs a
// terminate handler that prints the error with the rank and calls
// MPI_Abort, so mpirun stops every rank within a second or so.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ember/tensor.h"

namespace ember::distributed {

enum class ReduceOp { Sum, Mean, Max };

// From mpirun's environment; a world of one without it. Idempotent.
void init(const Loc& loc = Loc::current());
bool is_initialized();
// Whether this process was started by an MPI launcher (not a world of one by default).
bool launched_by_mpi();
int rank();
int world_size();

// A collective started by an *_async call. wait() blocks until it is done
// and its result is in place (and is a no-op after); a Work dropped without
// wait() waits in its destructor, so buffers are never freed under MPI.
class Work {
 public:
  struct State;
  explicit Work(std::shared_ptr<State> state) : state_(std::move(state)) {}
  Work() = default;
  Work(Work&&) = default;
  Work& operator=(Work&&);
  ~Work();
  void wait(const Loc& loc = Loc::current());
  bool is_completed();

 private:
  std::shared_ptr<State> state_;
};

// In place: every rank's `t` becomes the sum, mean or max over ranks.
void all_reduce(Tensor& t, ReduceOp op = ReduceOp::Sum, const Loc& loc = Loc::current());
Work all_reduce_async(Tensor& t, ReduceOp op = ReduceOp::Sum, const Loc& loc = Loc::current());
// In place: every rank's `t` becomes root's.
void broadcast(Tensor& t, int root = 0, const Loc& loc = Loc::current());
Work broadcast_async(Tensor& t, int root = 0, const Loc& loc = Loc::current());
// Every rank's `t`, stacked: [world_size, *t.shape].
Tensor all_gather(const Tensor& t, const Loc& loc = Loc::current());
Work all_gather_async(const Tensor& t, Tensor& out, const Loc& loc = Loc::current());
// `t` ([world_size * n, ...]) summed over ranks, and this rank's n rows of
// the sum: [n, ...].
Tensor reduce_scatter(const Tensor& t, ReduceOp op = ReduceOp::Sum, const Loc& loc = Loc::current());
Work reduce_scatter_async(const Tensor& t, Tensor& out, ReduceOp op = ReduceOp::Sum,
                          const Loc& loc = Loc::current());
void barrier(const Loc& loc = Loc::current());
Work barrier_async(const Loc& loc = Loc::current());

// Wall time this process has spent inside collectives (blocking calls, and
// waiting for non-blocking ones), compiled code's included: what a step
// loses to communication it did not overlap.
double collective_ms();

// Runs `fn` on rank 0 only (progress lines, checkpoints); other ranks skip it.
template <typename Fn>
void on_rank_zero(Fn&& fn) {
  if (rank() == 0) fn();
}

}  // namespace ember::distributed
