// sgemm.cpp - see sgemm.h, Note [oneDNN for sgemm].
#include "ember/kernels/sgemm.h"

#include <cblas.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>

#include <tuple>
#include "ember/threading.h"

namespace ember::kernels {

namespace {

// Below this many multiply-adds oneDNN's per-call set-up (memory objects,
// the cache look-up) costs more than OpenBLAS's whole call.
constexpr int64_t kOneDnnMinWork = 64 * 64 * 64;
constexpr size_t kMaxCachedShapes = 512;

struct Shape {
  bool trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  bool operator<(const Shape& o) const {
    return std::tie(trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta) <
           std::tie(o.trans_a, o.trans_b, o.m, o.n, o.k, o.lda, o.ldb, o.ldc, o.alpha, o.beta);
  }
};

struct Primitive {
  dnnl::memory::desc a, b, c, scratchpad;
  dnnl::matmul matmul;
  uint64_t serial = 0;  // unique per primitive made (Note [oneDNN calls without set-up])
};

struct OneDnn {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::mutex mutex;
  std::map<Shape, std::shared_ptr<const Primitive>> primitives;
};

OneDnn& onednn() {
  static OneDnn* instance = new OneDnn();  // never destroyed: in use until exit
  return *instance;
}

// dst = alpha * a @ b + beta * dst: output scales and a sum post-op.
// Note [oneDNN scratchpads are per thread]
// In its default (library) scratchpad mode, Debian's oneDNN 2.6 gives all
// primitives one scratchpad and lets a primitive run only on the thread that
// created it; ember shares each primitive between threads (one per shape),
// and two threads multiplying at once got wrong products (a 32x784 by
// 784x1024 sgemm from 2 threads: 3,955 of 4,000 results wrong, AMD Zen 5).
// So every primitive takes a user scratchpad, and each calling thread passes
// its own (kept and grown, so a thread allocates only when a larger one is
// needed). OpenMP workers inside one execution share their caller's
// scratchpad as oneDNN intends; a GEMM called from inside a worker (a
// row-parallel compiled graph) is on another OS thread, with its own.
dnnl::primitive_attr attributes(const Shape& s) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (s.alpha != 1) attr.set_output_scales(0, {s.alpha});
  if (s.beta != 0) {
    dnnl::post_ops ops;
    ops.append_sum(s.beta);
    attr.set_post_ops(ops);
  }
  return attr;
}

// The product with the weights in `weights` (the user's layout, or
// format_tag::any for oneDNN's own); strides say transposed and leading
// dims, so no other operand is copied.
Primitive make_primitive(const OneDnn& d, const Shape& s, const dnnl::memory::desc& weights) {
  using dims = dnnl::memory::dims;
  const auto f32 = dnnl::memory::data_type::f32;
  const dnnl::memory::desc a({s.m, s.k}, f32, s.trans_a ? dims{1, s.lda} : dims{s.lda, 1});
  const dnnl::memory::desc c({s.m, s.n}, f32, dims{s.ldc, 1});
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, weights, c), attributes(s), d.engine);
  static std::atomic<uint64_t> serials{0};
  return {a, pd.weights_desc(), c, pd.scratchpad_desc(), dnnl::matmul(pd), ++serials};
}

dnnl::memory::desc user_weights(const Shape& s) {
  using dims = dnnl::memory::dims;
  return {{s.k, s.n}, dnnl::memory::data_type::f32, s.trans_b ? dims{1, s.ldb} : dims{s.ldb, 1}};
}

