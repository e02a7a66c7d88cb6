// distributed.cpp - see distributed.h.
#include "ember/distributed/distributed.h"

#include <mpi.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <string>

#include "ember/collectives.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember::distributed {
namespace {

struct World {
  bool initialized = false;
  bool mpi = false;  // false: a world of one, no MPI
  int rank = 0, size = 1;
  // Every MPI call holds it (MPI_THREAD_SERIALIZED): a collective may be
  // started and waited for from different threads (a server's clients).
  std::mutex mutex;
};

std::atomic<int64_t> g_collective_ns{0};

// Adds the scope's wall time to collective_ms().
class CollectiveTimer {
 public:
  CollectiveTimer() : start_(std::chrono::steady_clock::now()) {}
  ~CollectiveTimer() {
    g_collective_ns +=
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_)
            .count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

World& world() {
  static World* w = new World;  // never destroyed: Works may outlive main's statics
  return *w;
}

void check_initialized(const char* op, const Loc& loc) {
  EMBER_CHECK(world().initialized, loc, op,
              ": ember::distributed::init() has not been called (call it once at the start of main)");
}

[[noreturn]] void mpi_failed(const char* op, int code, const Loc& loc) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw_error(std::string(op) + ": MPI failed: " + std::string(text, length), loc);
}

void check_mpi(const char* op, int code, const Loc& loc) {
  if (code != MPI_SUCCESS) mpi_failed(op, code, loc);
}

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::Bool:
      return MPI_UINT8_T;
    case DType::Int32:
      return MPI_INT32_T;
    case DType::Int64:
      return MPI_INT64_T;
    case DType::Float32:
      return MPI_FLOAT;
    case DType::Float64:
      return MPI_DOUBLE;
  }
  return MPI_DATATYPE_NULL;
}

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
      return "sum";
    case ReduceOp::Mean:
      return "mean";
    case ReduceOp::Max:
      return "max";
  }
  return "?";
}

// The MPI reduction of `op` on `dtype`, or an error: a mean needs a float
// dtype, bools have only max (any rank's true).
MPI_Op mpi_op(const char* name, ReduceOp op, DType dtype, const Loc& loc) {
  EMBER_CHECK(op == ReduceOp::Max || dtype != DType::Bool, loc, name, ": a ", op_name(op),
              " of bool tensors is not defined (use ReduceOp::Max for 'any rank')");
  EMBER_CHECK(op != ReduceOp::Mean || is_floating(dtype), loc, name, ": a mean of ", dtype_name(dtype),
              " tensors would truncate; reduce with Sum and divide, or use a float dtype");
  return op == ReduceOp::Max ? MPI_MAX : MPI_SUM;
}

// Note [Ranks agree before they communicate]
// MPI pairs collectives by order alone: one rank passing [4, 3] while
// another passes [3, 4] would "succeed" with mixed-up data, and different
// element counts can hang or corrupt memory. So each collective first
// all-reduces (max) a hash of its arguments and its negation: the two agree
// exactly when every rank hashed the same. One small extra all-reduce
// (microseconds over shared memory) buys an error on every rank at once.
void agree(const char* name, const std::vector<int64_t>& signature, const Tensor* t, const Loc& loc) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t v : signature) h = (h ^ static_cast<uint64_t>(v)) * 1099511628211ull;
  const int64_t mine = static_cast<int64_t>(h >> 1);  // 63 bits: negation cannot overflow
  int64_t both[2] = {mine, -mine};
  {
    std::lock_guard<std::mutex> lock(world().mutex);
    check_mpi(name, MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD), loc);
  }
  if (both[0] == -both[1]) return;
  std::string mine_text = "no tensor";
  if (t) mine_text = detail::concat(dtype_name(t->dtype()), " ", t->sizes());
  throw_error(detail::concat(name, ": the ranks passed different arguments (rank ", world().rank, " of ",
                             world().size, ": ", mine_text,
                             "); every rank must pass the same shape, dtype, op and root"),
              loc);
}

std::vector<int64_t> signature_of(int kind, const Tensor& t, int64_t extra) {
  std::vector<int64_t> s{kind, static_cast<int64_t>(t.dtype()), extra, t.dim()};
  for (int64_t d : t.sizes()) s.push_back(d);
  return s;
}

