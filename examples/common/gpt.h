// gpt.h - a small pre-norm GPT (the model of WORKLOADS.md's gpt_infer and
// gpt_train, and of examples/gpt_fortunes), built from ember's layers.
//
//   GPT model(GPTConfig{.vocab = 64, .block_size = 128, .layers = 2});
//   Tensor logits = model(tokens);            // tokens [B, T] int64 -> [B, T, vocab]
#pragma once

#include <cmath>
#include <limits>
#include <memory>

#include "ember/ember.h"

namespace ember::examples {

struct GPTConfig {
  int64_t vocab = 64;
  int64_t block_size = 128;  // the longest sequence (position embeddings)
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t channels = 256;
  // true: nn::MultiheadAttention over scaled_dot_product_attention (tiled,
  // no [T, T] scores in memory). false: attention written out with matmul,
  // a causal mask and softmax, as WORKLOADS.md describes it and as people
  // write it by hand (WrittenOutAttention).
  bool fused_attention = true;
};

// Causal self-attention from matmul, masked_fill and softmax: one Linear for
// q, k and v, scores q @ k^T / sqrt(d) per head, the future masked out,
// softmax, @ v, heads merged, an output Linear.
class WrittenOutAttention : public nn::Layer {
 public:
  WrittenOutAttention(int64_t channels, int64_t heads) : Layer("WrittenOutAttention"), heads(heads) {
    qkv = register_module("qkv", std::make_shared<nn::Linear>(channels, 3 * channels));
    proj = register_module("proj", std::make_shared<nn::Linear>(channels, channels));
  }
  Tensor forward(const Tensor& x) override {
    const int64_t b = x.size(0), t = x.size(1), c = x.size(2), d = c / heads;
    const Tensor parts = (*qkv)(x).view({b, t, 3, heads, d}).permute({2, 0, 3, 1, 4});
    const Tensor q = parts.select(0, 0), k = parts.select(0, 1), v = parts.select(0, 2);
    const Tensor future = ones({t, t}, DType::Bool).triu(1);
    const Tensor scores = (q.matmul(k.transpose(-2, -1)) * (1.0 / std::sqrt(double(d))))
                              .masked_fill(future, -std::numeric_limits<double>::infinity());
    const Tensor y = scores.softmax(-1).matmul(v);
    return (*proj)(y.transpose(1, 2).reshape({b, t, c}));
  }

  int64_t heads;
  std::shared_ptr<nn::Linear> qkv, proj;
};

// h = x + attn(ln1(x)); y = h + mlp(ln2(h)), attention causal.
class Block : public nn::Layer {
 public:
  Block(int64_t channels, int64_t heads, bool fused_attention) : Layer("Block") {
    ln1 = register_module("ln1", std::make_shared<nn::LayerNorm>(std::vector<int64_t>{channels}));
    if (fused_attention)
      attn = register_module("attn", std::make_shared<nn::MultiheadAttention>(
                                         channels, heads, nn::MultiheadAttentionOptions{.causal = true}));
    else
      written_out = register_module("attn", std::make_shared<WrittenOutAttention>(channels, heads));
    ln2 = register_module("ln2", std::make_shared<nn::LayerNorm>(std::vector<int64_t>{channels}));
    fc = register_module("fc", std::make_shared<nn::Linear>(channels, 4 * channels));
    proj = register_module("proj", std::make_shared<nn::Linear>(4 * channels, channels));
  }
  Tensor forward(const Tensor& x) override {
    const Tensor a = (*ln1)(x);
    const Tensor h = x + (attn ? (*attn)(a, a, a, Tensor()) : (*written_out)(a));
    return h + (*proj)((*fc)((*ln2)(h)).gelu());
  }

  std::shared_ptr<nn::LayerNorm> ln1, ln2;
  std::shared_ptr<nn::MultiheadAttention> attn;
  std::shared_ptr<WrittenOutAttention> written_out;
  std::shared_ptr<nn::Linear> fc, proj;
};

class GPT : public nn::Layer {
 public:
  explicit GPT(GPTConfig config) : Layer("GPT"), config(config) {
    token = register_module("token", std::make_shared<nn::Embedding>(config.vocab, config.channels));
    position =
        register_module("position", std::make_shared<nn::Embedding>(config.block_size, config.channels));
    blocks = register_module("blocks", std::make_shared<nn::ModuleListOf<Block>>());
    for (int64_t i = 0; i < config.layers; ++i)
      blocks->push_back(std::make_shared<Block>(config.channels, config.heads, config.fused_attention));
    ln = register_module("ln", std::make_shared<nn::LayerNorm>(std::vector<int64_t>{config.channels}));
    head = register_module("head", std::make_shared<nn::Linear>(config.channels, config.vocab));
  }
  // tokens [B, T] int64, T <= block_size -> logits [B, T, vocab]
  Tensor forward(const Tensor& tokens) override {
    const int64_t t = tokens.size(1);
    Tensor x = (*token)(tokens) + (*position)(arange(0, t, 1, DType::Int64));
    for (Block& block : *blocks) x = block(x);
    return (*head)((*ln)(x));
  }

  GPTConfig config;
  std::shared_ptr<nn::Embedding> token, position;
  std::shared_ptr<nn::ModuleListOf<Block>> blocks;
  std::shared_ptr<nn::LayerNorm> ln;
  std::shared_ptr<nn::Linear> head;
};

// The next-token loss of `logits` [B, T, V] against `targets` [B, T].
inline Tensor next_token_loss(const Tensor& logits, const Tensor& targets) {
  const int64_t v = logits.size(-1);
  return nn::cross_entropy(logits.reshape({-1, v}), targets.reshape({-1}));
}

}  // namespace ember::examples
