// ops.h - the functional API: every op as a free function.
//
// Each takes a defaulted `Loc` so that errors, anomaly reports and graph dumps
// name the caller's line. Tensor methods (tensor.h) forward here. Ops whose
// API is the op itself (add, matmul, softmax, ...) are declared by the
// generated api.h from the op schema; the ones below take more shaping of
// their arguments (defaults, optional parts, -1 sizes, option structs).
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "ember/api.h"
#include "ember/op_table.h"
#include "ember/tensor.h"

namespace ember {

// --- creation (creation.cpp) -----------------------------------------------
Tensor empty(IntArrayRef shape, DType dtype = DType::Float32, const Loc& loc = Loc::current());
Tensor zeros(IntArrayRef shape, DType dtype = DType::Float32, const Loc& loc = Loc::current());
Tensor ones(IntArrayRef shape, DType dtype = DType::Float32, const Loc& loc = Loc::current());
Tensor full(IntArrayRef shape, Scalar value, DType dtype = DType::Float32, const Loc& loc = Loc::current());
Tensor zeros_like(const Tensor& t, const Loc& loc = Loc::current());
Tensor ones_like(const Tensor& t, const Loc& loc = Loc::current());
Tensor full_like(const Tensor& t, Scalar value, const Loc& loc = Loc::current());
// [start, end) in steps of `step`; int64 unless a bound or the step is fractional.
Tensor arange(Scalar end, const Loc& loc = Loc::current());
Tensor arange(Scalar start, Scalar end, Scalar step = 1, const Loc& loc = Loc::current());
Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype, const Loc& loc = Loc::current());
Tensor linspace(double start, double end, int64_t steps, DType dtype = DType::Float32,
                const Loc& loc = Loc::current());
Tensor eye(int64_t n, int64_t m = -1, DType dtype = DType::Float32, const Loc& loc = Loc::current());
Tensor rand(IntArrayRef shape, DType dtype = DType::Float32, const Loc& loc = Loc::current());
Tensor randn(IntArrayRef shape, DType dtype = DType::Float32, const Loc& loc = Loc::current());
Tensor randint(int64_t low, int64_t high, IntArrayRef shape, DType dtype = DType::Int64,
               const Loc& loc = Loc::current());
Tensor rand_like(const Tensor& t, const Loc& loc = Loc::current());
Tensor randn_like(const Tensor& t, const Loc& loc = Loc::current());
// A 0-d tensor holding a C++ number (a "wrapped number" for type promotion).
Tensor scalar_tensor(Scalar value, const Loc& loc = Loc::current());
// Copies `values` into a new tensor of `shape` (default: 1-D).
template <typename T>
Tensor tensor(const std::vector<T>& values, IntArrayRef shape = {}, const Loc& loc = Loc::current());
template <typename T>
Tensor tensor(std::initializer_list<T> values, IntArrayRef shape = {}, const Loc& loc = Loc::current()) {
  return tensor(std::vector<T>(values), shape, loc);
}
// Wraps memory the caller owns (no copy); `on_free` runs when the last tensor
// using it dies. The caller keeps `data` valid until then.
Tensor from_blob(void* data, IntArrayRef shape, DType dtype, std::function<void()> on_free = {},
                 const Loc& loc = Loc::current());

// Global random generator, seedable (random.cpp).
void manual_seed(uint64_t seed);

// --- elementwise --------------------------------------------------------------
// A binary op with a C++ number on one side (`scalar_first`: number op tensor).
Tensor binary_scalar(OpId op, const Tensor& a, Scalar b, bool scalar_first, const Loc& loc = Loc::current());
Tensor unary(OpId op, const Tensor& x, const Loc& loc = Loc::current());
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max,
             const Loc& loc = Loc::current());

// --- reductions ------------------------------------------------------------------
Tensor sum(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false, const Loc& loc = Loc::current());
Tensor mean(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false, const Loc& loc = Loc::current());

