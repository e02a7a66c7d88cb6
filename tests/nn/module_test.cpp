// module_test.cpp - Module registration, traversal, modes, dtype conversion,
// hooks, printing and the layer watcher.
#include <gtest/gtest.h>

#include <sstream>

#include "ember/ember.h"

namespace ember::nn {
namespace {

struct TwoLayer : Layer {
  std::shared_ptr<Linear> fc1, fc2;
  std::shared_ptr<BatchNorm1d> bn;
  TwoLayer() : Layer("TwoLayer") {
    fc1 = register_module("fc1", std::make_shared<Linear>(4, 3));
    bn = register_module("bn", std::make_shared<BatchNorm1d>(3));
    fc2 = register_module("fc2", std::make_shared<Linear>(3, 2, /*bias=*/false));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)((*bn)((*fc1)(x)).relu()); }
};

std::vector<std::string> names(const NamedTensors& v) {
  std::vector<std::string> out;
  for (auto& [n, t] : v) out.push_back(n);
  return out;
}

TEST(Module, RegistersParametersBuffersAndChildrenByDottedName) {
  TwoLayer m;
  EXPECT_EQ(names(m.named_parameters()),
            (std::vector<std::string>{"fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight"}));
  EXPECT_EQ(names(m.named_buffers()),
            (std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}));
  EXPECT_EQ(m.num_parameters(), 4 * 3 + 3 + 3 + 3 + 3 * 2);
  EXPECT_EQ(m.parameters().size(), 5u);
  for (const Tensor& p : m.parameters()) EXPECT_TRUE(p.requires_grad());
  std::vector<std::string> modules;
  for (auto& [n, mod] : m.named_modules()) modules.push_back(n + ":" + mod->type_name());
  EXPECT_EQ(modules, (std::vector<std::string>{":TwoLayer", "fc1:Linear", "bn:BatchNorm1d", "fc2:Linear"}));
  // The registry and the member are one tensor.
  EXPECT_TRUE(m.named_parameters()[0].second.is_same(m.fc1->weight));
}

TEST(Module, ZeroGradTrainEvalAndTo) {
  TwoLayer m;
  Tensor x = randn({5, 4});
  m(x).sum().backward();
  EXPECT_TRUE(m.fc1->weight.grad().defined());
  m.zero_grad();
  for (const Tensor& p : m.parameters()) EXPECT_FALSE(p.grad().defined());
  m.eval();
  EXPECT_FALSE(m.is_training());
  EXPECT_FALSE(m.bn->is_training());
  m.train();
  EXPECT_TRUE(m.bn->is_training());
  Tensor w = m.fc1->weight;
  const auto before = w.to_vector<double>();
  m.to(DType::Float64);
  EXPECT_EQ(w.dtype(), DType::Float64) << "handles held elsewhere see the conversion";
  EXPECT_EQ(w.to_vector<double>(), std::vector<double>(before.begin(), before.end()));
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(m.bn->num_batches_tracked.dtype(), DType::Int64) << "integer buffers keep their dtype";
  EXPECT_EQ(m(randn({5, 4}, DType::Float64)).dtype(), DType::Float64);
}

TEST(Module, PrintsTheTreeWithParameterCounts) {
  TwoLayer m;
  const std::string s = m.repr();
  EXPECT_NE(s.find("TwoLayer(\n  (fc1): Linear(in_features=4, out_features=3, bias=true)  [15 params]"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("(bn): BatchNorm1d(3, eps=1e-05, momentum=0.1)  [6 params]"), std::string::npos) << s;
  EXPECT_NE(s.find("(fc2): Linear(in_features=3, out_features=2, bias=false)  [6 params]"), std::string::npos)
      << s;
  EXPECT_NE(s.find("Total parameters: 27"), std::string::npos) << s;
  std::ostringstream out;
  out << Sequential(std::make_shared<Linear>(1000, 1000));
  EXPECT_NE(out.str().find("[1,001,000 params]"), std::string::npos) << out.str();
}

TEST(Module, ForwardHooksSeeInputsAndOutputsAndCanBeRemoved) {
  TwoLayer m;
  std::vector<std::string> calls;
  const int pre = m.fc1->register_forward_pre_hook([&](Module& mod, const std::vector<Tensor>& in) {
    calls.push_back("pre " + mod.type_name() + " " + to_string(in[0].sizes()));
  });
  const int post =
      m.fc2->register_forward_hook([&](Module& mod, const std::vector<Tensor>& in, const Tensor& out) {
        calls.push_back("post " + mod.type_name() + " " + to_string(out.sizes()));
      });
  m(randn({5, 4}));
  EXPECT_EQ(calls, (std::vector<std::string>{"pre Linear [5, 4]", "post Linear [5, 2]"}));
  m.fc1->remove_hook(pre);
  m.fc2->remove_hook(post);
  m(randn({5, 4}));
  EXPECT_EQ(calls.size(), 2u);
}

TEST(Module, WatchLayersPrintsEveryLayersStatistics) {
  auto model = std::make_shared<Sequential>(std::make_shared<Linear>(3, 4), std::make_shared<ReLU>(),
                                            std::make_shared<Linear>(4, 2));
  std::ostringstream out;
  Tensor x = tensor<float>({1, 2, 3, -1, -2, -3}, {2, 3});
  {
    auto watch = watch_layers(*model, out);
    (*model)(x);
    ASSERT_EQ(watch->rows().size(), 4u);       // three layers and the model
    const LayerStats relu = watch->rows()[1];  // a copy: the next forward adds rows
    EXPECT_EQ(relu.type, "ReLU");
    EXPECT_EQ(relu.shape, (Shape{2, 4}));
    EXPECT_GE(relu.min, 0.0);
    const auto v = (*model)[0](x).relu().to_vector<double>();
    double mean = 0;
    for (double e : v) mean += e / double(v.size());
    EXPECT_NEAR(relu.mean, mean, 1e-6);
    EXPECT_EQ(relu.nan_count, 0);
  }
  const std::string s = out.str();
  EXPECT_NE(s.find("output shape"), std::string::npos) << s;
  EXPECT_NE(s.find("ReLU"), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 4]"), std::string::npos) << s;
  // Removed with the watcher: nothing more is printed.
  const size_t len = s.size();
  (*model)(x);
  EXPECT_EQ(out.str().size(), len);
  // A NaN is counted.
  LayerStats stats = layer_stats("x", "T", tensor<float>({1, NAN, INFINITY}));
  EXPECT_EQ(stats.nan_count, 1);
  EXPECT_EQ(stats.inf_count, 1);
  EXPECT_EQ(stats.mean, 1.0);
}

}  // namespace
}  // namespace ember::nn
