// op_sweep_test.cpp - every op of the table (ops.def): forward against a
// float64 reference over shapes with scalars, broadcasting, non-contiguous
// views, size-0 and size-1 dims, in float32 and float64; every
// differentiable op through gradcheck (and, where its formula is smooth,
// second order). A test fails for any op of the table without a kernel, a
// formula (unless marked NonDiff) or a case here.
#include <map>

#include "ember/dispatch.h"
#include "reference.h"

namespace ember::testing {
namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct SweepCase {
  std::function<void()> forward;   // EXPECTs against the reference
  std::function<void()> gradient;  // gradchecks; empty for NonDiff ops
};

// --- shapes -------------------------------------------------------------------

// Unary inputs: a scalar, size-1 and size-0 dims, and a non-contiguous view.
std::vector<Tensor> unary_inputs(double lo, double hi, DType dtype) {
  return {uniform({}, lo, hi, dtype),        uniform({1}, lo, hi, dtype),
          uniform({0, 3}, lo, hi, dtype),    uniform({3, 4}, lo, hi, dtype),
          uniform({5, 1, 3}, lo, hi, dtype), uniform({4, 3}, lo, hi, dtype).t(),
          uniform({40000}, lo, hi, dtype)};  // above the parallel grain
}

// Binary input pairs: equal shapes, broadcasting both ways, 0-d, size 0,
// non-contiguous, and one large pair.
std::vector<std::pair<Tensor, Tensor>> binary_inputs(double lo, double hi, DType dtype) {
  auto u = [&](IntArrayRef s) { return uniform(s, lo, hi, dtype); };
  return {{u({3, 4}), u({3, 4})},     {u({3, 4}), u({4})},
          {u({3, 1}), u({1, 4})},     {u({}), u({3})},
          {u({2, 0, 3}), u({3})},     {u({2, 3}), u({})},
          {u({4, 3}).t(), u({3, 4})}, {u({2, 3, 4}).permute({2, 0, 1}), u({2, 1})},
          {u({300, 200}), u({200})}};
}

// float32 against the reference within (atol, rtol); float64 within 1e-12.
void check_both(const std::function<Tensor(const Tensor&)>& run, const Tensor& x32, const Ref& want,
                double atol, double rtol, const std::string& what) {
  expect_close(run(x32), want, atol, rtol, what + " float32");
  expect_close(run(x32.to(DType::Float64)), want, 1e-12, 1e-12, what + " float64");
}

// --- elementwise ------------------------------------------------------------------

SweepCase unary_case(OpId op, std::function<double(double)> ref, double lo, double hi, double atol,
                     double rtol, bool second_order = true) {
  return {[=] {
            for (const Tensor& x : unary_inputs(lo, hi, DType::Float32)) {
              // The float64 reference is computed from the float32 values.
              check_both([op](const Tensor& t) { return unary(op, t); }, x, map(to_ref(x), ref), atol, rtol,
                         std::string(op_name(op)) + " " + to_string(x.sizes()));
            }
          },
          [=] {
            Tensor x = uniform({2, 3}, lo, hi, DType::Float64).requires_grad_();
            gradcheck([op](const std::vector<Tensor>& in) { return unary(op, in[0]); }, {x},
                      {.check_second_order = second_order});
          }};
}

SweepCase binary_case(OpId op, std::function<double(double, double)> ref, double lo, double hi, double atol,
                      double rtol, bool differentiable = true) {
  SweepCase c;
  c.forward = [=] {
    for (auto [a, b] : binary_inputs(lo, hi, DType::Float32)) {
      const std::string what =
          std::string(op_name(op)) + " " + to_string(a.sizes()) + " " + to_string(b.sizes());
      const Ref want =
          zip({to_ref(a), to_ref(b)}, [&](const std::vector<double>& v) { return ref(v[0], v[1]); });
      const Tensor got = dispatch(op, {a, b}, OpAttrs{}, Loc::current());
      expect_close(got, want, atol, rtol, what + " float32");
      const Tensor got64 =
          dispatch(op, {a.to(DType::Float64), b.to(DType::Float64)}, OpAttrs{}, Loc::current());
      expect_close(got64, want, 1e-12, 1e-12, what + " float64");
      // The C++-number forms: tensor op number, number op tensor.
      const double s = lo + 0.37 * (hi - lo);
      expect_close(binary_scalar(op, a, s, false),
                   map(to_ref(a), [&](double x) { return ref(x, double(float(s))); }), atol, rtol,
                   what + " with scalar rhs");
      expect_close(binary_scalar(op, b, s, true),
                   map(to_ref(b), [&](double x) { return ref(double(float(s)), x); }), atol, rtol,
                   what + " with scalar lhs");
    }
  };
  if (differentiable) {
    c.gradient = [=] {
      Tensor a = uniform({2, 3}, lo, hi, DType::Float64).requires_grad_();
      Tensor b = uniform({3}, lo, hi, DType::Float64).requires_grad_();  // broadcast
      auto f = [op](const std::vector<Tensor>& in) {
        return dispatch(op, {in[0], in[1]}, OpAttrs{}, Loc::current());
      };
      gradcheck(f, {a, b}, {.check_second_order = true});
      Tensor x = uniform({2, 3}, lo, hi, DType::Float64).requires_grad_();
      gradcheck(
          [op, lo, hi](const std::vector<Tensor>& in) {
            return binary_scalar(op, in[0], lo + 0.37 * (hi - lo), true);
          },
          {x});
    };
  }
  return c;
}

double gelu_ref(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double sigmoid_ref(double x) { return 1 / (1 + std::exp(-x)); }

// --- reductions -----------------------------------------------------------------------

struct ReduceConfig {
  std::vector<int64_t> dims;
  bool keepdim;
};
const std::vector<ReduceConfig> kReduceConfigs = {{{}, false},   {{0}, false},   {{1}, true},
                                                  {{-1}, false}, {{0, 2}, true}, {{2, 0}, false}};

SweepCase reduce_case(OpId op, std::function<Tensor(const Tensor&, IntArrayRef, bool)> run,
                      std::function<double(const std::vector<double>&)> ref, double atol, double rtol) {
  return {[=] {
            std::vector<Tensor> inputs = {uniform({3, 4, 5}, -2, 2),
                                          uniform({5, 4, 3}, -2, 2).permute({2, 1, 0}),
                                          uniform({2, 1, 3}, -2, 2), uniform({70, 600, 1}, -2, 2)};
            for (const Tensor& x : inputs)
              for (const auto& cfg : kReduceConfigs) {
                const std::string what = std::string(op_name(op)) + " " + to_string(x.sizes()) + " dims " +
                                         to_string(IntArrayRef(cfg.dims)) + (cfg.keepdim ? " keepdim" : "");
                check_both([&](const Tensor& t) { return run(t, cfg.dims, cfg.keepdim); }, x,
                           reduce(to_ref(x), cfg.dims, cfg.keepdim, ref), atol, rtol, what);
              }
            // A 0-d input reduces to itself.
            const Tensor s = uniform({}, -2, 2);
            expect_close(run(s, {}, false), reduce(to_ref(s), {}, false, ref), atol, rtol, "0-d");
          },
          [=] {
            Tensor x = uniform({2, 3, 2}, -2, 2, DType::Float64).requires_grad_();
            for (const auto& cfg : kReduceConfigs)
              gradcheck([&](const std::vector<Tensor>& in) { return run(in[0], cfg.dims, cfg.keepdim); }, {x},
                        {.check_second_order = op != OpId::amax && op != OpId::amin});
          }};
}

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}
double mean_of(const std::vector<double>& v) { return sum_of(v) / double(v.size()); }

SweepCase index_reduce_case(OpId op, bool is_max, bool values) {
  return {
      [=] {
        for (const Tensor& x : {uniform({3, 4, 5}, -2, 2), uniform({5, 4}, -2, 2).t(), uniform({6}, -2, 2)})
          for (int64_t dim = -1; dim < x.dim(); ++dim)
            for (bool keepdim : {false, true}) {
              const Ref want_v = reduce(to_ref(x), {dim}, keepdim, [&](const std::vector<double>& v) {
                return is_max ? *std::max_element(v.begin(), v.end()) : *std::min_element(v.begin(), v.end());
              });
              const Ref want_i = reduce(to_ref(x), {dim}, keepdim, [&](const std::vector<double>& v) {
                return double(
                    (is_max ? std::max_element(v.begin(), v.end()) : std::min_element(v.begin(), v.end())) -
                    v.begin());
              });
              const std::string what = std::string(op_name(op)) + " dim " + std::to_string(dim);
              if (values) {
                auto [v, i] = is_max ? x.max(dim, keepdim) : x.min(dim, keepdim);
                expect_close(v, want_v, 0, 0, what + " values");
                expect_close(i, want_i, 0, 0, what + " indices");
                EXPECT_EQ(i.dtype(), DType::Int64);
              } else {
                expect_close(is_max ? x.argmax(dim, keepdim) : x.argmin(dim, keepdim), want_i, 0, 0, what);
              }
            }
      },
      values ? std::function<void()>([=] {
        Tensor x = uniform({3, 4}, -2, 2, DType::Float64).requires_grad_();
        for (int64_t dim : {0, 1})
          gradcheck(
              [&](const std::vector<Tensor>& in) {
                return is_max ? in[0].max(dim).first : in[0].min(dim, true).first;
              },
              {x});
      })
             : std::function<void()>()};
}

// --- matmul ------------------------------------------------------------------------------

Ref ref_matmul(const Ref& a0, const Ref& b0) {
  Ref a = a0, b = b0;
  const bool av = a.shape.size() == 1, bv = b.shape.size() == 1;
  if (av) a.shape.insert(a.shape.begin(), 1);
  if (bv) b.shape.push_back(1);
  const int64_t m = a.shape[a.shape.size() - 2], k = a.shape.back(), n = b.shape.back();
  std::vector<int64_t> ab(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  const auto batch = broadcast(ab, bb);
  Ref ra{ab, {}}, rb{bb, {}};
  Ref out{batch, {}};
  out.shape.push_back(m);
  out.shape.push_back(n);
  const int64_t batches = Ref{batch, {}}.numel();
  const auto ast = strides_of(ab), bst = strides_of(bb);
  for (int64_t t = 0; t < batches; ++t) {
    const auto idx = unravel(t, batch);
    int64_t ao = 0, bo = 0;
    for (size_t d = 0; d < ab.size(); ++d)
      if (ab[d] != 1) ao += idx[d + batch.size() - ab.size()] * ast[d];
    for (size_t d = 0; d < bb.size(); ++d)
      if (bb[d] != 1) bo += idx[d + batch.size() - bb.size()] * bst[d];
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += a.v[ao * m * k + i * k + p] * b.v[bo * k * n + p * n + j];
        out.v.push_back(acc);
      }
  }
  if (av) out.shape.erase(out.shape.end() - 2);
  if (bv) out.shape.pop_back();
  return out;
}

SweepCase matmul_case() {
  return {[] {
            auto u = [](IntArrayRef s) { return uniform(s, -1, 1); };
            const std::vector<std::pair<Tensor, Tensor>> pairs = {
                {u({3}), u({3})},
                {u({2, 3}), u({3})},
                {u({3}), u({3, 4})},
                {u({2, 3}), u({3, 4})},
                {u({2, 2, 3}), u({3, 4})},
                {u({2, 1, 2, 3}), u({3, 3, 2})},
                {u({4, 3}).t(), u({4, 5})},
                {u({2, 3}), u({5, 3}).t()},
                {u({3, 2, 4}).permute({1, 0, 2}), u({4, 2})},
                {u({2, 0}), u({0, 3})},
                {u({0, 3}), u({3, 2})},
                {u({64, 100}), u({100, 80})},
                {u({6, 8}).slice(1, 0, 8, 2), u({4, 3})}};
            for (auto [a, b] : pairs) {
              const std::string what = "matmul " + to_string(a.sizes()) + " @ " + to_string(b.sizes());
              const Ref want = ref_matmul(to_ref(a), to_ref(b));
              expect_close(a.matmul(b), want, 1e-5, 1e-5, what + " float32");
              expect_close(a.to(DType::Float64).matmul(b.to(DType::Float64)), want, 1e-12, 1e-12,
                           what + " float64");
            }
            Tensor ai = randint(-5, 5, {3, 4}), bi = randint(-5, 5, {4, 2});
            expect_close(ai.matmul(bi), ref_matmul(to_ref(ai), to_ref(bi)), 0, 0, "int64 matmul");
          },
          [] {
            auto u = [](IntArrayRef s) { return uniform(s, -1, 1, DType::Float64).requires_grad_(); };
            const std::vector<std::pair<Tensor, Tensor>> pairs = {
                {u({3}), u({3})},       {u({2, 3}), u({3})},       {u({3}), u({3, 2})},
                {u({2, 3}), u({3, 2})}, {u({2, 2, 3}), u({3, 2})}, {u({2, 1, 2, 3}), u({2, 3, 2})}};
            for (auto& [a, b] : pairs)
              gradcheck([](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); }, {a, b},
                        {.check_second_order = true});
          }};
}

