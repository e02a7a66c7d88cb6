// debug.h - see inside a model while it runs: every layer's output shape and
// statistics, one line per layer, during forward passes.
//
//   auto watch = nn::watch_layers(*model);   // prints while `watch` lives
//   (*model)(x);
//   // layer        type        output shape      mean       std       min       max  nan
//   // 0            Linear      [128, 64]      -0.0213    0.5812   -2.0143    1.9874    0
//   // ...
//
// This is why people pick a define-by-run framework: nothing to compile, and
// the numbers are the ones the forward pass actually produced.
#pragma once

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "ember/nn/module.h"

namespace ember::nn {

struct LayerStats {
  std::string name, type;
  Shape shape;
  double mean, std, min, max;
  int64_t nan_count, inf_count;
};

// Statistics of one output tensor (float64, unrecorded).
LayerStats layer_stats(const std::string& name, const std::string& type, const Tensor& output);
std::string format_stats_header();
std::string format_stats(const LayerStats& s);

// Hooks on every submodule of `model` (and the model itself) that print a
// line per layer output to `out` and keep the rows; the hooks are removed
// when the watcher is destroyed.
class LayerWatcher {
 public:
  LayerWatcher(Module& model, std::ostream* out);
  ~LayerWatcher();
  LayerWatcher(const LayerWatcher&) = delete;
  LayerWatcher& operator=(const LayerWatcher&) = delete;
  const std::vector<LayerStats>& rows() const { return rows_; }

 private:
  std::vector<std::pair<Module*, int>> hooks_;
  std::vector<LayerStats> rows_;
  std::ostream* out_;
  bool header_printed_ = false;
};

std::unique_ptr<LayerWatcher> watch_layers(Module& model, std::ostream& out = std::cerr);

}  // namespace ember::nn