// This thread's scratchpad, at least `bytes` long (Note [oneDNN scratchpads
// are per thread]).
void* thread_scratchpad(size_t bytes) {
  struct Buffer {
    void* data = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  if (buffer.size < bytes) {
    const size_t size = (bytes + 4095) / 4096 * 4096;
    void* data = std::aligned_alloc(64, size);
    if (!data) throw std::bad_alloc();
    std::free(buffer.data);
    buffer.data = data;
    buffer.size = size;
  }
  return buffer.data;
}

// Note [oneDNN calls without set-up]
// The attention kernel makes thousands of small GEMM calls per training
// step (64x64 by 64: 3.3 us each, AMD Zen 5), where creating a stream and
// three memory objects per call cost about a microsecond more. So each
// thread keeps one stream, and one set of memory objects per primitive it
// runs, pointing them at the call's buffers. The set is found by the
// primitive's serial number, never its address: a primitive freed and
// another made at the same address must not find the old descriptors.
struct BoundMemory {
  dnnl::memory a, b, c, scratchpad;
};

BoundMemory& bound_memory(const OneDnn& d, const Primitive& p) {
  constexpr size_t kMaxBound = 1024;  // past it, start again: primitives of old shapes may be gone
  thread_local std::map<uint64_t, BoundMemory> bound;
  auto it = bound.find(p.serial);
  if (it != bound.end()) return it->second;
  if (bound.size() >= kMaxBound) bound.clear();
  return bound
      .emplace(p.serial, BoundMemory{dnnl::memory(p.a, d.engine, DNNL_MEMORY_NONE),
                                     dnnl::memory(p.b, d.engine, DNNL_MEMORY_NONE),
                                     dnnl::memory(p.c, d.engine, DNNL_MEMORY_NONE),
                                     dnnl::memory(p.scratchpad, d.engine, DNNL_MEMORY_NONE)})
      .first->second;
}

// b: the user's weights, or null for `packed` ones.
void execute(const OneDnn& d, const Primitive& p, const float* a, const float* b, const dnnl::memory* packed,
             float* c) {
  thread_local dnnl::stream stream(d.engine);
  BoundMemory& m = bound_memory(d, p);
  m.a.set_data_handle(const_cast<float*>(a));
  if (!packed) m.b.set_data_handle(const_cast<float*>(b));
  m.c.set_data_handle(c);
  m.scratchpad.set_data_handle(thread_scratchpad(p.scratchpad.get_size()));
  p.matmul.execute(stream, {{DNNL_ARG_SRC, m.a},
                            {DNNL_ARG_WEIGHTS, packed ? *packed : m.b},
                            {DNNL_ARG_DST, m.c},
                            {DNNL_ARG_SCRATCHPAD, m.scratchpad}});
  stream.wait();
}

bool onednn_sgemm(const Shape& s, const float* a, const float* b, float* c) {
  OneDnn& d = onednn();
  std::shared_ptr<const Primitive> p;  // kept alive past a clear() by another thread
  {
    std::lock_guard<std::mutex> lock(d.mutex);
    auto it = d.primitives.find(s);
    if (it == d.primitives.end()) {
      if (d.primitives.size() >= kMaxCachedShapes) d.primitives.clear();
      it = d.primitives.emplace(s, std::make_shared<const Primitive>(make_primitive(d, s, user_weights(s))))
               .first;
    }
    p = it->second;
  }
  execute(d, *p, a, b, nullptr, c);
  return true;
}

// The product with the weights reordered into the layout oneDNN picks.
Primitive make_packed(const OneDnn& d, const Shape& s, const float* b, dnnl::memory& packed) {
  Primitive p =
      make_primitive(d, s, {{s.k, s.n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any});
  dnnl::memory user(user_weights(s), d.engine, const_cast<float*>(b));
  dnnl::memory reordered(p.b, d.engine);
  dnnl::stream stream(d.engine);
  dnnl::reorder(user, reordered).execute(stream, user, reordered);
  stream.wait();
  packed = reordered;
  return p;
}

}  // namespace

struct WeightPacks {
  struct Entry {
    uint64_t stamp = 0;
    Primitive primitive;  // set once packed
    dnnl::memory weights;
  };
  mutable std::mutex mutex;
  std::map<std::pair<Shape, const void*>, Entry> entries;
};

std::shared_ptr<WeightPacks> make_weight_packs() { return std::make_shared<WeightPacks>(); }

int64_t packed_operands(const WeightPacks& packs) {
  std::lock_guard<std::mutex> lock(packs.mutex);
  int64_t n = 0;
  for (const auto& [key, e] : packs.entries) n += e.weights ? 1 : 0;
  return n;
}

namespace {
thread_local const StableOperands* tl_stable = nullptr;
}  // namespace

StableOperands::StableOperands(WeightPacks& packs,
                               const std::vector<std::pair<const void*, uint64_t>>& stamps)
    : previous_(tl_stable), packs_(packs), stamps_(stamps) {
  tl_stable = this;
}
StableOperands::~StableOperands() { tl_stable = previous_; }

const uint64_t* StableOperands::stamp_of(const void* address) const {
  for (const auto& [a, stamp] : stamps_)
    if (a == address) return &stamp;
  return nullptr;
}

namespace {

// b from the current StableOperands scope, packed once its stamp holds
// over two calls (Note [Pre-packed weights]); false: not such an operand.
bool packed_sgemm(const Shape& s, const float* a, const float* b, float* c) {
  const StableOperands* scope = tl_stable;
  const uint64_t* stamp = scope ? scope->stamp_of(b) : nullptr;
  if (!stamp) return false;
  OneDnn& d = onednn();
  WeightPacks& packs = scope->packs();
  Primitive p;
  dnnl::memory weights;
  {
    std::lock_guard<std::mutex> lock(packs.mutex);
    WeightPacks::Entry& e = packs.entries[{s, b}];
    if (e.stamp != *stamp) {  // first sight, or changed since: plain this time
      e = WeightPacks::Entry{*stamp, {}, {}};
      return false;
    }
    if (!e.weights) {  // stored only once both exist (make_packed may throw)
      dnnl::memory packed;
      e.primitive = make_packed(d, s, b, packed);
      e.weights = packed;
    }
    p = e.primitive;
    weights = e.weights;
  }
  execute(d, p, a, nullptr, &weights, c);
  return true;
}

}  // namespace

namespace {

bool onednn_any(const Shape& s, const float* a, const float* b, float* c) {
  try {
    return packed_sgemm(s, a, b, c) || onednn_sgemm(s, a, b, c);
  } catch (const dnnl::error&) {
    return false;  // a layout oneDNN declines: OpenBLAS takes it
  }
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  adopt_thread_count();  // Note [Every thread's OpenMP count]
  if (k > 0 && m * n * k >= kOneDnnMinWork &&
      onednn_any({trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta}, a, b, c))
    return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda),
              b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace ember::kernels

extern "C" void ember_cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                                  const float* a, int lda, const float* b, int ldb, float beta, float* c,
                                  int ldc) {
  if (order == CblasRowMajor) {
    ember::kernels::sgemm(trans_a == CblasTrans, trans_b == CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta,
                          c, ldc);
  } else {  // column-major C is row-major C^T = op(b)^T op(a)^T
    ember::kernels::sgemm(trans_b == CblasTrans, trans_a == CblasTrans, n, m, k, alpha, b, ldb, a, lda, beta,
                          c, ldc);
  }
}
