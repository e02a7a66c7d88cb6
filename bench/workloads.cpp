// workloads.cpp - each workload of WORKLOADS.md as eager ember code.
//
// Inputs are uniform in [-1, 1) from a fixed seed; weights are scaled by
// 1/sqrt(fan_in).
#include "bench/workloads.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <thread>

#include "common/gpt.h"
#include "ember/ember.h"
#include "ember/jit/jit.h"
#include "ember/kernels/sgemm.h"
#include "ember/tracer/trace.h"

namespace ember::bench {

namespace {

Tensor uniform_input(IntArrayRef shape, double scale = 1.0) { return (rand(shape) * 2 - 1) * scale; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

constexpr int kDispatchOps = 100000;

// Compiled mode: `fn` through jit::compile, as a user would call it; its
// warm-up (an eager call, then trace and compile) happens here, and a key
// that stayed eager is an error rather than an "eager" figure in the
// compiled column.
// Inference workloads run under no_grad; a training step needs grad mode.
Prepared compiled(const tracer::TracedFn& fn, const std::vector<Tensor>& inputs, int calls = 1,
                  bool grad = false) {
  std::optional<NoGradGuard> no_grad;
  if (!grad) no_grad.emplace();
  auto f = std::make_shared<jit::CompiledFunction>(jit::compile(fn));
  (*f)(inputs);
  (*f)(inputs);
  if (f->stats().compiles != 1) throw Error("not compiled: " + f->explain());
  return {[f, inputs, calls, grad] {
            std::optional<NoGradGuard> no_grad;
            if (!grad) no_grad.emplace();
            for (int i = 0; i < calls; ++i) (*f)(inputs);
          },
          f->stats().compile_ms};
}

// Eager mode: `fn` on `inputs` under no_grad.
Prepared eager(const tracer::TracedFn& fn, const std::vector<Tensor>& inputs, int calls = 1) {
  return {[fn, inputs, calls] {
    NoGradGuard no_grad;
    for (int i = 0; i < calls; ++i) fn(inputs);
  }};
}

Prepared in_mode(const std::string& mode, const tracer::TracedFn& fn, const std::vector<Tensor>& inputs,
                 int calls = 1) {
  return mode == "compiled" ? compiled(fn, inputs, calls) : eager(fn, inputs, calls);
}

Workload dispatch_workload() {
  return {"dispatch", "y = x + x on a [16] tensor, 100,000 times (no_grad scope)",
          [](const std::string& mode) {
            return in_mode(
                mode, [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + in[0]}; },
                {uniform_input({16})}, kDispatchOps);
          },
          [](nlohmann::json& line, double median_ms, int iters) {
            line["us_per_op"] = median_ms * 1000.0 / kDispatchOps;
            if (line["mode"] != "eager") return;
            // The same in grad mode, with inputs that do not require grad.
            Tensor x = uniform_input({16});
            const auto times = time_iterations(
                [x] {
                  for (int i = 0; i < kDispatchOps; ++i) {
                    Tensor y = x + x;
                  }
                },
                1, std::max(iters, 3));
            line["us_per_op_grad_mode"] = median(times) * 1000.0 / kDispatchOps;
          }};
}

constexpr double kMiB = 1024.0 * 1024.0;

Workload ew_chain_workload() {
  return {"ew_chain", "y = tanh(x * 1.5 + 0.5) * sigmoid(x) + x, x: [4194304]",
          [](const std::string& mode) {
            return in_mode(mode,
                           [](const std::vector<Tensor>& in) {
                             const Tensor& x = in[0];
                             return std::vector<Tensor>{(x * 1.5 + 0.5).tanh() * x.sigmoid() + x};
                           },
                           {uniform_input({4194304})});
          },
          [](nlohmann::json& line, double median_ms, int) {
            line["gb_per_s"] = 2 * 16 * kMiB / (median_ms * 1e6);  // read x, write y
          }};
}

// One op over ew_chain's 4M floats: the memory floor (copy) and where a
// single elementwise op stands against it (tanh: compute-bound; GELU: erf).
Workload single_op_workload(const std::string& name, Tensor (*op)(const Tensor&)) {
  return {name, name + "(x), x: [4194304] (against copy, the memory floor)",
          [op](const std::string& mode) {
            return in_mode(mode,
                           [op](const std::vector<Tensor>& in) { return std::vector<Tensor>{op(in[0])}; },
                           {uniform_input({4194304})});
          },
          [](nlohmann::json& line, double median_ms, int) {
            line["gb_per_s"] = 2 * 16 * kMiB / (median_ms * 1e6);  // read x, write y
          }};
}

Workload norm_softmax_workload() {
  return {"norm_softmax", "y = softmax(layer_norm(x, weight, bias), -1), x: [4096, 1024]",
          [](const std::string& mode) {
            Tensor w = uniform_input({1024}), b = uniform_input({1024});
            return in_mode(mode,
                           [w, b](const std::vector<Tensor>& in) {
                             return std::vector<Tensor>{layer_norm(in[0], {1024}, w, b).softmax(-1)};
                           },
                           {uniform_input({4096, 1024})});
          },
          [](nlohmann::json& line, double median_ms, int) {
            line["gb_per_s"] = 2 * 16 * kMiB / (median_ms * 1e6);
          }};
}

constexpr int64_t kMatmulN = 1024;

Workload matmul_workload() {
  return {"matmul", "C = A @ B, A and B: [1024, 1024]",
          [](const std::string& mode) {
            return in_mode(
                mode, [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].matmul(in[1])}; },
                {uniform_input({kMatmulN, kMatmulN}), uniform_input({kMatmulN, kMatmulN})});
          },
          [](nlohmann::json& line, double median_ms, int iters) {
            const double flops = 2.0 * kMatmulN * kMatmulN * kMatmulN;
            line["gflops"] = flops / (median_ms * 1e6);
            // The ceiling: the GEMM ember calls (oneDNN, Note [oneDNN for sgemm])
            // alone on buffers of the same size, in the same run.
            std::vector<float> a(kMatmulN * kMatmulN, 0.5f), b(kMatmulN * kMatmulN, 0.25f),
                c(kMatmulN * kMatmulN);
            const auto times = time_iterations(
                [&] {
                  kernels::sgemm(false, false, kMatmulN, kMatmulN, kMatmulN, 1.0f, a.data(), kMatmulN,
                                 b.data(), kMatmulN, 0.0f, c.data(), kMatmulN);
                },
                3, std::max(iters, 3));
            line["blas_median_ms"] = median(times);
            line["blas_gflops"] = flops / (median(times) * 1e6);
            line["fraction_of_blas"] = median(times) / median_ms;
          }};
}