// --- views ---------------------------------------------------------------------------------

// A view op case: the result must equal `ref` of the input and share its storage.
SweepCase view_case(const char* name, std::function<Tensor(const Tensor&)> run,
                    std::function<Ref(const Ref&)> ref, std::vector<int64_t> shape,
                    bool strided_input = true) {
  return {[=] {
            for (bool transposed : {false, true}) {
              if (transposed && !strided_input) continue;
              Tensor x = uniform(shape, -1, 1);
              if (transposed && x.dim() >= 2)
                x = x.transpose(0, x.dim() - 1).contiguous().transpose(0, x.dim() - 1);
              const Tensor y = run(x);
              expect_close(y, ref(to_ref(x)), 0, 0,
                           std::string(name) + (transposed ? " (strided input)" : ""));
              EXPECT_EQ(y.impl()->storage.get(), x.impl()->storage.get()) << name << " must not copy";
            }
          },
          [=] {
            Tensor x = uniform(shape, -1, 1, DType::Float64).requires_grad_();
            gradcheck([&](const std::vector<Tensor>& in) { return run(in[0]); }, {x},
                      {.check_second_order = true});
          }};
}

Ref ref_permute(const Ref& x, const std::vector<int64_t>& perm) {
  Ref out{{}, {}};
  for (int64_t p : perm) out.shape.push_back(x.shape[p]);
  const auto st = strides_of(x.shape);
  for (int64_t i = 0; i < out.numel(); ++i) {
    const auto idx = unravel(i, out.shape);
    int64_t off = 0;
    for (size_t d = 0; d < perm.size(); ++d) off += idx[d] * st[perm[d]];
    out.v.push_back(x.v[off]);
  }
  return out;
}

// Elements of x whose index along `dim` is start, start+step, ... < end.
Ref ref_slice(const Ref& x, int64_t dim, int64_t start, int64_t end, int64_t step, bool drop_dim = false) {
  Ref out{x.shape, {}};
  out.shape[dim] = (end - start + step - 1) / step;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const auto idx = unravel(i, x.shape);
    if (idx[dim] >= start && idx[dim] < end && (idx[dim] - start) % step == 0) out.v.push_back(x.v[i]);
  }
  if (drop_dim) out.shape.erase(out.shape.begin() + dim);
  return out;
}

Ref reshaped(Ref x, std::vector<int64_t> shape) {
  x.shape = std::move(shape);
  return x;
}

// slice_backward / select_backward: zeros with g written into the region.
SweepCase scatter_case(bool is_select) {
  auto run = [is_select](const Tensor& g) {
    OpAttrs a;
    a.dim = 1;
    a.ints = Shape{3, 7};
    if (is_select)
      a.index = -2;
    else
      a.ints2 = Shape{1, 6, 2};
    return dispatch(is_select ? OpId::select_backward : OpId::slice_backward, {g}, a, Loc::current());
  };
  return {
      [=] {
        const Tensor g = uniform(is_select ? IntArrayRef{3} : IntArrayRef{3, 3}, -1, 1);
        const Ref rg = to_ref(g);
        Ref want{{3, 7}, std::vector<double>(21, 0.0)};
        for (int64_t r = 0; r < 3; ++r)
          for (int64_t k = 0; k < (is_select ? 1 : 3); ++k)
            want.v[r * 7 + (is_select ? 5 : 1 + 2 * k)] = is_select ? rg.v[r] : rg.v[r * 3 + k];
        expect_close(run(g), want, 0, 0, is_select ? "select_backward" : "slice_backward");
      },
      [=] {
        Tensor g =
            uniform(is_select ? IntArrayRef{3} : IntArrayRef{3, 3}, -1, 1, DType::Float64).requires_grad_();
        gradcheck([&](const std::vector<Tensor>& in) { return run(in[0]); }, {g});
      }};
}

// --- nn --------------------------------------------------------------------------------------

// Applies f to each 1-D line of x along dim.
Ref along(const Ref& x, int64_t dim,
          const std::function<std::vector<double>(const std::vector<double>&)>& f) {
  Ref out = x;
  const int64_t nd = int64_t(x.shape.size());
  dim = dim < 0 ? dim + nd : dim;
  const auto st = strides_of(x.shape);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const auto idx = unravel(i, x.shape);
    if (idx[dim] != 0) continue;
    std::vector<double> line;
    for (int64_t k = 0; k < x.shape[dim]; ++k) line.push_back(x.v[i + k * st[dim]]);
    const auto r = f(line);
    for (int64_t k = 0; k < x.shape[dim]; ++k) out.v[i + k * st[dim]] = r[k];
  }
  return out;
}

std::vector<double> ref_softmax(const std::vector<double>& v, bool log) {
  double m = *std::max_element(v.begin(), v.end()), s = 0;
  for (double x : v) s += std::exp(x - m);
  std::vector<double> r;
  for (double x : v) r.push_back(log ? x - m - std::log(s) : std::exp(x - m) / s);
  return r;
}

SweepCase softmax_case(bool log) {
  auto run = [log](const Tensor& x, int64_t dim) { return log ? x.log_softmax(dim) : x.softmax(dim); };
  return {
      [=] {
        for (const Tensor& x : {uniform({3, 5}, -3, 3), uniform({2, 3, 4}, -3, 3), uniform({4, 6}, -3, 3).t(),
                                uniform({5}, -3, 3), uniform({64, 1024}, -3, 3), uniform({0, 4}, -3, 3)})
          for (int64_t dim = -1; dim < x.dim(); ++dim)
            check_both(
                [&](const Tensor& t) { return run(t, dim); }, x,
                along(to_ref(x), dim, [&](const std::vector<double>& v) { return ref_softmax(v, log); }),
                1e-6, 1e-5, std::string(log ? "log_softmax " : "softmax ") + to_string(x.sizes()));
        // Stability: huge logits do not overflow.
        const Tensor big = tensor<float>({1000, 1001, 999});
        expect_close(run(big, 0), Ref{{3}, ref_softmax({1000, 1001, 999}, log)}, 1e-6, 1e-5, "large logits");
      },
      [=] {
        Tensor x = uniform({2, 3, 2}, -2, 2, DType::Float64).requires_grad_();
        for (int64_t dim : {0, 1, 2})
          gradcheck([&](const std::vector<Tensor>& in) { return run(in[0], dim); }, {x},
                    {.check_second_order = true});
      }};
}

Ref ref_layer_norm(const Ref& x, int64_t nd, const Ref* w, const Ref* b, double eps) {
  int64_t len = 1;
  for (int64_t d = int64_t(x.shape.size()) - nd; d < int64_t(x.shape.size()); ++d) len *= x.shape[d];
  Ref out = x;
  for (int64_t r = 0; r * len < x.numel(); ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < len; ++i) mean += x.v[r * len + i] / double(len);
    for (int64_t i = 0; i < len; ++i)
      var += (x.v[r * len + i] - mean) * (x.v[r * len + i] - mean) / double(len);
    for (int64_t i = 0; i < len; ++i) {
      double y = (x.v[r * len + i] - mean) / std::sqrt(var + eps);
      if (w) y *= w->v[i];
      if (b) y += b->v[i];
      out.v[r * len + i] = y;
    }
  }
  return out;
}

SweepCase layer_norm_case() {
  return {
      [] {
        for (auto [shape, norm] : std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{
                 {{4, 6}, {6}}, {{2, 3, 4}, {3, 4}}, {{5}, {5}}, {{64, 1024}, {1024}}}) {
          const Tensor x = uniform(shape, -2, 3);
          const Tensor w = uniform(norm, 0.5, 1.5), b = uniform(norm, -1, 1);
          const Ref rx = to_ref(x), rw = to_ref(w), rb = to_ref(b);
          const int64_t nd = int64_t(norm.size());
          const std::string what = "layer_norm " + to_string(IntArrayRef(shape));
          check_both([&](const Tensor& t) { return layer_norm(t, norm, w.to(t.dtype()), b.to(t.dtype())); },
                     x, ref_layer_norm(rx, nd, &rw, &rb, 1e-5), 1e-5, 1e-5, what);
          check_both([&](const Tensor& t) { return layer_norm(t, norm, w.to(t.dtype())); }, x,
                     ref_layer_norm(rx, nd, &rw, nullptr, 1e-5), 1e-5, 1e-5, what + " no bias");
          check_both([&](const Tensor& t) { return layer_norm(t, norm); }, x,
                     ref_layer_norm(rx, nd, nullptr, nullptr, 1e-5), 1e-5, 1e-5, what + " no affine");
        }
        const Tensor xt = uniform({6, 4}, -1, 1).t();
        expect_close(layer_norm(xt, {6}), ref_layer_norm(to_ref(xt), 1, nullptr, nullptr, 1e-5), 1e-5, 1e-5,
                     "layer_norm strided");
      },
      [] {
        auto u = [](IntArrayRef s, double lo, double hi) {
          return uniform(s, lo, hi, DType::Float64).requires_grad_();
        };
        Tensor x = u({2, 3, 4}, -2, 2), w = u({4}, 0.5, 1.5), b = u({4}, -1, 1);
        gradcheck([](const std::vector<Tensor>& in) { return layer_norm(in[0], {4}, in[1], in[2]); },
                  {x, w, b}, {.check_second_order = true});
        Tensor w2 = u({3, 4}, 0.5, 1.5);
        gradcheck([](const std::vector<Tensor>& in) { return layer_norm(in[0], {3, 4}, in[1]); }, {x, w2});
      }};
}