// Waits for `request` without holding the lock while it is pending, so
// other threads can start and finish their own collectives meanwhile.
void wait_for(MPI_Request& request, const char* name, const Loc& loc) {
  CollectiveTimer timer;
  while (true) {
    int done = 0;
    {
      std::lock_guard<std::mutex> lock(world().mutex);
      check_mpi(name, MPI_Test(&request, &done, MPI_STATUS_IGNORE), loc);
    }
    if (done) return;
    sched_yield();
  }
}

// Note [One rank's failure stops them all] (distributed.h).
void abort_all_ranks() {
  std::string what = "an unknown exception";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
  }
  std::fprintf(stderr, "ember: rank %d of %d failed: %s\nember: stopping every rank (MPI_Abort)\n",
               world().rank, world().size, what.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

struct Work::State {
  MPI_Request request = MPI_REQUEST_NULL;
  const char* name = "";
  std::vector<Tensor> keep;      // buffers MPI reads or writes until done
  std::function<void()> finish;  // after completion: copy back, divide for a mean
  bool done = false;
};

Work& Work::operator=(Work&& other) {
  if (this != &other) {
    if (state_ && !state_->done) wait();
    state_ = std::move(other.state_);
  }
  return *this;
}

Work::~Work() {
  if (!state_ || state_->done) return;
  try {
    wait();
  } catch (...) {  // a destructor cannot throw; MPI errors are fatal in practice
    std::fprintf(stderr, "ember: a collective failed while its Work was dropped\n");
  }
}

void Work::wait(const Loc& loc) {
  if (!state_ || state_->done) return;
  if (state_->request != MPI_REQUEST_NULL) wait_for(state_->request, state_->name, loc);
  state_->done = true;
  NoGradGuard no_grad;
  if (state_->finish) state_->finish();
  state_->keep.clear();
}

bool Work::is_completed() {
  if (!state_ || state_->done) return true;
  int done = 0;
  {
    std::lock_guard<std::mutex> lock(world().mutex);
    check_mpi(state_->name, MPI_Test(&state_->request, &done, MPI_STATUS_IGNORE), Loc::current());
  }
  if (done) wait();  // finishes (copy back) without blocking
  return done != 0;
}

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

void init(const Loc& loc) {
  World& w = world();
  if (w.initialized) return;
  if (!launched_by_mpi()) {  // a world of one: no MPI at all
    w.initialized = true;
    return;
  }
  int provided = 0;
  check_mpi("init", MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), loc);
  EMBER_CHECK(provided >= MPI_THREAD_SERIALIZED, loc,
              "init: this MPI library cannot be called from several threads (MPI_THREAD_SERIALIZED)");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  w.mpi = true;
  w.initialized = true;
  std::set_terminate(abort_all_ranks);
  std::atexit(finalize_at_exit);
}

bool is_initialized() { return world().initialized; }
double collective_ms() { return double(g_collective_ns.load()) / 1e6; }
int rank() { return world().rank; }
int world_size() { return world().size; }

namespace {

// A contiguous tensor holding `t`'s values that MPI may write: `t` itself
// (detached: a parameter's data is written without autograd) when it is
// contiguous, else a copy that `finish` writes back.
Tensor working_copy(const Tensor& t) { return t.is_contiguous() ? t.detach() : t.detach().contiguous(); }

Work started(const char* name, MPI_Request request, std::vector<Tensor> keep, std::function<void()> finish) {
  auto state = std::make_shared<Work::State>();
  state->request = request;
  state->name = name;
  state->keep = std::move(keep);
  state->finish = std::move(finish);
  return Work(state);
}

Work finished(std::function<void()> finish) {
  auto state = std::make_shared<Work::State>();
  state->name = "local";
  state->finish = std::move(finish);
  Work work(state);
  work.wait();
  return work;
}

}  // namespace