// WORKLOADS.md's MLP: Linear(784,1024)-ReLU-Linear(1024,1024)-ReLU-Linear(1024,10).
// nn::Linear's default init is uniform in +-1/sqrt(fan_in), as the workloads ask.
std::shared_ptr<nn::Sequential> make_mlp() {
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(784, 1024), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(1024, 1024), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(1024, 10));
}
constexpr int64_t kBatch = 128;

Workload mlp_infer_workload() {
  return {"mlp_infer",
          "forward of the 784-1024-1024-10 MLP, batch 128",
          [](const std::string& mode) {
            auto model = make_mlp();
            return in_mode(
                mode, [model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0])}; },
                {uniform_input({kBatch, 784})});
          },
          {}};
}

// mlp_train's step: forward, cross-entropy, backward, SGD with momentum.
tracer::TracedFn mlp_training_step() {
  auto model = make_mlp();
  auto opt =
      std::make_shared<optim::SGD>(model->parameters(), optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
  return [model, opt](const std::vector<Tensor>& in) {
    opt->zero_grad();
    Tensor loss = nn::cross_entropy((*model)(in[0]), in[1]);
    loss.backward();
    opt->step();
    return std::vector<Tensor>{loss};
  };
}

std::vector<Tensor> mlp_batch(int64_t batch) {
  return {uniform_input({batch, 784}), randint(0, 10, {batch})};
}

Workload mlp_train_workload() {
  return {"mlp_train",
          "forward, cross-entropy, backward and SGD step (lr 0.01, momentum 0.9), batch 128",
          [](const std::string& mode) -> Prepared {
            tracer::TracedFn step = mlp_training_step();
            const std::vector<Tensor> inputs = mlp_batch(kBatch);
            if (mode == "compiled") return compiled(step, inputs, 1, /*grad=*/true);
            return {[step, inputs] { step(inputs); }};
          },
          {}};
}

// WORKLOADS.md's dynamic_batch: mlp_train's step with the batch cycling 128,
// 96, 64, 37, one size per iteration. Compiled: jit::compile with automatic
// dynamic dims, warmed up over two cycles (the compiles: `compiles` and
// `compile_ms` in the line). The compiled line also has the same cycle
// compiled once per size (automatic dynamic off: `static_median_ms`,
// `static_compiles`, `static_compile_ms`), and the dynamic compile alone
// (`dynamic_compile_ms`), for the comparisons in one run.
constexpr int64_t kCycle[] = {128, 96, 64, 37};

struct Cycle {
  std::vector<std::vector<Tensor>> batches;
  size_t next = 0;
  const std::vector<Tensor>& take() { return batches[next++ % batches.size()]; }
};

std::shared_ptr<Cycle> make_cycle() {
  auto c = std::make_shared<Cycle>();
  for (int64_t b : kCycle) c->batches.push_back(mlp_batch(b));
  return c;
}

// The step compiled with `options`, warmed up over three cycles (each size's
// first call is an eager warm-up until something is compiled, its second a
// trace); then every size must run natively.
std::shared_ptr<jit::CompiledFunction> warmed_up(const jit::Options& options, Cycle& cycle) {
  auto f = std::make_shared<jit::CompiledFunction>(jit::compile(mlp_training_step(), options));
  for (size_t i = 0; i < 3 * std::size(kCycle); ++i) (*f)(cycle.take());
  const int64_t hits = f->stats().hits;
  for (size_t i = 0; i < std::size(kCycle); ++i) (*f)(cycle.take());
  if (f->stats().hits != hits + static_cast<int64_t>(std::size(kCycle)))
    throw Error("dynamic_batch: not every size runs compiled: " + f->explain());
  return f;
}

Workload dynamic_batch_workload() {
  auto dynamic_stats = std::make_shared<jit::Stats>();
  return {"dynamic_batch", "mlp_train's step with the batch cycling 128, 96, 64, 37 (one size per call)",
          [dynamic_stats](const std::string& mode) -> Prepared {
            auto cycle = make_cycle();
            if (mode != "compiled") {
              tracer::TracedFn step = mlp_training_step();
              return {[step, cycle] { step(cycle->take()); }};
            }
            auto f = warmed_up(jit::Options{}, *cycle);
            *dynamic_stats = f->stats();
            return {[f, cycle] { (*f)(cycle->take()); }, dynamic_stats->compile_ms};
          },
          [dynamic_stats](nlohmann::json& line, double, int iters) {
            if (line["mode"] != "compiled") return;
            line["compiles"] = dynamic_stats->compiles;
            if (!dynamic_stats->each_compile_ms.empty())
              line["dynamic_compile_ms"] = dynamic_stats->each_compile_ms.back();
            jit::Options static_sizes;
            static_sizes.automatic_dynamic = false;
            auto cycle = make_cycle();
            auto f = warmed_up(static_sizes, *cycle);
            const auto times = time_iterations([&] { (*f)(cycle->take()); }, 0, std::max(iters, 8));
            line["static_median_ms"] = median(times);
            line["static_compiles"] = f->stats().compiles;
            line["static_compile_ms"] = f->stats().compile_ms;
          }};
}

// WORKLOADS.md's serve: mlp_infer's model at batch 1, called in a loop by C
// client threads at once, each call on one compute thread. ember-bench's
// thread count is C here; one iteration is kServeCalls calls per client,
// all clients together (threads started once, released per iteration).
constexpr int kServeCalls = 100;

class Clients {
 public:
  Clients(int count, std::function<void()> call)
      : call_(std::move(call)), start_(count + 1), done_(count + 1) {
    for (int c = 0; c < count; ++c)
      threads_.emplace_back([this] {
        NoGradGuard no_grad;
        while (true) {
          start_.arrive_and_wait();
          if (stop_) return;
          for (int i = 0; i < kServeCalls; ++i) call_();
          done_.arrive_and_wait();
        }
      });
  }
  ~Clients() {
    stop_ = true;
    start_.arrive_and_wait();
    for (auto& t : threads_) t.join();
  }
  void serve_once() {  // every client makes kServeCalls calls
    start_.arrive_and_wait();
    done_.arrive_and_wait();
  }

 private:
  std::function<void()> call_;
  std::barrier<> start_, done_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

Workload serve_workload() {
  return {"serve", "mlp_infer's model at batch 1, called by C client threads at once (1 compute thread each)",
          [](const std::string& mode) -> Prepared {
            const int clients = get_num_threads();  // ember-bench's --threads: the clients
            set_num_threads(1);
            auto model = make_mlp();
            const tracer::TracedFn forward = [model](const std::vector<Tensor>& in) {
              return std::vector<Tensor>{(*model)(in[0])};
            };
            const std::vector<Tensor> input{uniform_input({1, 784})};
            Prepared one = in_mode(mode, forward, input);
            for (int i = 0; i < 3; ++i) one.run();  // the weights packed before the clients start
            auto pool = std::make_shared<Clients>(clients, one.run);
            return {[pool] { pool->serve_once(); }, one.compile_ms};
          },
          [](nlohmann::json& line, double median_ms, int) {
            line["clients"] = line["threads"];
            line["calls_per_s"] = line["threads"].get<int>() * kServeCalls / (median_ms / 1000.0);
          }};
}

// WORKLOADS.md's gpt_infer and gpt_train: examples/common/gpt.h's model
// (2 pre-norm blocks, C 256, 4 heads of 64, T 128, vocab 64), batch 16. Its
// attention is scaled_dot_product_attention: the same arithmetic as the
// written-out q @ k^T / 8, causal mask, softmax, @ v of WORKLOADS.md.
constexpr int64_t kGptBatch = 16, kGptTokens = 128;

Workload gpt_infer_workload() {
  return {"gpt_infer",
          "forward (no grad) of a 2-block pre-norm GPT (C 256, 4 heads, T 128, vocab 64), tokens [16, 128]",
          [](const std::string& mode) {
            auto model = std::make_shared<examples::GPT>(examples::GPTConfig{});
            return in_mode(
                mode, [model](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model)(in[0])}; },
                {randint(0, 64, {kGptBatch, kGptTokens})});
          },
          {}};
}