SweepCase loss_case(bool is_ce) {
  auto run = [is_ce](const Tensor& x, const Tensor& t, Reduction r, int64_t ignore) {
    return is_ce ? cross_entropy(x, t, r, ignore) : nll_loss(x, t, r, ignore);
  };
  auto ref = [is_ce](const Ref& x, const std::vector<int64_t>& t, Reduction r, int64_t ignore) {
    const int64_t n = x.shape[0], c = x.shape[1];
    Ref per{{n}, {}};
    double total = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) {
      double loss = 0;
      if (t[i] != ignore) {
        std::vector<double> row(x.v.begin() + i * c, x.v.begin() + (i + 1) * c);
        loss = is_ce ? -ref_softmax(row, true)[t[i]] : -row[t[i]];
        ++count;
      }
      per.v.push_back(loss);
      total += loss;
    }
    if (r == Reduction::None) return per;
    return Ref{{}, {r == Reduction::Sum ? total : total / double(count)}};
  };
  return {[=] {
            const Tensor x = uniform({6, 5}, -3, 3);
            const std::vector<int64_t> tv = {0, 4, 2, 2, 1, 3};
            const Tensor t = tensor<int64_t>(tv);
            for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum})
              for (int64_t ignore : {kIgnoreIndex, int64_t{2}}) {
                const std::string what = std::string(is_ce ? "cross_entropy" : "nll_loss") + " reduction " +
                                         std::to_string(int(r)) + " ignore " + std::to_string(ignore);
                check_both([&](const Tensor& xx) { return run(xx, t, r, ignore); }, x,
                           ref(to_ref(x), tv, r, ignore), 1e-5, 1e-5, what);
              }
            expect_close(run(x, t.to(DType::Int32), Reduction::Mean, kIgnoreIndex),
                         ref(to_ref(x), tv, Reduction::Mean, kIgnoreIndex), 1e-5, 1e-5, "int32 targets");
          },
          [=] {
            Tensor x = uniform({4, 3}, -2, 2, DType::Float64).requires_grad_();
            const Tensor t = tensor<int64_t>({0, 2, 1, 2});
            for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum})
              gradcheck([&](const std::vector<Tensor>& in) { return run(in[0], t, r, 1); }, {x},
                        {.check_second_order = is_ce});
          }};
}

SweepCase embedding_case(bool backward) {
  return {[=] {
            const Tensor w = uniform({5, 3}, -1, 1);
            const Tensor idx = tensor<int64_t>({4, 0, 4, 2, 1, 1}, {2, 3});
            const auto iv = idx.to_vector<int64_t>();
            if (!backward) {
              Ref want{{2, 3, 3}, {}};
              const Ref rw = to_ref(w);
              for (int64_t i : iv)
                for (int64_t j = 0; j < 3; ++j) want.v.push_back(rw.v[i * 3 + j]);
              expect_close(embedding(w, idx), want, 0, 0, "embedding");
              expect_close(embedding(w.t().contiguous().t(), idx.to(DType::Int32)), want, 0, 0,
                           "embedding strided/int32");
            } else {
              const Tensor g = uniform({2, 3, 3}, -1, 1);
              const Ref rg = to_ref(g);
              Ref want{{5, 3}, std::vector<double>(15, 0.0)};
              for (size_t k = 0; k < iv.size(); ++k)
                for (int64_t j = 0; j < 3; ++j) want.v[iv[k] * 3 + j] += rg.v[k * 3 + j];
              OpAttrs a;
              a.index = 5;
              expect_close(dispatch(OpId::embedding_backward, {g, idx}, a, Loc::current()), want, 1e-6, 1e-6,
                           "embedding_backward");
            }
          },
          [=] {
            const Tensor idx = tensor<int64_t>({3, 0, 3, 1});
            if (!backward) {
              Tensor w = uniform({4, 2}, -1, 1, DType::Float64).requires_grad_();
              gradcheck([&](const std::vector<Tensor>& in) { return embedding(in[0], idx); }, {w},
                        {.check_second_order = true});
            } else {
              Tensor g = uniform({4, 2}, -1, 1, DType::Float64).requires_grad_();
              OpAttrs a;
              a.index = 4;
              gradcheck(
                  [&](const std::vector<Tensor>& in) {
                    return dispatch(OpId::embedding_backward, {in[0], idx}, a, Loc::current());
                  },
                  {g});
            }
          }};
}

// all_reduce in a world of one (ember_distributed's kernel is not
// installed here): every op gives x's values, in a new contiguous tensor,
// for every dtype and layout; an op outside 0..2 is an error. The ranks'
// arithmetic is tests/distributed.
SweepCase all_reduce_case() {
  return {[] {
            for (int64_t op : {0, 1, 2})
              for (DType dtype : {DType::Float32, DType::Float64, DType::Int64}) {
                for (const Tensor& x : {uniform({3, 4}, -1, 1, dtype), uniform({4, 3}, -1, 1, dtype).t(),
                                        uniform({0, 2}, -1, 1, dtype), uniform({}, -1, 1, dtype)}) {
                  OpAttrs a;
                  a.index = op;
                  const Tensor y = dispatch(OpId::all_reduce, {x}, a, Loc::current());
                  EXPECT_TRUE(y.is_contiguous());
                  if (x.numel() > 0) {
                    EXPECT_NE(y.data_ptr(), x.data_ptr()) << "a new tensor";
                  }
                  expect_close(y, to_ref(x), 0, 0, "all_reduce");
                }
              }
            OpAttrs bad;
            bad.index = 3;
            EXPECT_THROW(dispatch(OpId::all_reduce, {ones({2})}, bad, Loc::current()), Error);
          },
          {}};
}

// softmax(q k^T * scale + mask) v in float64, one [T, D] problem per
// leading index; mask: additive [T, S] per problem (or empty), causal:
// key j > query i excluded.
Ref ref_attention(const Ref& q, const Ref& k, const Ref& v, const std::vector<double>& mask, bool causal,
                  double scale) {
  const int64_t nd = int64_t(q.shape.size());
  const int64_t t = q.shape[nd - 2], d = q.shape[nd - 1], s = k.shape[nd - 2], dv = v.shape[nd - 1];
  const int64_t problems = q.numel() / (t * d);
  Ref out{q.shape, {}};
  out.shape[nd - 1] = dv;
  out.v.assign(problems * t * dv, 0);
  for (int64_t p = 0; p < problems; ++p)
    for (int64_t i = 0; i < t; ++i) {
      std::vector<double> w(s);
      double top = -INFINITY;
      for (int64_t j = 0; j < s; ++j) {
        double x = 0;
        for (int64_t c = 0; c < d; ++c) x += q.v[(p * t + i) * d + c] * k.v[(p * s + j) * d + c];
        x = x * scale + (mask.empty() ? 0 : mask[(p * t + i) * s + j]);
        if (causal && j > i) x = -INFINITY;
        w[j] = x, top = std::max(top, x);
      }
      double sum = 0;
      for (double& x : w) sum += (x = x == -INFINITY ? 0 : std::exp(x - top));
      for (int64_t c = 0; c < dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < s; ++j) acc += w[j] * v.v[(p * s + j) * dv + c];
        out.v[(p * t + i) * dv + c] = acc / sum;
      }
    }
  return out;
}

// The mask broadcast to one [T, S] block per problem, as additive values.
std::vector<double> expanded_mask(const Tensor& mask, const Tensor& q, int64_t s) {
  Shape scores = q.sizes();
  scores[scores.ndim() - 1] = s;
  const Tensor m = mask.dtype() == DType::Bool ? where(mask, scalar_tensor(0.0).to(DType::Float64),
                                                       scalar_tensor(-INFINITY).to(DType::Float64))
                                               : mask.to(DType::Float64);
  return m.expand(scores).contiguous().to_vector<double>();
}