// --- linear algebra and nn ----------------------------------------------------------
// y = x @ weight^T + bias (weight [out, in], like torch.nn.functional.linear).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const Loc& loc = Loc::current());
Tensor layer_norm(const Tensor& x, IntArrayRef normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5, const Loc& loc = Loc::current());
inline constexpr int64_t kIgnoreIndex = -100;
// logits [N, C], targets [N] of int64/int32 class indices.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, Reduction reduction = Reduction::Mean,
                     int64_t ignore_index = kIgnoreIndex, const Loc& loc = Loc::current());
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, Reduction reduction = Reduction::Mean,
                int64_t ignore_index = kIgnoreIndex, const Loc& loc = Loc::current());
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0, const Loc& loc = Loc::current());
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0, const Loc& loc = Loc::current());
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0,
                          const Loc& loc = Loc::current());
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0, const Loc& loc = Loc::current());
struct Conv2dOptions {
  std::pair<int64_t, int64_t> stride{1, 1}, padding{0, 0}, dilation{1, 1};
};
// x [N, C, H, W], weight [O, C, kh, kw], bias [O] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Conv2dOptions options = {},
              const Loc& loc = Loc::current());
struct Pool2dOptions {
  std::pair<int64_t, int64_t> kernel{2, 2};
  std::optional<std::pair<int64_t, int64_t>> stride;  // default: the kernel size
  std::pair<int64_t, int64_t> padding{0, 0};
};
Tensor max_pool2d(const Tensor& x, Pool2dOptions options, const Loc& loc = Loc::current());
Tensor avg_pool2d(const Tensor& x, Pool2dOptions options, const Loc& loc = Loc::current());
// Zeroes each element with probability p when training, scales the rest by 1/(1-p).
Tensor dropout(const Tensor& x, double p, bool training, const Loc& loc = Loc::current());
// [..., num_classes] of float32: 1 where the class is the index.
Tensor one_hot(const Tensor& indices, int64_t num_classes, const Loc& loc = Loc::current());
// softmax(q k^T * scale + mask) v, as PyTorch's
// F.scaled_dot_product_attention (without dropout): q [..., T, D],
// k [..., S, D], v [..., S, Dv], with up to two leading dims (batch, heads)
// -> [..., T, Dv]. attn_mask, if defined: bool (true where a query may
// attend) or float (added to the scores), broadcast to [..., T, S];
// is_causal: query i attends to keys 0..i; scale: 1 / sqrt(D) by default.
// Tiled: the [T, S] scores are never stored whole (Note [Tiled attention]).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask = {}, bool is_causal = false,
                                    std::optional<double> scale = std::nullopt,
                                    const Loc& loc = Loc::current());
// The whole-sequence LSTM, PyTorch's gates (i, f, g, o) in one op whose
// kernel runs the time loop (Note [Fused LSTM]): x [T, B, I],
// w_ih [4H, I], w_hh [4H, H], biases [4H] (undefined: none), and the
// initial state h0, c0 [B, H] (undefined: zeros; both or neither) ->
// {h, c} of every step, each [T, B, H]; the final state is their last step.
std::pair<Tensor, Tensor> lstm(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                               const Tensor& b_hh, const Tensor& h0 = {}, const Tensor& c0 = {},
                               const Loc& loc = Loc::current());
// The whole-sequence GRU, PyTorch's gates (r, z, n) in one op whose kernel
// runs the time loop (Note [Fused GRU]): x [T, B, I], w_ih [3H, I],
// w_hh [3H, H], biases [3H] (undefined: none), the initial state h0 [B, H]
// (undefined: zeros) -> h of every step [T, B, H]; the final state is its
// last step.
Tensor gru(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
           const Tensor& h0 = {}, const Loc& loc = Loc::current());
// x with `value` where `mask` (bool, broadcast to x's shape) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value, const Loc& loc = Loc::current());
// The lower (tril) or upper (triu) triangle of the last two dims, from the
// `diagonal`-th diagonal (0: the main one, > 0 above it); zeros elsewhere.
Tensor tril(const Tensor& x, int64_t diagonal = 0, const Loc& loc = Loc::current());
Tensor triu(const Tensor& x, int64_t diagonal = 0, const Loc& loc = Loc::current());

// --- threads (threading.cpp) --------------------------------------------------------
// Threads of the kernels and of OpenBLAS together. Default: the machine's
// cores, or EMBER_NUM_THREADS.
void set_num_threads(int n);
int get_num_threads();

}  // namespace ember