Workload gpt_train_workload() {
  return {
      "gpt_train",
      "gpt_infer's model: forward, next-token cross-entropy, backward, AdamW (lr 3e-4, weight decay 0.01)",
      [](const std::string& mode) -> Prepared {
        auto model = std::make_shared<examples::GPT>(examples::GPTConfig{});
        auto opt = std::make_shared<optim::AdamW>(model->parameters(),
                                                  optim::AdamOptions{.lr = 3e-4, .weight_decay = 0.01});
        tracer::TracedFn step = [model, opt](const std::vector<Tensor>& in) {
          opt->zero_grad();
          Tensor loss = examples::next_token_loss((*model)(in[0]), in[1]);
          loss.backward();
          opt->step();
          return std::vector<Tensor>{loss};
        };
        const std::vector<Tensor> inputs{randint(0, 64, {kGptBatch, kGptTokens}),
                                         randint(0, 64, {kGptBatch, kGptTokens})};
        if (mode == "compiled") return compiled(step, inputs, 1, /*grad=*/true);
        return {[step, inputs] { step(inputs); }};
      },
      {}};
}

// Causal attention, batch 1, 4 heads of 64, T from EMBER_BENCH_ATTENTION_T
// (default 1024): the tiled kernel (Note [Tiled attention]) against the
// same attention written out with matmul, masked_fill and softmax, which
// holds the [4, T, T] scores in memory. peak_tensor_mb: the most memory
// ember's tensors held at once during the run.
int64_t attention_tokens() {
  const char* t = std::getenv("EMBER_BENCH_ATTENTION_T");
  return t ? std::atoll(t) : 1024;
}