SweepCase attention_case() {
  struct Problem {
    std::vector<int64_t> q, k, v;
    bool causal;
    int mask;  // 0 none, 1 bool [T, S], 2 float [B, 1, T, S]
    const char* what;
  };
  // Leading dims 0, 1 and 2; causal and not; masks of both kinds; a long
  // sequence past one key block (512: the online rescaling) and one query
  // block (64) with a remainder.
  static const std::vector<Problem> problems = {
      {{5, 4}, {6, 4}, {6, 3}, false, 0, "2-d"},
      {{2, 5, 4}, {2, 6, 4}, {2, 6, 3}, true, 0, "3-d causal"},
      {{2, 3, 5, 4}, {2, 3, 6, 4}, {2, 3, 6, 3}, false, 1, "bool mask"},
      {{2, 3, 5, 4}, {2, 3, 5, 4}, {2, 3, 5, 4}, true, 2, "float mask, causal"},
      {{1, 2, 600, 8}, {1, 2, 600, 8}, {1, 2, 600, 8}, true, 0, "600 causal"},
      {{1, 1, 130, 16}, {1, 1, 700, 16}, {1, 1, 700, 16}, false, 0, "130 x 700"},
  };
  const auto make = [](const Problem& p) {
    std::vector<Tensor> in{uniform(p.q, -1, 1), uniform(p.k, -1, 1), uniform(p.v, -1, 1)};
    const int64_t nd = int64_t(p.q.size()), t = p.q[nd - 2], s = p.k[nd - 2];
    if (p.mask == 1) in.push_back(uniform({t, s}, 0, 1).gt(0.3));
    if (p.mask == 2) in.push_back(uniform({p.q[0], 1, t, s}, -2, 0));
    return in;
  };
  const auto run = [](const std::vector<Tensor>& in, bool causal, DType dtype) {
    const Tensor mask = in.size() > 3 ? (in[3].dtype() == DType::Bool ? in[3] : in[3].to(dtype)) : Tensor();
    return scaled_dot_product_attention(in[0].to(dtype), in[1].to(dtype), in[2].to(dtype), mask, causal, 0.7);
  };
  return {
      [=] {
        for (const Problem& p : problems) {
          const auto in = make(p);
          const std::vector<double> mask =
              in.size() > 3 ? expanded_mask(in[3], in[0], in[1].size(-2)) : std::vector<double>();
          const Ref want = ref_attention(to_ref(in[0]), to_ref(in[1]), to_ref(in[2]), mask, p.causal, 0.7);
          // float32: sums of up to 700 products in float GEMMs and the
          // polynomial exp (2 ulp); float64 to 1e-12.
          expect_close(run(in, p.causal, DType::Float32), want, 2e-5, 2e-5, std::string(p.what) + " float32");
          expect_close(run(in, p.causal, DType::Float64), want, 1e-12, 1e-12,
                       std::string(p.what) + " float64");
        }
        // Non-contiguous q, k and v (heads as the middle dim of a packed
        // projection, as nn::MultiheadAttention makes them) and the default
        // scale 1 / sqrt(D).
        const Tensor qkv = uniform({2, 7, 3, 2, 4}, -1, 1);
        const Tensor q = qkv.select(2, 0).transpose(1, 2), k = qkv.select(2, 1).transpose(1, 2),
                     v = qkv.select(2, 2).transpose(1, 2);
        expect_close(scaled_dot_product_attention(q, k, v, {}, true),
                     ref_attention(to_ref(q), to_ref(k), to_ref(v), {}, true, 0.5), 2e-5, 2e-5,
                     "strided views");
        // A query that may attend to nothing gives NaN, as PyTorch.
        const Tensor none = zeros({3, 3}, DType::Bool);
        const Tensor y = scaled_dot_product_attention(uniform({3, 2}, -1, 1), uniform({3, 2}, -1, 1),
                                                      uniform({3, 2}, -1, 1), none);
        EXPECT_TRUE(std::isnan(y.to_vector<double>()[0]));
      },
      [=] {
        auto u = [](IntArrayRef s) { return uniform(s, -1, 1, DType::Float64).requires_grad_(); };
        for (bool causal : {false, true}) {
          gradcheck(
              [=](const std::vector<Tensor>& in) {
                return scaled_dot_product_attention(in[0], in[1], in[2], {}, causal);
              },
              {u({2, 3, 4}), u({2, 5, 4}), u({2, 5, 3})});
        }
        const Tensor mask = uniform({2, 1, 3, 3}, -2, 0, DType::Float64);
        gradcheck(
            [=](const std::vector<Tensor>& in) {
              return scaled_dot_product_attention(in[0], in[1], in[2], mask, true, 0.3);
            },
            {u({2, 2, 3, 4}), u({2, 2, 3, 4}), u({2, 2, 3, 2})});
        // Past one key block and one query block (the recomputed blocks of
        // the backward): gradients against the composite's autograd.
        const Tensor q = u({1, 1, 70, 4}), k = u({1, 1, 530, 4}), v = u({1, 1, 530, 3});
        const Tensor g = uniform({1, 1, 70, 3}, -1, 1, DType::Float64);
        const auto grads = autograd::grad({scaled_dot_product_attention(q, k, v)}, {g}, {q, k, v});
        const Tensor composite = (q.matmul(k.transpose(-2, -1)) * 0.5).softmax(-1).matmul(v);
        const auto want = autograd::grad({composite}, {g}, {q, k, v});
        for (int i = 0; i < 3; ++i)
          expect_close(grads[i], to_ref(want[i]), 1e-12, 1e-10,
                       "long attention gradient " + std::to_string(i));
      }};
}

// The LSTM recurrence in float64, one step at a time as PyTorch documents
// it (gates i, f, g, o): h and c of every step. `state`: h0 and c0, else zeros.
std::pair<Ref, Ref> ref_lstm(const std::vector<Tensor>& in) {
  const Ref x = to_ref(in[0]), w_ih = to_ref(in[1]), w_hh = to_ref(in[2]), b_ih = to_ref(in[3]),
            b_hh = to_ref(in[4]);
  const int64_t steps = x.shape[0], batch = x.shape[1], input = x.shape[2], hidden = w_hh.shape[1];
  std::vector<double> h(batch * hidden, 0.0), c(batch * hidden, 0.0);
  if (in.size() == 7) h = to_ref(in[5]).v, c = to_ref(in[6]).v;
  Ref out{{steps, batch, hidden}, {}}, cells{{steps, batch, hidden}, {}};
  const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<double> next_h(batch * hidden), next_c(batch * hidden);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < hidden; ++j) {
        double gate[4];
        for (int k = 0; k < 4; ++k) {
          const int64_t row = k * hidden + j;
          double acc = b_ih.v[row] + b_hh.v[row];
          for (int64_t i = 0; i < input; ++i)
            acc += w_ih.v[row * input + i] * x.v[(t * batch + b) * input + i];
          for (int64_t i = 0; i < hidden; ++i) acc += w_hh.v[row * hidden + i] * h[b * hidden + i];
          gate[k] = acc;
        }
        const int64_t at = b * hidden + j;
        next_c[at] = sigmoid(gate[1]) * c[at] + sigmoid(gate[0]) * std::tanh(gate[2]);
        next_h[at] = sigmoid(gate[3]) * std::tanh(next_c[at]);
      }
    h = next_h, c = next_c;
    out.v.insert(out.v.end(), h.begin(), h.end());
    cells.v.insert(cells.v.end(), c.begin(), c.end());
  }
  return {out, cells};
}

// x [T, B, I], the weights of `gates` gates for hidden size H, and
// `states` initial states [B, H].
std::vector<Tensor> recurrent_operands(int64_t gates, int states, int64_t steps, int64_t batch, int64_t input,
                                       int64_t hidden, DType dtype) {
  std::vector<Tensor> in{uniform({steps, batch, input}, -1, 1, dtype),
                         uniform({gates * hidden, input}, -1, 1, dtype),
                         uniform({gates * hidden, hidden}, -1, 1, dtype),
                         uniform({gates * hidden}, -1, 1, dtype), uniform({gates * hidden}, -1, 1, dtype)};
  for (int s = 0; s < states; ++s) in.push_back(uniform({batch, hidden}, -1, 1, dtype));
  return in;
}

// x [T, B, I], the weights for hidden size H, and (state) h0, c0.
std::vector<Tensor> lstm_operands(int64_t steps, int64_t batch, int64_t input, int64_t hidden, bool state,
                                  DType dtype = DType::Float32) {
  return recurrent_operands(4, state ? 2 : 0, steps, batch, input, hidden, dtype);
}

std::pair<Tensor, Tensor> run_lstm(const std::vector<Tensor>& in) {
  return lstm(in[0], in[1], in[2], in[3], in[4], in.size() == 7 ? in[5] : Tensor(),
              in.size() == 7 ? in[6] : Tensor());
}

// The recurrences' sweep shapes: one step and many; a batch of one; no
// state and a given one; a hidden size past a vector width with a
// remainder (19).
struct RecurrentShape {
  int64_t steps, batch, input, hidden;
  bool state;
};
constexpr RecurrentShape kRecurrentShapes[] = {
    {1, 2, 3, 4, false}, {5, 3, 4, 3, true}, {7, 1, 2, 19, true}, {4, 5, 6, 16, false}};

SweepCase lstm_case() {
  return {[] {
            for (const RecurrentShape& p : kRecurrentShapes) {
              const auto in = lstm_operands(p.steps, p.batch, p.input, p.hidden, p.state);
              const auto [want_out, want_cells] = ref_lstm(in);
              const std::string what = "T=" + std::to_string(p.steps) + " B=" + std::to_string(p.batch) +
                                       " H=" + std::to_string(p.hidden) + (p.state ? " with state" : "");
              // float32: sums of I + H + 2 products, then ember's float sigmoid
              // and tanh (2 ulp), carried through T steps of a contraction.
              const auto [out, cells] = run_lstm(in);
              expect_close(out, want_out, 3e-6, 3e-6, what + " out float32");
              expect_close(cells, want_cells, 3e-6, 3e-6, what + " cells float32");
              std::vector<Tensor> in64;
              for (const Tensor& t : in) in64.push_back(t.to(DType::Float64));
              const auto [out64, cells64] = run_lstm(in64);
              expect_close(out64, want_out, 1e-12, 1e-12, what + " out float64");
              expect_close(cells64, want_cells, 1e-12, 1e-12, what + " cells float64");
            }
            // Strided operands: x a transposed [B, T, I], w_hh a slice of a wider matrix.
            auto in = lstm_operands(3, 2, 4, 5, true);
            in[0] = uniform({2, 3, 4}, -1, 1).transpose(0, 1);
            in[2] = uniform({20, 7}, -1, 1).slice(1, 1, 6);
            expect_close(run_lstm(in).first, ref_lstm(in).first, 3e-6, 3e-6, "strided operands");
            // Clear errors, not wrong answers, for operands that do not fit.
            auto bad = lstm_operands(3, 2, 4, 5, false);
            EXPECT_THROW(lstm(bad[0], bad[1], uniform({20, 4}, -1, 1), bad[3], bad[4]),
                         Error);  // w_hh not [4H, H]
            EXPECT_THROW(lstm(bad[0].select(0, 0), bad[1], bad[2], bad[3], bad[4]),
                         Error);  // x not [T, B, I]
            EXPECT_THROW(
                lstm(bad[0], bad[1], bad[2], bad[3], bad[4], uniform({3, 5}, -1, 1), uniform({3, 5}, -1, 1)),
                Error);  // h0 of another batch
            EXPECT_THROW(lstm(bad[0], bad[1], bad[2], bad[3], bad[4], uniform({2, 5}, -1, 1)),
                         Error);                                                                   // h0 alone
            EXPECT_THROW(lstm(bad[0].slice(0, 0, 0), bad[1], bad[2], bad[3], bad[4]), Error);      // no steps
            EXPECT_THROW(lstm(bad[0].to(DType::Float64), bad[1], bad[2], bad[3], bad[4]), Error);  // dtypes
          },
          [] {
            // Through both outputs (the cells' gradient too), with and without a state.
            for (bool state : {false, true}) {
              auto in = lstm_operands(3, 2, 3, 2, state, DType::Float64);
              for (Tensor& t : in) t.requires_grad_();
              gradcheck(
                  [](const std::vector<Tensor>& in) {
                    const auto [out, cells] = run_lstm(in);
                    return out + cells * 0.5;
                  },
                  in);
              // Only the last step's h (the other steps' gradient zero), as a classifier uses it.
              gradcheck([](const std::vector<Tensor>& in) { return run_lstm(in).first[-1]; }, in);
            }
          }};
}

