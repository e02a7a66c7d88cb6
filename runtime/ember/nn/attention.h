// attention.h - nn::MultiheadAttention, PyTorch's nn.MultiheadAttention
// with batch_first=True: inputs [B, T, C], heads of C / num_heads.
//
//   nn::MultiheadAttention attn(256, 4, {.causal = true});
//   Tensor y = attn(x, x, x, Tensor());      // self-attention, no extra mask
#pragma once

#include <memory>

#include "ember/nn/layers.h"

namespace ember::nn {

struct MultiheadAttentionOptions {
  bool bias = true;
  bool causal = false;  // each position attends to itself and earlier ones only
};

class MultiheadAttention : public LayerOf<Tensor, Tensor, Tensor, Tensor> {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options = {});
  // query [B, T, C], key and value [B, S, C] -> [B, T, C]. attn_mask, if
  // defined: bool [T, S] or [B * heads, T, S], true where a query may NOT
  // attend (PyTorch's convention for this module), or float, added to the
  // scores. Self-attention (the same tensor three times) projects q, k and v
  // in one GEMM.
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value,
                 const Tensor& attn_mask) override;
  std::string extra_repr() const override;

  Tensor in_proj_weight, in_proj_bias;  // [3C, C], [3C]: q, k, v stacked
  std::shared_ptr<Linear> out_proj;
  int64_t embed_dim, num_heads;
  MultiheadAttentionOptions options;
};

}  // namespace ember::nn