Workload attention_workload(bool written_out) {
  return {written_out ? "attention_written" : "attention",
          written_out ? "causal attention as matmul, masked_fill, softmax, matmul: [1, 4, T, 64], T 1024"
                      : "causal scaled_dot_product_attention (tiled kernel): [1, 4, T, 64], T 1024",
          [written_out](const std::string& mode) {
            const int64_t t = attention_tokens();
            const tracer::TracedFn fused = [](const std::vector<Tensor>& in) {
              return std::vector<Tensor>{scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), true)};
            };
            const tracer::TracedFn written = [t](const std::vector<Tensor>& in) {
              const Tensor future = ones({t, t}, DType::Bool).triu(1);
              const Tensor scores = (in[0].matmul(in[1].transpose(-2, -1)) * 0.125)
                                        .masked_fill(future, -std::numeric_limits<double>::infinity());
              return std::vector<Tensor>{scores.softmax(-1).matmul(in[2])};
            };
            Prepared p = in_mode(
                mode, written_out ? written : fused,
                {uniform_input({1, 4, t, 64}), uniform_input({1, 4, t, 64}), uniform_input({1, 4, t, 64})});
            reset_peak_memory_stats();
            return p;
          },
          [](nlohmann::json& line, double, int) {
            line["tokens"] = attention_tokens();
            line["peak_tensor_mb"] = memory_stats().peak_allocated_bytes / (1024.0 * 1024.0);
          }};
}

}  // namespace

std::vector<double> time_iterations(const std::function<void()>& iteration, int warmup, int iters) {
  for (int i = 0; i < warmup; ++i) iteration();
  std::vector<double> times;
  for (int i = 0; i < iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    iteration();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return times;
}

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all = {
      dispatch_workload(),
      ew_chain_workload(),
      norm_softmax_workload(),
      matmul_workload(),
      mlp_infer_workload(),
      mlp_train_workload(),
      dynamic_batch_workload(),
      serve_workload(),
      gpt_infer_workload(),
      gpt_train_workload(),
      attention_workload(false),
      attention_workload(true),
      single_op_workload("copy", [](const Tensor& x) { return x.clone(); }),
      single_op_workload("tanh", [](const Tensor& x) { return x.tanh(); }),
      single_op_workload("gelu", [](const Tensor& x) { return x.gelu(); })};
  return all;
}

}  // namespace ember::bench