// lstm_backward against the gradients autograd gives the recurrence written
// as LSTMCell's ops, in float64 and float32.
SweepCase lstm_backward_case() {
  return {
      [] {
        for (bool state : {false, true}) {
          auto in = lstm_operands(4, 3, 5, 6, state, DType::Float64);
          for (Tensor& t : in) t.requires_grad_();
          const Tensor g_out = uniform({4, 3, 6}, -1, 1, DType::Float64),
                       g_cells = uniform({4, 3, 6}, -1, 1, DType::Float64);
          // The composite: one step after another with ember's elementwise ops.
          Tensor h = state ? in[5] : zeros({3, 6}, DType::Float64),
                 c = state ? in[6] : zeros({3, 6}, DType::Float64);
          std::vector<Tensor> hs, cs;
          for (int64_t t = 0; t < 4; ++t) {
            const auto g = chunk(linear(in[0][t], in[1], in[3]) + linear(h, in[2], in[4]), 4, 1);
            c = g[1].sigmoid() * c + g[0].sigmoid() * g[2].tanh();
            h = g[3].sigmoid() * c.tanh();
            hs.push_back(h), cs.push_back(c);
          }
          const auto want = autograd::grad({stack(hs, 0), stack(cs, 0)}, {g_out, g_cells}, in);
          NoGradGuard no_grad;
          std::vector<Tensor> forward{in[0], in[1], in[2], in[3], in[4]};
          if (state) forward.insert(forward.end(), {in[5], in[6]});
          const auto [out, gates] = dispatch2(OpId::lstm, forward, OpAttrs{}, Loc::current());
          std::vector<Tensor> operands{g_out, in[0], in[1], in[2], in[3], in[4], out, gates};
          if (state) operands.insert(operands.end(), {in[5], in[6]});
          // The gates' gradient: the cells' in its last H, the rest unread.
          operands.push_back(cat({uniform({4, 3, 24}, -1, 1, DType::Float64), g_cells}, 2));
          const auto [dx, flat] = dispatch2(OpId::lstm_backward, operands, OpAttrs{}, Loc::current());
          std::vector<Tensor> expected{want[1].reshape({-1}), want[2].reshape({-1}), want[3].reshape({-1})};
          if (state) expected.insert(expected.end(), {want[5].reshape({-1}), want[6].reshape({-1})});
          const std::string what = state ? "with state" : "no state";
          expect_close(dx, to_ref(want[0]), 1e-12, 1e-10, what + " dx");
          expect_close(flat, to_ref(cat(expected)), 1e-12, 1e-10, what + " weights");
          EXPECT_EQ(want[3].to_vector<double>(), want[4].to_vector<double>())
              << "both biases get one gradient";
          // float32: within 2e-5 (sums of up to 4H = 24 products per step over 4 steps).
          std::vector<Tensor> operands32;
          for (const Tensor& t : operands) operands32.push_back(t.detach().to(DType::Float32));
          const auto [dx32, flat32] = dispatch2(OpId::lstm_backward, operands32, OpAttrs{}, Loc::current());
          expect_close(dx32, to_ref(want[0]), 2e-5, 2e-5, what + " dx float32");
          expect_close(flat32, to_ref(cat(expected)), 2e-5, 2e-5, what + " weights float32");
        }
        // Without the gates' gradient (8 operands): the same as a zero one.
        auto in = lstm_operands(3, 2, 2, 3, false, DType::Float64);
        const auto [out, gates] = dispatch2(OpId::lstm, in, OpAttrs{}, Loc::current());
        EXPECT_EQ(gates.sizes(), (Shape{3, 2, 15})) << "i, f, g, o and c of each step";
        const Tensor g = uniform({3, 2, 3}, -1, 1, DType::Float64);
        std::vector<Tensor> operands{g, in[0], in[1], in[2], in[3], in[4], out, gates};
        const auto without = dispatch2(OpId::lstm_backward, operands, OpAttrs{}, Loc::current());
        operands.push_back(zeros_like(gates));
        const auto with_zero = dispatch2(OpId::lstm_backward, operands, OpAttrs{}, Loc::current());
        EXPECT_EQ(without.first.to_vector<double>(), with_zero.first.to_vector<double>());
        EXPECT_EQ(without.second.to_vector<double>(), with_zero.second.to_vector<double>());
      },
      {}};
}

// The GRU recurrence in float64, one step at a time as PyTorch documents it
// (gates r, z, n): h of every step. h0 when given (6 operands), else zeros.
Ref ref_gru(const std::vector<Tensor>& in) {
  const Ref x = to_ref(in[0]), w_ih = to_ref(in[1]), w_hh = to_ref(in[2]), b_ih = to_ref(in[3]),
            b_hh = to_ref(in[4]);
  const int64_t steps = x.shape[0], batch = x.shape[1], input = x.shape[2], hidden = w_hh.shape[1];
  std::vector<double> h(batch * hidden, 0.0);
  if (in.size() == 6) h = to_ref(in[5]).v;
  Ref out{{steps, batch, hidden}, {}};
  const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<double> next_h(batch * hidden);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < hidden; ++j) {
        double gi[3], gh[3];  // x W_ih^T + b_ih and h W_hh^T + b_hh of gates r, z, n
        for (int k = 0; k < 3; ++k) {
          const int64_t row = k * hidden + j;
          gi[k] = b_ih.v[row], gh[k] = b_hh.v[row];
          for (int64_t i = 0; i < input; ++i)
            gi[k] += w_ih.v[row * input + i] * x.v[(t * batch + b) * input + i];
          for (int64_t i = 0; i < hidden; ++i) gh[k] += w_hh.v[row * hidden + i] * h[b * hidden + i];
        }
        const double r = sigmoid(gi[0] + gh[0]), z = sigmoid(gi[1] + gh[1]), n = std::tanh(gi[2] + r * gh[2]);
        next_h[b * hidden + j] = (1 - z) * n + z * h[b * hidden + j];
      }
    h = next_h;
    out.v.insert(out.v.end(), h.begin(), h.end());
  }
  return out;
}

std::vector<Tensor> gru_operands(int64_t steps, int64_t batch, int64_t input, int64_t hidden, bool state,
                                 DType dtype = DType::Float32) {
  return recurrent_operands(3, state ? 1 : 0, steps, batch, input, hidden, dtype);
}

Tensor run_gru(const std::vector<Tensor>& in) {
  return gru(in[0], in[1], in[2], in[3], in[4], in.size() == 6 ? in[5] : Tensor());
}

SweepCase gru_case() {
  return {[] {
            for (const RecurrentShape& p : kRecurrentShapes) {
              const auto in = gru_operands(p.steps, p.batch, p.input, p.hidden, p.state);
              const Ref want = ref_gru(in);
              const std::string what = "T=" + std::to_string(p.steps) + " B=" + std::to_string(p.batch) +
                                       " H=" + std::to_string(p.hidden) + (p.state ? " with state" : "");
              // float32: sums of I + H + 1 products, ember's float sigmoid and
              // tanh (2 ulp), carried through T steps of a contraction.
              expect_close(run_gru(in), want, 3e-6, 3e-6, what + " float32");
              std::vector<Tensor> in64;
              for (const Tensor& t : in) in64.push_back(t.to(DType::Float64));
              expect_close(run_gru(in64), want, 1e-12, 1e-12, what + " float64");
            }
            // Strided operands: x a transposed [B, T, I], w_hh a slice of a wider matrix.
            auto in = gru_operands(3, 2, 4, 5, true);
            in[0] = uniform({2, 3, 4}, -1, 1).transpose(0, 1);
            in[2] = uniform({15, 7}, -1, 1).slice(1, 1, 6);
            expect_close(run_gru(in), ref_gru(in), 3e-6, 3e-6, "strided operands");
            // Clear errors, not wrong answers, for operands that do not fit.
            auto bad = gru_operands(3, 2, 4, 5, false);
            EXPECT_THROW(gru(bad[0], bad[1], uniform({20, 5}, -1, 1), bad[3], bad[4]), Error);  // LSTM's w_hh
            EXPECT_THROW(gru(bad[0], uniform({15, 3}, -1, 1), bad[2], bad[3], bad[4]), Error);  // w_ih vs I
            EXPECT_THROW(gru(bad[0], bad[1], bad[2], uniform({20}, -1, 1), bad[4]), Error);     // b_ih
            EXPECT_THROW(gru(bad[0].select(0, 0), bad[1], bad[2], bad[3], bad[4]), Error);      // x not 3-D
            EXPECT_THROW(gru(bad[0], bad[1], bad[2], bad[3], bad[4], uniform({3, 5}, -1, 1)),
                         Error);                                                              // h0's batch
            EXPECT_THROW(gru(bad[0].slice(0, 0, 0), bad[1], bad[2], bad[3], bad[4]), Error);  // no steps
            EXPECT_THROW(gru(bad[0].to(DType::Float64), bad[1], bad[2], bad[3], bad[4]), Error);  // dtypes
            // The saved gates are not an output a gradient may flow through.
            auto grads = gru_operands(2, 2, 3, 2, false);
            for (Tensor& t : grads) t.requires_grad_();
            const auto [out, gates] = dispatch2(OpId::gru, grads, OpAttrs{}, Loc::current());
            EXPECT_EQ(gates.sizes(), (Shape{2, 2, 8})) << "r, z, n and W_hn h + b_hn of each step";
            EXPECT_TRUE(out.requires_grad());
            EXPECT_FALSE(gates.requires_grad());
            EXPECT_THROW(gates.sum().backward(), Error);
          },
          [] {
            for (bool state : {false, true}) {
              auto in = gru_operands(3, 2, 3, 2, state, DType::Float64);
              for (Tensor& t : in) t.requires_grad_();
              gradcheck([](const std::vector<Tensor>& in) { return run_gru(in); }, in);
              gradcheck([](const std::vector<Tensor>& in) { return run_gru(in)[-1]; }, in);
            }
          }};
}

// gru_backward against the gradients autograd gives the recurrence written
// as GRUCell's ops, in float64 and float32.
SweepCase gru_backward_case() {
  return {[] {
            for (bool state : {false, true}) {
              auto in = gru_operands(4, 3, 5, 6, state, DType::Float64);
              for (Tensor& t : in) t.requires_grad_();
              const Tensor g_out = uniform({4, 3, 6}, -1, 1, DType::Float64);
              Tensor h = state ? in[5] : zeros({3, 6}, DType::Float64);
              std::vector<Tensor> hs;
              for (int64_t t = 0; t < 4; ++t) {
                const auto gi = chunk(linear(in[0][t], in[1], in[3]), 3, 1);
                const auto gh = chunk(linear(h, in[2], in[4]), 3, 1);
                const Tensor r = (gi[0] + gh[0]).sigmoid(), z = (gi[1] + gh[1]).sigmoid();
                const Tensor n = (gi[2] + r * gh[2]).tanh();
                h = (1 - z) * n + z * h;
                hs.push_back(h);
              }
              const auto want = autograd::grad({stack(hs, 0)}, {g_out}, in);
              NoGradGuard no_grad;
              std::vector<Tensor> forward(in.begin(), in.end());
              const auto [out, gates] = dispatch2(OpId::gru, forward, OpAttrs{}, Loc::current());
              std::vector<Tensor> operands{g_out, in[0], in[1], in[2], in[3], in[4], out, gates};
              if (state) operands.push_back(in[5]);
              const auto [dx, flat] = dispatch2(OpId::gru_backward, operands, OpAttrs{}, Loc::current());
              std::vector<Tensor> expected;
              for (size_t i = 1; i < want.size(); ++i) expected.push_back(want[i].reshape({-1}));
              const std::string what = state ? "with state" : "no state";
              expect_close(dx, to_ref(want[0]), 1e-12, 1e-10, what + " dx");
              expect_close(flat, to_ref(cat(expected)), 1e-12, 1e-10, what + " weights");
              // float32: within 2e-5 (sums of up to 3H = 18 products per step over 4 steps).
              std::vector<Tensor> operands32;
              for (const Tensor& t : operands) operands32.push_back(t.detach().to(DType::Float32));
              const auto [dx32, flat32] =
                  dispatch2(OpId::gru_backward, operands32, OpAttrs{}, Loc::current());
              expect_close(dx32, to_ref(want[0]), 2e-5, 2e-5, what + " dx float32");
              expect_close(flat32, to_ref(cat(expected)), 2e-5, 2e-5, what + " weights float32");
            }
          },
          {}};
}