Work all_reduce_async(Tensor& t, ReduceOp op, const Loc& loc) {
  check_initialized("all_reduce", loc);
  EMBER_CHECK(t.defined(), loc, "all_reduce: the tensor is undefined");
  const MPI_Op mop = mpi_op("all_reduce", op, t.dtype(), loc);
  World& w = world();
  if (!w.mpi) return finished(nullptr);  // the sum, max or mean of one rank is itself
  agree("all_reduce", signature_of(1, t, static_cast<int64_t>(op)), &t, loc);
  Tensor target = t.detach(), buffer = working_copy(t);
  MPI_Request request;
  {
    std::lock_guard<std::mutex> lock(w.mutex);
    check_mpi("all_reduce",
              MPI_Iallreduce(MPI_IN_PLACE, buffer.data_ptr(), static_cast<int>(buffer.numel()),
                             mpi_type(t.dtype()), mop, MPI_COMM_WORLD, &request),
              loc);
  }
  const int size = w.size;
  return started("all_reduce", request, {buffer, target}, [=]() mutable {
    buffer.bump_version();
    if (op == ReduceOp::Mean) buffer.div_(size);
    if (buffer.data_ptr() != target.data_ptr()) target.copy_(buffer);
  });
}

namespace {

// Blocking: MPI_Allreduce itself, whose algorithms beat the non-blocking
// one's (7.4 MB over 2 ranks' shared memory: 0.57 ms against 0.80, AMD Zen
// 5). out[0, count) = `op` over the ranks of in[0, count) (in == out: in
// place), after the ranks agree on `signature`. What all_reduce() and the
// all_reduce op's kernel both do.
void all_reduce_blocking(const void* in, void* out, int64_t count, DType dtype, ReduceOp op,
                         const std::vector<int64_t>& signature, const Tensor* described, const Loc& loc) {
  const MPI_Op mop = mpi_op("all_reduce", op, dtype, loc);
  World& w = world();
  if (!w.mpi) {
    if (in != out) std::memcpy(out, in, static_cast<size_t>(count) * itemsize(dtype));
    return;
  }
  CollectiveTimer timer;
  agree("all_reduce", signature, described, loc);
  {
    std::lock_guard<std::mutex> lock(w.mutex);
    check_mpi("all_reduce",
              MPI_Allreduce(in == out ? MPI_IN_PLACE : in, out, static_cast<int>(count), mpi_type(dtype), mop,
                            MPI_COMM_WORLD),
              loc);
  }
  if (op != ReduceOp::Mean) return;
  if (dtype == DType::Float32)
    for (float *p = static_cast<float*>(out), *e = p + count; p < e; ++p) *p /= float(w.size);
  else
    for (double *p = static_cast<double*>(out), *e = p + count; p < e; ++p) *p /= double(w.size);
}

// The all_reduce op's kernel (Note [Collectives in compiled code]): what
// eager dispatch and compiled steps call, installed when this library loads.
// Its signature is a 1-D tensor's of `count` (signature_of): a rank whose
// compiled step fell back to eager all-reduces the same bucket through
// all_reduce() and must still pair with the ranks that run compiled code.
void all_reduce_kernel(const void* in, void* out, int64_t count, DType dtype, AllReduceOp op,
                       const Loc& loc) {
  check_initialized("all_reduce", loc);
  all_reduce_blocking(in, out, count, dtype, static_cast<ReduceOp>(static_cast<int64_t>(op)),
                      {1, static_cast<int64_t>(dtype), static_cast<int64_t>(op), 1, count}, nullptr, loc);
}

}  // namespace

void all_reduce(Tensor& t, ReduceOp op, const Loc& loc) {
  check_initialized("all_reduce", loc);
  EMBER_CHECK(t.defined(), loc, "all_reduce: the tensor is undefined");
  Tensor target = t.detach(), buffer = working_copy(t);
  all_reduce_blocking(buffer.data_ptr(), buffer.data_ptr(), buffer.numel(), t.dtype(), op,
                      signature_of(1, t, static_cast<int64_t>(op)), &t, loc);
  NoGradGuard no_grad;
  buffer.bump_version();
  if (buffer.data_ptr() != target.data_ptr()) target.copy_(buffer);
}

namespace {

const bool g_kernel_installed = (set_all_reduce_kernel(&all_reduce_kernel), true);

}  // namespace

