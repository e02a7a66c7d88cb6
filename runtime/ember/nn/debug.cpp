// debug.cpp - layer statistics through forward hooks.
#include "ember/nn/debug.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember::nn {

LayerStats layer_stats(const std::string& name, const std::string& type, const Tensor& output) {
  LayerStats s{name, type, output.sizes(), 0, 0, 0, 0, 0, 0};
  // Unrecorded and unseen by a tracer: watching must not change the model's graph.
  NoGradGuard no_grad;
  std::vector<double> v;
  {
    ObserversHidden hidden;
    v = output.to_vector<double>();
  }
  double sum = 0, sq = 0;
  int64_t finite = 0;
  s.min = std::numeric_limits<double>::infinity();
  s.max = -std::numeric_limits<double>::infinity();
  for (double x : v) {
    if (std::isnan(x)) {
      ++s.nan_count;
      continue;
    }
    if (std::isinf(x)) {
      ++s.inf_count;
      continue;
    }
    sum += x;
    sq += x * x;
    ++finite;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  s.mean = finite ? sum / double(finite) : std::numeric_limits<double>::quiet_NaN();
  s.std = finite > 1 ? std::sqrt(std::max(0.0, (sq - sum * s.mean) / double(finite - 1))) : 0.0;
  if (!finite) s.min = s.max = std::numeric_limits<double>::quiet_NaN();
  return s;
}

std::string format_stats_header() {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-24s %-12s %-18s %10s %10s %10s %10s %5s %5s", "layer", "type",
                "output shape", "mean", "std", "min", "max", "nan", "inf");
  return buf;
}

std::string format_stats(const LayerStats& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-24s %-12s %-18s %10.4f %10.4f %10.4f %10.4f %5lld %5lld",
                s.name.empty() ? "(model)" : s.name.c_str(), s.type.c_str(), to_string(s.shape).c_str(),
                s.mean, s.std, s.min, s.max, (long long)s.nan_count, (long long)s.inf_count);
  return buf;
}

LayerWatcher::LayerWatcher(Module& model, std::ostream* out) : out_(out) {
  for (auto& [name, module] : model.named_modules()) {
    const std::string n = name;
    const int h =
        module->register_forward_hook([this, n](Module& m, const std::vector<Tensor>&, const Tensor& y) {
          rows_.push_back(layer_stats(n, m.type_name(), y));
          if (!out_) return;
          if (!header_printed_) {
            *out_ << format_stats_header() << "\n";
            header_printed_ = true;
          }
          *out_ << format_stats(rows_.back()) << "\n";
        });
    hooks_.emplace_back(module, h);
  }
}

LayerWatcher::~LayerWatcher() {
  for (auto& [m, h] : hooks_) m->remove_hook(h);
}

std::unique_ptr<LayerWatcher> watch_layers(Module& model, std::ostream& out) {
  return std::make_unique<LayerWatcher>(model, &out);
}

}  // namespace ember::nn