// attention_backward against the gradients autograd gives the composite
// (matmul, softmax, matmul) in float64.
SweepCase attention_backward_case() {
  return {[] {
            for (bool causal : {false, true}) {
              auto u = [](IntArrayRef s) { return uniform(s, -1, 1, DType::Float64).requires_grad_(); };
              const Tensor q = u({2, 70, 4}), k = u({2, 70, 4}), v = u({2, 70, 3});
              const Tensor g = uniform({2, 70, 3}, -1, 1, DType::Float64);
              Tensor scores = q.matmul(k.transpose(-2, -1)) * 0.5;
              if (causal) scores = scores.masked_fill(ones({70, 70}, DType::Bool).triu(1), -INFINITY);
              const auto want = autograd::grad({scores.softmax(-1).matmul(v)}, {g}, {q, k, v});
              NoGradGuard no_grad;
              OpAttrs a;
              a.scalar = 0.5;
              if (causal) a.flags |= kCausal;
              const auto [out, lse] = dispatch2(OpId::attention, {q, k, v}, a, Loc::current());
              const auto [dq, dkv] =
                  dispatch2(OpId::attention_backward, {g, q, k, v, out, lse}, a, Loc::current());
              // dq, and dk and dv side by side along the last dim.
              const Tensor expected_kv = cat({want[1], want[2]}, -1);
              const std::string what = causal ? "causal" : "full";
              expect_close(dq, to_ref(want[0]), 1e-12, 1e-10, what + " dq");
              expect_close(dkv, to_ref(expected_kv), 1e-12, 1e-10, what + " dk, dv");
              // float32: sums of 70 products, within 1e-5 (relative 1e-4 for the larger gradients).
              const Tensor q32 = q.detach().to(DType::Float32), k32 = k.detach().to(DType::Float32),
                           v32 = v.detach().to(DType::Float32);
              const auto [out32, lse32] = dispatch2(OpId::attention, {q32, k32, v32}, a, Loc::current());
              const auto [dq32, dkv32] =
                  dispatch2(OpId::attention_backward, {g.to(DType::Float32), q32, k32, v32, out32, lse32}, a,
                            Loc::current());
              expect_close(dq32, to_ref(want[0]), 1e-5, 1e-4, what + " dq float32");
              expect_close(dkv32, to_ref(expected_kv), 1e-5, 1e-4, what + " dk, dv float32");
            }
          },
          {}};
}

SweepCase cat_case() {
  return {
      [] {
        const Tensor a = uniform({2, 3}, -1, 1), b = uniform({2, 1}, -1, 1), c = uniform({4, 2}, -1, 1).t();
        const Tensor empty_part = uniform({2, 0}, -1, 1);
        const Ref ra = to_ref(a), rb = to_ref(b), rc = to_ref(c);
        Ref want{{2, 6}, {}};
        for (int64_t r = 0; r < 2; ++r) {
          for (int64_t j = 0; j < 3; ++j) want.v.push_back(ra.v[r * 3 + j]);
          want.v.push_back(rb.v[r]);
          for (int64_t j = 0; j < 2; ++j) want.v.push_back(rc.v[r * 4 + j]);
        }
        expect_close(cat({a, b, empty_part, c.slice(1, 0, 2)}, 1), want, 0, 0, "cat dim 1");
        Ref want0{{4, 3}, ra.v};
        for (double v : ra.v) want0.v.push_back(v);
        expect_close(cat({a, a}, 0), want0, 0, 0, "cat dim 0");
        const Tensor mixed = cat({a, a.to(DType::Float64)}, 0);
        EXPECT_EQ(mixed.dtype(), DType::Float64);
      },
      [] {
        auto u = [](IntArrayRef s) { return uniform(s, -1, 1, DType::Float64).requires_grad_(); };
        Tensor a = u({2, 3}), b = u({2, 2});
        gradcheck(
            [](const std::vector<Tensor>& in) {
              return cat({in[0], in[1], in[0]}, -1);
            },
            {a, b}, {.check_second_order = true});
      }};
}

Ref ref_conv2d(const Ref& x, const Ref& w, const Ref* b, std::array<int64_t, 6> g) {
  const auto [sh, sw, ph, pw, dh, dw] = g;
  const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  const int64_t o = w.shape[0], kh = w.shape[2], kw = w.shape[3];
  const int64_t oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1,
                ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  Ref out{{n, o, oh, ow}, {}};
  for (int64_t a = 0; a < n; ++a)
    for (int64_t q = 0; q < o; ++q)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t z = 0; z < ow; ++z) {
          double acc = b ? b->v[q] : 0.0;
          for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t iy = y * sh - ph + i * dh, ix = z * sw - pw + j * dw;
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                  acc += x.v[((a * c + ch) * h + iy) * wd + ix] * w.v[((q * c + ch) * kh + i) * kw + j];
              }
          out.v.push_back(acc);
        }
  return out;
}

const std::vector<std::array<int64_t, 6>> kConvGeometries = {
    {1, 1, 0, 0, 1, 1}, {2, 1, 1, 0, 1, 1}, {1, 2, 1, 2, 2, 1}};

SweepCase conv2d_case() {
  return {
      [] {
        const Tensor x = uniform({2, 3, 7, 6}, -1, 1), w = uniform({4, 3, 3, 2}, -1, 1),
                     b = uniform({4}, -1, 1);
        const Ref rx = to_ref(x), rw = to_ref(w), rb = to_ref(b);
        for (const auto& g : kConvGeometries) {
          const Conv2dOptions o{{g[0], g[1]}, {g[2], g[3]}, {g[4], g[5]}};
          check_both([&](const Tensor& t) { return conv2d(t, w.to(t.dtype()), b.to(t.dtype()), o); }, x,
                     ref_conv2d(rx, rw, &rb, g), 1e-5, 1e-5, "conv2d");
          check_both([&](const Tensor& t) { return conv2d(t, w.to(t.dtype()), {}, o); }, x,
                     ref_conv2d(rx, rw, nullptr, g), 1e-5, 1e-5, "conv2d without bias");
        }
      },
      [] {
        auto u = [](IntArrayRef s) { return uniform(s, -1, 1, DType::Float64).requires_grad_(); };
        Tensor x = u({2, 2, 5, 4}), w = u({3, 2, 2, 2}), b = u({3});
        for (const auto& g : kConvGeometries) {
          const Conv2dOptions o{{g[0], g[1]}, {g[2], g[3]}, {g[4], g[5]}};
          gradcheck([&](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], o); }, {x, w, b});
        }
      }};
}

// The gradients of conv2d as ops of their own: compared with the float64
// gradient of the naive reference obtained by linearity (d/dx of <g, conv(x, w)>).
SweepCase conv2d_grad_case(bool wrt_input) {
  return {
      [=] {
        const std::array<int64_t, 6> g{2, 1, 1, 0, 1, 1};
        const Tensor x = uniform({2, 3, 6, 5}, -1, 1), w = uniform({4, 3, 3, 2}, -1, 1);
        const Tensor out = conv2d(x, w, {}, {{2, 1}, {1, 0}, {1, 1}});
        const Tensor grad = uniform(out.sizes(), -1, 1);
        OpAttrs a;
        a.ints = Shape{g[0], g[1], g[2], g[3], g[4], g[5]};
        a.ints2 = wrt_input ? x.sizes() : w.sizes();
        const Tensor got = dispatch(wrt_input ? OpId::conv2d_backward_input : OpId::conv2d_backward_weight,
                                    {grad, wrt_input ? w : x}, a, Loc::current());
        // Reference: each element of the gradient is <grad, conv(e_i)> for a unit input e_i.
        const Ref rgrad = to_ref(grad), rx = to_ref(x), rw = to_ref(w);
        Ref want{wrt_input ? rx.shape : rw.shape, {}};
        Ref unit = wrt_input ? rx : rw;
        for (int64_t i = 0; i < unit.numel(); ++i) {
          std::fill(unit.v.begin(), unit.v.end(), 0.0);
          unit.v[i] = 1.0;
          const Ref y = wrt_input ? ref_conv2d(unit, rw, nullptr, g) : ref_conv2d(rx, unit, nullptr, g);
          double dot = 0;
          for (int64_t k = 0; k < y.numel(); ++k) dot += y.v[k] * rgrad.v[k];
          want.v.push_back(dot);
        }
        expect_close(got, want, 1e-5, 1e-5, wrt_input ? "conv2d_backward_input" : "conv2d_backward_weight");
      },
      {}};
}

Ref ref_pool(const Ref& x, std::array<int64_t, 6> g, bool is_max) {
  const auto [kh, kw, sh, sw, ph, pw] = g;
  const int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3];
  const int64_t oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
  Ref out{{x.shape[0], x.shape[1], oh, ow}, {}};
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t z = 0; z < ow; ++z) {
        double acc = is_max ? -INFINITY : 0.0;
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t iy = y * sh - ph + i, ix = z * sw - pw + j;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const double v = x.v[(p * h + iy) * w + ix];
            acc = is_max ? std::max(acc, v) : acc + v;
          }
        out.v.push_back(is_max ? acc : acc / double(kh * kw));
      }
  return out;
}

const std::vector<std::array<int64_t, 6>> kPoolGeometries = {{2, 2, 2, 2, 0, 0}, {3, 2, 1, 2, 1, 1}};

Pool2dOptions pool_options(const std::array<int64_t, 6>& g) {
  return {{g[0], g[1]}, std::pair<int64_t, int64_t>{g[2], g[3]}, {g[4], g[5]}};
}

SweepCase pool_case(bool is_max) {
  auto run = [is_max](const Tensor& x, const Pool2dOptions& o) {
    return is_max ? max_pool2d(x, o) : avg_pool2d(x, o);
  };
  return {[=] {
            const Tensor x = uniform({2, 3, 6, 5}, -1, 1);
            for (const auto& g : kPoolGeometries)
              check_both([&](const Tensor& t) { return run(t, pool_options(g)); }, x,
                         ref_pool(to_ref(x), g, is_max), 1e-6, 1e-6, is_max ? "max_pool2d" : "avg_pool2d");
          },
          [=] {
            Tensor x = uniform({1, 2, 5, 4}, -1, 1, DType::Float64).requires_grad_();
            for (const auto& g : kPoolGeometries)
              gradcheck([&](const std::vector<Tensor>& in) { return run(in[0], pool_options(g)); }, {x});
          }};
}