Work broadcast_async(Tensor& t, int root, const Loc& loc) {
  check_initialized("broadcast", loc);
  EMBER_CHECK(t.defined(), loc, "broadcast: the tensor is undefined");
  World& w = world();
  EMBER_CHECK(root >= 0 && root < w.size, loc, "broadcast: root ", root, " is not a rank of a world of ",
              w.size);
  if (!w.mpi) return finished(nullptr);
  agree("broadcast", signature_of(2, t, root), &t, loc);
  Tensor target = t.detach(), buffer = working_copy(t);
  MPI_Request request;
  {
    std::lock_guard<std::mutex> lock(w.mutex);
    check_mpi("broadcast",
              MPI_Ibcast(buffer.data_ptr(), static_cast<int>(buffer.numel()), mpi_type(t.dtype()), root,
                         MPI_COMM_WORLD, &request),
              loc);
  }
  return started("broadcast", request, {buffer, target}, [=]() mutable {
    buffer.bump_version();
    if (buffer.data_ptr() != target.data_ptr()) target.copy_(buffer);
  });
}

void broadcast(Tensor& t, int root, const Loc& loc) { broadcast_async(t, root, loc).wait(loc); }

Work all_gather_async(const Tensor& t, Tensor& out, const Loc& loc) {
  check_initialized("all_gather", loc);
  EMBER_CHECK(t.defined(), loc, "all_gather: the tensor is undefined");
  World& w = world();
  Shape shape{w.size};
  for (int64_t d : t.sizes()) shape.push_back(d);
  out = empty(shape, t.dtype());
  if (!w.mpi) {
    Tensor result = out;
    return finished([result, t]() mutable { result.select(0, 0).copy_(t.detach()); });
  }
  agree("all_gather", signature_of(3, t, 0), &t, loc);
  Tensor input = t.detach().contiguous(), result = out;
  MPI_Request request;
  {
    std::lock_guard<std::mutex> lock(w.mutex);
    const int count = static_cast<int>(input.numel());
    check_mpi("all_gather",
              MPI_Iallgather(input.data_ptr(), count, mpi_type(t.dtype()), result.data_ptr(), count,
                             mpi_type(t.dtype()), MPI_COMM_WORLD, &request),
              loc);
  }
  return started("all_gather", request, {input, result}, [result] { result.bump_version(); });
}

Tensor all_gather(const Tensor& t, const Loc& loc) {
  Tensor out;
  all_gather_async(t, out, loc).wait(loc);
  return out;
}

Work reduce_scatter_async(const Tensor& t, Tensor& out, ReduceOp op, const Loc& loc) {
  check_initialized("reduce_scatter", loc);
  EMBER_CHECK(t.defined() && t.dim() >= 1, loc, "reduce_scatter: needs a tensor with at least one dim");
  const MPI_Op mop = mpi_op("reduce_scatter", op, t.dtype(), loc);
  World& w = world();
  EMBER_CHECK(t.size(0) % w.size == 0, loc, "reduce_scatter: dim 0 of ", t.sizes(),
              " does not split evenly over ", w.size, " ranks");
  Shape shape = t.sizes();
  shape[0] /= w.size;
  out = empty(shape, t.dtype());
  if (!w.mpi) {
    Tensor result = out;
    return finished([result, t]() mutable { result.copy_(t.detach()); });
  }
  agree("reduce_scatter", signature_of(4, t, static_cast<int64_t>(op)), &t, loc);
  Tensor input = t.detach().contiguous(), result = out;
  MPI_Request request;
  {
    std::lock_guard<std::mutex> lock(w.mutex);
    check_mpi("reduce_scatter",
              MPI_Ireduce_scatter_block(input.data_ptr(), result.data_ptr(), static_cast<int>(result.numel()),
                                        mpi_type(t.dtype()), mop, MPI_COMM_WORLD, &request),
              loc);
  }
  const int size = w.size;
  return started("reduce_scatter", request, {input, result}, [=]() mutable {
    result.bump_version();
    if (op == ReduceOp::Mean) result.div_(size);
  });
}

Tensor reduce_scatter(const Tensor& t, ReduceOp op, const Loc& loc) {
  Tensor out;
  reduce_scatter_async(t, out, op, loc).wait(loc);
  return out;
}

Work barrier_async(const Loc& loc) {
  check_initialized("barrier", loc);
  World& w = world();
  if (!w.mpi) return finished(nullptr);
  MPI_Request request;
  {
    std::lock_guard<std::mutex> lock(w.mutex);
    check_mpi("barrier", MPI_Ibarrier(MPI_COMM_WORLD, &request), loc);
  }
  return started("barrier", request, {}, nullptr);
}

void barrier(const Loc& loc) { barrier_async(loc).wait(loc); }

}  // namespace ember::distributed
