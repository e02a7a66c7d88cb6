// attention_test.cpp - nn::MultiheadAttention against the attention written
// out with matmul and softmax, layers with several inputs, typed module
// lists, and the masking helpers a transformer reaches for.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

namespace ember::nn {
namespace {

void expect_near(const Tensor& got, const Tensor& want, double tolerance, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const auto g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isinf(w[i])) {
      EXPECT_EQ(g[i], w[i]) << what << " element " << i;
      continue;
    }
    ASSERT_NEAR(g[i], w[i], tolerance) << what << " element " << i;
  }
}

TEST(Masking, MaskedFillTrilTriu) {
  const Tensor x = arange(0, 12, 1, DType::Float32).view({3, 4});
  // Upper triangle above the diagonal filled with -inf: a causal mask.
  const Tensor masked = x.masked_fill(ones({3, 4}, DType::Bool).triu(1), -INFINITY);
  const auto m = masked.to_vector<double>();
  EXPECT_EQ(m[0], 0);
  EXPECT_TRUE(std::isinf(m[1]) && m[1] < 0);
  EXPECT_EQ(m[5], 5);
  EXPECT_TRUE(std::isinf(m[7]));
  EXPECT_EQ(masked.dtype(), DType::Float32);
  EXPECT_EQ(x.tril().to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0}));
  EXPECT_EQ(x.triu().to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 0, 5, 6, 7, 0, 0, 10, 11}));
  EXPECT_EQ(x.tril(-1).to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0}));
  EXPECT_EQ(x.triu(2).to_vector<double>(), (std::vector<double>{0, 0, 2, 3, 0, 0, 0, 7, 0, 0, 0, 0}));
  // Batched: the last two dims are the matrix.
  EXPECT_EQ(ones({2, 2, 2}).tril().sum().item<double>(), 6);
  EXPECT_THROW(x.masked_fill(x.gt(3).to(DType::Float32), 0), Error);
  EXPECT_THROW(arange(0, 3, 1).tril(), Error);
  // Gradients pass where the mask does not fill.
  const Tensor w = randn({3, 4}, DType::Float64).requires_grad_();
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return in[0].masked_fill(in[0].gt(0.5), 2.0).tril(); }, {w}));
}

// PyTorch's MultiheadAttention, written out: in_proj, heads, softmax with
// the mask, merge, out_proj.
Tensor reference_attention(MultiheadAttention& mha, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor& bool_mask, bool causal) {
  const int64_t b = q.size(0), t = q.size(1), s = k.size(1), c = mha.embed_dim, h = mha.num_heads;
  const auto project = [&](const Tensor& x, int64_t i, int64_t len) {
    return linear(x, mha.in_proj_weight.slice(0, i * c, (i + 1) * c),
                  mha.in_proj_bias.slice(0, i * c, (i + 1) * c))
        .view({b, len, h, c / h})
        .transpose(1, 2);
  };
  Tensor scores = project(q, 0, t).matmul(project(k, 1, s).transpose(-2, -1)) / std::sqrt(double(c / h));
  if (bool_mask.defined()) scores = scores.masked_fill(bool_mask, -INFINITY);
  if (causal) scores = scores.masked_fill(ones({t, s}, DType::Bool).triu(1), -INFINITY);
  const Tensor y = scores.softmax(-1).matmul(project(v, 2, s)).transpose(1, 2).reshape({b, t, c});
  return (*mha.out_proj)(y);
}

TEST(MultiheadAttention, MatchesTheWrittenOutAttention) {
  manual_seed(5);
  MultiheadAttention self(16, 4, {.causal = true});
  const Tensor x = randn({2, 7, 16});
  // Tolerances: float32, sums of 16 products and softmax over 7 keys.
  expect_near(self(x, x, x, Tensor()), reference_attention(self, x, x, x, Tensor(), true), 1e-5,
              "causal self");
  MultiheadAttention cross(16, 2);
  const Tensor memory = randn({2, 5, 16});
  const Tensor mask = rand({7, 5}).gt(0.7);  // true: may not attend (this module's convention)
  expect_near(cross(x, memory, memory, mask), reference_attention(cross, x, memory, memory, mask, false),
              1e-5, "cross with a mask");
  EXPECT_EQ(self.parameters().size(), 4u);  // in_proj weight and bias, out_proj weight and bias
  std::ostringstream printed;
  printed << self;
  EXPECT_NE(printed.str().find("MultiheadAttention(embed_dim=16, num_heads=4, causal=true"),
            std::string::npos)
      << printed.str();
  EXPECT_THROW(MultiheadAttention(10, 3), Error);
  EXPECT_THROW(self(x, randn({2, 5, 8}), randn({2, 5, 8}), Tensor()), Error);
}

TEST(MultiheadAttention, GradientsMatchTheWrittenOutAttention) {
  manual_seed(6);
  MultiheadAttention attn(8, 2, {.causal = true});
  attn.to(DType::Float64);
  const Tensor x = randn({2, 6, 8}, DType::Float64).requires_grad_();
  const Tensor g = randn({2, 6, 8}, DType::Float64);
  const auto params = attn.parameters();
  std::vector<Tensor> wrt{x};
  wrt.insert(wrt.end(), params.begin(), params.end());
  const auto got = autograd::grad({attn(x, x, x, Tensor())}, {g}, wrt);
  const auto want = autograd::grad({reference_attention(attn, x, x, x, Tensor(), true)}, {g}, wrt);
  for (size_t i = 0; i < got.size(); ++i)
    expect_near(got[i], want[i], 1e-10, "gradient " + std::to_string(i));
}

// A layer of two inputs: hooks see both.
class Gate : public LayerOf<Tensor, Tensor> {
 public:
  Gate() : LayerOf("Gate") {}
  Tensor forward(const Tensor& x, const Tensor& g) override { return x * g.sigmoid(); }
};

TEST(Layers, SeveralInputsAndTypedLists) {
  Gate gate;
  int seen = 0;
  gate.register_forward_hook(
      [&](Module&, const std::vector<Tensor>& in, const Tensor&) { seen = int(in.size()); });
  const Tensor y = gate(ones({3}), zeros({3}));
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0.5, 0.5, 0.5}));

  ModuleListOf<Linear> layers;
  layers.push_back(std::make_shared<Linear>(4, 4));
  layers.push_back(std::make_shared<Linear>(4, 2));
  Tensor x = randn({1, 4});
  for (Linear& layer : layers) x = layer(x);  // no cast: the list knows its type
  EXPECT_EQ(x.sizes(), (Shape{1, 2}));
  EXPECT_EQ(layers[1].out_features, 2);
  EXPECT_EQ(layers.named_parameters()[2].first, "1.weight");
}

}  // namespace
}  // namespace ember::nn