// The pooling gradients as ops: each element of the gradient is
// <grad, pool(x + e_i)> - <grad, pool(x)> for max (a sub-gradient) or
// <grad, pool(e_i)> for the linear average.
SweepCase pool_grad_case(bool is_max) {
  return {[=] {
            const std::array<int64_t, 6> g{3, 2, 1, 2, 1, 1};
            const Tensor x = uniform({1, 2, 5, 4}, -1, 1, DType::Float64);
            const Tensor y = is_max ? max_pool2d(x, pool_options(g)) : avg_pool2d(x, pool_options(g));
            const Tensor grad = uniform(y.sizes(), -1, 1, DType::Float64);
            OpAttrs a;
            a.ints = Shape{g[0], g[1], g[2], g[3], g[4], g[5]};
            a.ints2 = x.sizes();
            const Tensor got = is_max ? dispatch(OpId::max_pool2d_backward, {grad, x}, a, Loc::current())
                                      : dispatch(OpId::avg_pool2d_backward, {grad}, a, Loc::current());
            const Ref rx = to_ref(x), rg = to_ref(grad), base = ref_pool(rx, g, is_max);
            Ref want{rx.shape, {}};
            for (int64_t i = 0; i < rx.numel(); ++i) {
              Ref probe = rx;
              if (!is_max) std::fill(probe.v.begin(), probe.v.end(), 0.0);
              const double h = is_max ? 1e-7 : 1.0;
              probe.v[i] += h;
              const Ref py = ref_pool(probe, g, is_max);
              double d = 0;
              for (int64_t k = 0; k < py.numel(); ++k)
                d += (py.v[k] - (is_max ? base.v[k] : 0.0)) / h * rg.v[k];
              want.v.push_back(d);
            }
            expect_close(got, want, 1e-6, 1e-6, is_max ? "max_pool2d_backward" : "avg_pool2d_backward");
          },
          {}};
}

// --- creation -------------------------------------------------------------------------------

SweepCase creation_case(OpId op) {
  return {[op] {
            switch (op) {
              case OpId::full: {
                const Tensor t = full({2, 3}, 2.5, DType::Float64);
                expect_close(t, Ref{{2, 3}, std::vector<double>(6, 2.5)}, 0, 0, "full");
                EXPECT_EQ(zeros({0, 2}).numel(), 0);
                EXPECT_EQ(ones({}, DType::Int32).item<int32_t>(), 1);
                break;
              }
              case OpId::arange:
                expect_close(arange(5), Ref{{5}, {0, 1, 2, 3, 4}}, 0, 0, "arange(5)");
                EXPECT_EQ(arange(5).dtype(), DType::Int64);
                expect_close(arange(1.0, 2.0, 0.25), Ref{{4}, {1, 1.25, 1.5, 1.75}}, 0, 0, "arange float");
                expect_close(arange(5, 0, -2), Ref{{3}, {5, 3, 1}}, 0, 0, "arange down");
                break;
              case OpId::linspace:
                expect_close(linspace(0, 1, 5, DType::Float64), Ref{{5}, {0, 0.25, 0.5, 0.75, 1}}, 1e-15, 0,
                             "linspace");
                EXPECT_EQ(linspace(0, 1, 0).numel(), 0);
                break;
              case OpId::eye:
                expect_close(eye(2, 3), Ref{{2, 3}, {1, 0, 0, 0, 1, 0}}, 0, 0, "eye");
                break;
              case OpId::rand: {
                manual_seed(7);
                const Tensor a = rand({10000});
                manual_seed(7);
                EXPECT_EQ(a.to_vector<float>(), rand({10000}).to_vector<float>()) << "seeded rand repeats";
                EXPECT_GE(a.min().item<float>(), 0.0f);
                EXPECT_LT(a.max().item<float>(), 1.0f);
                EXPECT_NEAR(a.mean().item<double>(), 0.5, 0.02);
                break;
              }
              case OpId::randn: {
                manual_seed(7);
                const Tensor a = randn({20000}, DType::Float64);
                EXPECT_NEAR(a.mean().item<double>(), 0.0, 0.03);
                EXPECT_NEAR(a.var().item<double>(), 1.0, 0.05);
                break;
              }
              case OpId::randint: {
                const Tensor a = randint(-3, 4, {5000});
                EXPECT_EQ(a.dtype(), DType::Int64);
                EXPECT_EQ(a.min().item<int64_t>(), -3);
                EXPECT_EQ(a.max().item<int64_t>(), 3);
                break;
              }
              default:
                FAIL() << "not a creation op";
            }
          },
          {}};
}

// --- the table of cases ---------------------------------------------------------------------------

