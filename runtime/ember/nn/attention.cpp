// attention.cpp - nn::MultiheadAttention over scaled_dot_product_attention.
#include "ember/nn/attention.h"

#include "ember/nn/init.h"

namespace ember::nn {

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads,
                                       MultiheadAttentionOptions options)
    : LayerOf("MultiheadAttention"), embed_dim(embed_dim), num_heads(num_heads), options(options) {
  EMBER_CHECK(embed_dim > 0 && num_heads > 0 && embed_dim % num_heads == 0, Loc::current(),
              "MultiheadAttention: embed_dim ", embed_dim, " must be a positive multiple of num_heads ",
              num_heads);
  // PyTorch's initialization: xavier_uniform_ projections, zero biases.
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}));
  init::xavier_uniform_(in_proj_weight);
  if (options.bias) {
    in_proj_bias = register_parameter("in_proj_bias", zeros({3 * embed_dim}));
  }
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, options.bias));
  if (options.bias) {
    Tensor b = out_proj->bias;
    init::zeros_(b);
  }
}

namespace {
// [B, T, C] -> [B, heads, T, C / heads]
Tensor split_heads(const Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}
}  // namespace

Tensor MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const Tensor& attn_mask) {
  const Loc& loc = Loc::current();
  EMBER_CHECK(query.defined() && key.defined() && value.defined() && query.dim() == 3 && key.dim() == 3 &&
                  value.dim() == 3 && query.size(2) == embed_dim && key.size(2) == embed_dim &&
                  value.size(2) == embed_dim && key.size(0) == query.size(0) && value.sizes() == key.sizes(),
              loc, "MultiheadAttention(", embed_dim, ", ", num_heads, "): query ",
              query.defined() ? query.sizes() : Shape(), ", key ", key.defined() ? key.sizes() : Shape(),
              " and value ", value.defined() ? value.sizes() : Shape(),
              " must be [B, T, embed_dim] and [B, S, embed_dim]");
  const int64_t b = query.size(0), t = query.size(1), c = embed_dim;
  Tensor q, k, v;
  if (query.is_same(key) && key.is_same(value)) {
    // One GEMM for all three: [B, T, 3C] -> [3, B, heads, T, C / heads].
    const Tensor qkv = linear(query, in_proj_weight, in_proj_bias)
                           .view({b, t, 3, num_heads, c / num_heads})
                           .permute({2, 0, 3, 1, 4});
    q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
  } else {
    const auto part = [&](const Tensor& x, int64_t i) {
      const Tensor w = in_proj_weight.slice(0, i * c, (i + 1) * c);
      const Tensor bias = in_proj_bias.defined() ? in_proj_bias.slice(0, i * c, (i + 1) * c) : Tensor();
      return split_heads(linear(x, w, bias), num_heads);
    };
    q = part(query, 0), k = part(key, 1), v = part(value, 2);
  }
  Tensor mask;
  if (attn_mask.defined()) {
    // This module's bool masks say where a query may not attend;
    // scaled_dot_product_attention's say where it may.
    mask = attn_mask.dtype() == DType::Bool ? attn_mask.eq(false) : attn_mask;
    if (mask.dim() == 3) mask = mask.view({b, num_heads, mask.size(1), mask.size(2)});
  }
  const Tensor y = scaled_dot_product_attention(q, k, v, mask, options.causal);
  return (*out_proj)(y.transpose(1, 2).reshape({b, t, c}));
}

std::string MultiheadAttention::extra_repr() const {
  return "embed_dim=" + std::to_string(embed_dim) + ", num_heads=" + std::to_string(num_heads) +
         (options.causal ? ", causal=true" : "");
}

}  // namespace ember::nn