const std::map<OpId, SweepCase>& sweep_cases() {
  static const std::map<OpId, SweepCase> cases = [] {
    std::map<OpId, SweepCase> m;
    // Unary: reference, input range, float32 tolerance (atol, rtol). The
    // vectorized exp/tanh/sigmoid of Note [Vectorizable math] stay within a
    // few ulp; libm-based ops within 1 ulp.
    m[OpId::neg] = unary_case(
        OpId::neg, [](double x) { return -x; }, -3, 3, 0, 0);
    m[OpId::exp] = unary_case(
        OpId::exp, [](double x) { return std::exp(x); }, -10, 10, 1e-30, 3e-7);
    m[OpId::log] = unary_case(
        OpId::log, [](double x) { return std::log(x); }, 0.01, 10, 1e-7, 2e-7);
    m[OpId::sqrt] = unary_case(
        OpId::sqrt, [](double x) { return std::sqrt(x); }, 0.01, 10, 0, 2e-7);
    m[OpId::rsqrt] = unary_case(
        OpId::rsqrt, [](double x) { return 1 / std::sqrt(x); }, 0.01, 10, 0, 3e-7);
    m[OpId::abs] = unary_case(
        OpId::abs, [](double x) { return std::abs(x); }, -3, 3, 0, 0);
    m[OpId::sign] = unary_case(
        OpId::sign, [](double x) { return double((x > 0) - (x < 0)); }, -3, 3, 0, 0);
    m[OpId::sign].gradient = {};
    m[OpId::sin] = unary_case(
        OpId::sin, [](double x) { return std::sin(x); }, -4, 4, 1e-7, 2e-7);
    m[OpId::cos] = unary_case(
        OpId::cos, [](double x) { return std::cos(x); }, -4, 4, 1e-7, 2e-7);
    m[OpId::tanh] = unary_case(
        OpId::tanh, [](double x) { return std::tanh(x); }, -6, 6, 1e-7, 3e-7);
    m[OpId::sigmoid] = unary_case(OpId::sigmoid, sigmoid_ref, -12, 12, 1e-7, 3e-7);
    m[OpId::relu] = unary_case(
        OpId::relu, [](double x) { return x < 0 ? 0 : x; }, -3, 3, 0, 0, false);
    m[OpId::gelu] = unary_case(OpId::gelu, gelu_ref, -5, 5, 1e-7, 3e-7);
    m[OpId::silu] = unary_case(
        OpId::silu, [](double x) { return x * sigmoid_ref(x); }, -12, 12, 1e-7, 3e-7);
    m[OpId::erf] = unary_case(
        OpId::erf, [](double x) { return std::erf(x); }, -3, 3, 1e-7, 2e-7);
    // Over [-30, 30]: both the log1p(exp(x)) end and the x end.
    m[OpId::softplus] = unary_case(
        OpId::softplus, [](double x) { return std::log1p(std::exp(-std::abs(x))) + std::max(x, 0.0); }, -30,
        30, 1e-7, 3e-7);
    m[OpId::clamp] = {
        [] {
          for (const Tensor& x : unary_inputs(-2, 2, DType::Float32)) {
            check_both([](const Tensor& t) { return t.clamp(-0.5, 0.75); }, x,
                       map(to_ref(x), [](double v) { return std::clamp(v, -0.5, 0.75); }), 0, 0, "clamp");
            check_both([](const Tensor& t) { return t.clamp(std::nullopt, 0.25); }, x,
                       map(to_ref(x), [](double v) { return std::min(v, 0.25); }), 0, 0, "clamp max");
          }
        },
        [] {
          Tensor x = uniform({3, 4}, -2, 2, DType::Float64).requires_grad_();
          gradcheck([](const std::vector<Tensor>& in) { return in[0].clamp(-0.5, 0.75); }, {x});
        }};
    m[OpId::copy] = {
        [] {
          for (const Tensor& x : unary_inputs(-100, 100, DType::Float32)) {
            expect_close(x.clone(), to_ref(x), 0, 0, "clone");
            expect_close(x.contiguous(), to_ref(x), 0, 0, "contiguous");
            EXPECT_TRUE(x.contiguous().is_contiguous());
            expect_close(x.to(DType::Float64), to_ref(x), 0, 0, "to float64");
            expect_close(x.to(DType::Int32), map(to_ref(x), [](double v) { return std::trunc(v); }), 0, 0,
                         "to int32 truncates");
            expect_close(x.to(DType::Bool), map(to_ref(x), [](double v) { return double(v != 0); }), 0, 0,
                         "to bool");
          }
          Tensor dst = zeros({2, 3}, DType::Float64);
          dst.copy_(tensor<int32_t>({1, 2, 3}));  // broadcast and convert
          expect_close(dst, Ref{{2, 3}, {1, 2, 3, 1, 2, 3}}, 0, 0, "copy_");
        },
        [] {
          Tensor x = uniform({2, 3}, -1, 1, DType::Float64).requires_grad_();
          gradcheck(
              [](const std::vector<Tensor>& in) {
                return in[0].t().contiguous().to(DType::Float32).to(DType::Float64);
              },
              {x}, {.eps = 1e-3, .atol = 1e-4, .rtol = 1e-3});
        }};
    m[OpId::full_like] = {[] {
                            for (const Tensor& x0 : unary_inputs(-1, 1, DType::Float32)) {
                              Tensor x = x0.clone();
                              x.fill_(2.5);
                              expect_close(x, map(to_ref(x0), [](double) { return 2.5; }), 0, 0, "fill_");
                              x.zero_();
                              expect_close(x, map(to_ref(x0), [](double) { return 0.0; }), 0, 0, "zero_");
                            }
                          },
                          {}};

    m[OpId::add] = binary_case(
        OpId::add, [](double a, double b) { return a + b; }, -3, 3, 1e-6, 1e-6);
    m[OpId::sub] = binary_case(
        OpId::sub, [](double a, double b) { return a - b; }, -3, 3, 1e-6, 1e-6);
    m[OpId::mul] = binary_case(
        OpId::mul, [](double a, double b) { return a * b; }, -3, 3, 1e-6, 1e-6);
    m[OpId::div] = binary_case(
        OpId::div, [](double a, double b) { return a / b; }, 0.5, 3, 1e-6, 1e-6);
    m[OpId::pow] = binary_case(
        OpId::pow, [](double a, double b) { return std::pow(a, b); }, 0.5, 2, 1e-6, 1e-6);
    m[OpId::maximum] = binary_case(
        OpId::maximum, [](double a, double b) { return std::max(a, b); }, -3, 3, 0, 0);
    m[OpId::minimum] = binary_case(
        OpId::minimum, [](double a, double b) { return std::min(a, b); }, -3, 3, 0, 0);
    // Comparisons: inputs from a few integers, so that ties occur.
    auto compare = [](OpId op, std::function<bool(double, double)> f) {
      SweepCase c;
      c.forward = [op, f] {
        const Tensor ia = randint(-2, 3, {4, 5}).to(DType::Float32),
                     ib = randint(-2, 3, {5}).to(DType::Float32);
        const Tensor got = dispatch(op, {ia, ib}, OpAttrs{}, Loc::current());
        EXPECT_EQ(got.dtype(), DType::Bool);
        expect_close(got,
                     zip({to_ref(ia), to_ref(ib)},
                         [&](const std::vector<double>& v) { return double(f(v[0], v[1])); }),
                     0, 0, op_name(op));
        expect_close(binary_scalar(op, ia, 1, false),
                     map(to_ref(ia), [&](double v) { return double(f(v, 1)); }), 0, 0, "with scalar");
        const Tensor mixed = dispatch(op, {ia.to(DType::Int64), ib}, OpAttrs{}, Loc::current());
        expect_close(mixed,
                     zip({to_ref(ia), to_ref(ib)},
                         [&](const std::vector<double>& v) { return double(f(v[0], v[1])); }),
                     0, 0, "int64 vs float32");
      };
      return c;
    };
    m[OpId::eq] = compare(OpId::eq, [](double a, double b) { return a == b; });
    m[OpId::ne] = compare(OpId::ne, [](double a, double b) { return a != b; });
    m[OpId::lt] = compare(OpId::lt, [](double a, double b) { return a < b; });
    m[OpId::le] = compare(OpId::le, [](double a, double b) { return a <= b; });
    m[OpId::gt] = compare(OpId::gt, [](double a, double b) { return a > b; });
    m[OpId::ge] = compare(OpId::ge, [](double a, double b) { return a >= b; });
    m[OpId::where] = {
        [] {
          const Tensor c = uniform({3, 1}, -1, 1).gt(0), a = uniform({3, 4}, -1, 1), b = uniform({4}, -1, 1);
          expect_close(where(c, a, b),
                       zip({to_ref(c), to_ref(a), to_ref(b)},
                           [](const std::vector<double>& v) { return v[0] != 0 ? v[1] : v[2]; }),
                       0, 0, "where");
          EXPECT_EQ(where(c, a, b.to(DType::Float64)).dtype(), DType::Float64);
        },
        [] {
          const Tensor c = tensor<bool>({true, false, true});
          Tensor a = uniform({2, 3}, -1, 1, DType::Float64).requires_grad_();
          Tensor b = uniform({3}, -1, 1, DType::Float64).requires_grad_();
          gradcheck([&](const std::vector<Tensor>& in) { return where(c, in[0], in[1]); }, {a, b},
                    {.check_second_order = true});
        }};

    m[OpId::sum] = reduce_case(
        OpId::sum, [](const Tensor& x, IntArrayRef d, bool k) { return x.sum(d, k); }, sum_of, 1e-5, 1e-5);
    m[OpId::mean] = reduce_case(
        OpId::mean, [](const Tensor& x, IntArrayRef d, bool k) { return x.mean(d, k); }, mean_of, 1e-6, 1e-5);
    m[OpId::var] = reduce_case(
        OpId::var, [](const Tensor& x, IntArrayRef d, bool k) { return x.var(d, 1, k); },
        [](const std::vector<double>& v) {
          const double m = mean_of(v);
          double s = 0;
          for (double x : v) s += (x - m) * (x - m);
          return v.size() > 1 ? s / double(v.size() - 1) : NAN;
        },
        1e-5, 1e-5);
    m[OpId::var].gradient = [] {
      Tensor x = uniform({2, 3, 2}, -2, 2, DType::Float64).requires_grad_();
      for (const auto& cfg : kReduceConfigs)
        gradcheck([&](const std::vector<Tensor>& in) { return in[0].var(cfg.dims, 0, cfg.keepdim); }, {x},
                  {.check_second_order = true});
    };
    m[OpId::logsumexp] = reduce_case(
        OpId::logsumexp, [](const Tensor& x, IntArrayRef d, bool k) { return x.logsumexp(d, k); },
        [](const std::vector<double>& v) {
          double m = *std::max_element(v.begin(), v.end()), s = 0;
          for (double x : v) s += std::exp(x - m);
          return m + std::log(s);
        },
        1e-6, 1e-6);
    auto extreme = [](bool mx) {
      return [mx](const std::vector<double>& v) {
        return mx ? *std::max_element(v.begin(), v.end()) : *std::min_element(v.begin(), v.end());
      };
    };
    m[OpId::amax] = reduce_case(
        OpId::amax, [](const Tensor& x, IntArrayRef d, bool k) { return x.amax(d, k); }, extreme(true), 0, 0);
    m[OpId::amin] = reduce_case(
        OpId::amin, [](const Tensor& x, IntArrayRef d, bool k) { return x.amin(d, k); }, extreme(false), 0,
        0);
    m[OpId::max_dim] = index_reduce_case(OpId::max_dim, true, true);
    m[OpId::min_dim] = index_reduce_case(OpId::min_dim, false, true);
    m[OpId::argmax] = index_reduce_case(OpId::argmax, true, false);
    m[OpId::argmin] = index_reduce_case(OpId::argmin, false, false);

    m[OpId::matmul] = matmul_case();

    m[OpId::view] = view_case(
        "view",
        [](const Tensor& x) {
          return x.view({3, -1});
        },
        [](const Ref& r) {
          return reshaped(r, {3, 8});
        },
        {2, 3, 4}, false);
    m[OpId::view].forward = [base = m[OpId::view].forward] {
      base();
      // A non-contiguous input whose merged dims are contiguous still views.
      const Tensor x = uniform({4, 6}, -1, 1).slice(1, 0, 3);
      EXPECT_EQ(x.view({2, 2, 3}).sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
      expect_close(x.view({2, 2, 3}), reshaped(to_ref(x), {2, 2, 3}), 0, 0, "view of a slice");
      expect_close(x.reshape({12}), reshaped(to_ref(x), {12}), 0, 0, "reshape copies when it must");
    };
    m[OpId::permute] = view_case(
        "permute",
        [](const Tensor& x) {
          return x.permute({2, 0, 1});
        },
        [](const Ref& r) {
          return ref_permute(r, {2, 0, 1});
        },
        {2, 3, 4});
    m[OpId::slice] = view_case(
        "slice", [](const Tensor& x) { return x.slice(1, 1, 5, 2); },
        [](const Ref& r) { return ref_slice(r, 1, 1, 5, 2); }, {3, 6});
    m[OpId::select] = view_case(
        "select", [](const Tensor& x) { return x.select(1, -1); },
        [](const Ref& r) { return ref_slice(r, 1, 2, 3, 1, true); }, {2, 3, 2});
    m[OpId::expand] = view_case(
        "expand",
        [](const Tensor& x) {
          return x.expand({2, 3, 4});
        },
        [](const Ref& r) {
          return zip({r, Ref{{2, 3, 4}, std::vector<double>(24, 0.0)}},
                     [](const std::vector<double>& v) { return v[0]; });
        },
        {3, 1});
    m[OpId::squeeze] = view_case(
        "squeeze", [](const Tensor& x) { return x.squeeze(); },
        [](const Ref& r) {
          return reshaped(r, {3, 2});
        },
        {1, 3, 1, 2});
    m[OpId::unsqueeze] = view_case(
        "unsqueeze", [](const Tensor& x) { return x.unsqueeze(-1); },
        [](const Ref& r) {
          return reshaped(r, {2, 3, 1});
        },
        {2, 3});
    m[OpId::slice_backward] = scatter_case(false);
    m[OpId::select_backward] = scatter_case(true);

    m[OpId::softmax] = softmax_case(false);
    m[OpId::log_softmax] = softmax_case(true);
    m[OpId::layer_norm] = layer_norm_case();
    m[OpId::cross_entropy] = loss_case(true);
    m[OpId::nll_loss] = loss_case(false);
    m[OpId::embedding] = embedding_case(false);
    m[OpId::embedding_backward] = embedding_case(true);
    m[OpId::cat] = cat_case();
    m[OpId::all_reduce] = all_reduce_case();
    m[OpId::attention] = attention_case();
    m[OpId::attention_backward] = attention_backward_case();
    m[OpId::lstm] = lstm_case();
    m[OpId::lstm_backward] = lstm_backward_case();
    m[OpId::gru] = gru_case();
    m[OpId::gru_backward] = gru_backward_case();
    m[OpId::conv2d] = conv2d_case();
    m[OpId::conv2d_backward_input] = conv2d_grad_case(true);
    m[OpId::conv2d_backward_weight] = conv2d_grad_case(false);
    m[OpId::max_pool2d] = pool_case(true);
    m[OpId::max_pool2d_backward] = pool_grad_case(true);
    m[OpId::avg_pool2d] = pool_case(false);
    m[OpId::avg_pool2d_backward] = pool_grad_case(false);
    for (OpId op :
         {OpId::full, OpId::arange, OpId::linspace, OpId::eye, OpId::rand, OpId::randn, OpId::randint})
      m[op] = creation_case(op);
    return m;
  }();
  return cases;
}

// --- tests -------------------------------------------------------------------------------------------

TEST(OpTable, EveryOpHasKernelFormulaAndSweepCase) {
  for (int i = 0; i < kNumOps; ++i) {
    const OpId op = static_cast<OpId>(i);
    const OpInfo& info = op_info(op);
    EXPECT_NE(info.forward, nullptr) << info.name << " has no eager kernel";
    if (info.differentiable)
      EXPECT_NE(info.backward, nullptr) << info.name << " is Diff but has no formula";
    else
      EXPECT_EQ(info.backward, nullptr) << info.name << " is NonDiff but has a formula";
    const auto it = sweep_cases().find(op);
    ASSERT_NE(it, sweep_cases().end()) << info.name << " has no case in the op sweep";
    EXPECT_EQ(static_cast<bool>(it->second.gradient), info.differentiable)
        << info.name << ": a differentiable op needs a gradcheck and a NonDiff op none";
  }
}

class OpSweep : public ::testing::TestWithParam<int> {};

TEST_P(OpSweep, ForwardMatchesFloat64Reference) {
  manual_seed(1234);
  sweep_cases().at(static_cast<OpId>(GetParam())).forward();
}

TEST_P(OpSweep, GradientMatchesFiniteDifferences) {
  manual_seed(1234);
  const SweepCase& c = sweep_cases().at(static_cast<OpId>(GetParam()));
  if (!c.gradient) {
    EXPECT_FALSE(op_info(static_cast<OpId>(GetParam())).differentiable);
    return;  // NonDiff: nothing to check (the table test asserts the marking)
  }
  try {
    c.gradient();
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpSweep, ::testing::Range(0, kNumOps),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(op_name(static_cast<OpId>(info.param)));
                         });

}  // namespace
}  // namespace ember::testing
