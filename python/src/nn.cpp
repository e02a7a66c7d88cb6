// nn.cpp - ember.nn.functional's ops and ember.optim's optimizers over
// parameters from Python modules (ember/nn.py holds Module itself).
#include <pybind11/stl.h>

#include "bindings.h"
#include "docstrings.h"
#include "ember/dispatch.h"
#include "ember/nn/debug.h"
#include "python_location.h"

namespace py = pybind11;

namespace ember::python {
namespace {

Reduction reduction_of(const std::string& r) {
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  if (r == "none") return Reduction::None;
  throw py::value_error("reduction is 'mean', 'sum' or 'none', not '" + r + "'");
}

Tensor or_undefined(const py::object& t) { return t.is_none() ? Tensor() : t.cast<Tensor>(); }

}  // namespace

void bind_nn(py::module_& m) {
  py::module_ f = m.def_submodule("_functional", "ember.nn.functional's C++ ops");
  f.def(
      "linear",
      [](const Tensor& x, const Tensor& w, const py::object& b) { return linear(x, w, or_undefined(b)); },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), doc::linear);
  using Activation = Tensor (Tensor::*)(const Loc&) const;
  for (const auto& [name, activation] : {std::pair<const char*, Activation>{"relu", &Tensor::relu},
                                         {"gelu", &Tensor::gelu},
                                         {"tanh", &Tensor::tanh},
                                         {"sigmoid", &Tensor::sigmoid}})
    f.def(
        name, [activation = activation](const Tensor& x) { return (x.*activation)(Loc::current()); },
        py::arg("input"), doc::activation);
  using AlongDim = Tensor (Tensor::*)(int64_t, const Loc&) const;
  for (const auto& [name, along] :
       {std::pair<const char*, AlongDim>{"softmax", &Tensor::softmax}, {"log_softmax", &Tensor::log_softmax}})
    f.def(
        name, [along = along](const Tensor& x, int64_t dim) { return (x.*along)(dim, Loc::current()); },
        py::arg("input"), py::arg("dim"), doc::softmax);
  f.def(
      "layer_norm",
      [](const Tensor& x, const std::vector<int64_t>& shape, const py::object& w, const py::object& b,
         double eps) { return layer_norm(x, shape, or_undefined(w), or_undefined(b), eps); },
      py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(),
      py::arg("bias") = py::none(), py::arg("eps") = 1e-5, doc::layer_norm);
  f.def(
      "dropout", [](const Tensor& x, double p, bool training) { return dropout(x, p, training); },
      py::arg("input"), py::arg("p") = 0.5, py::arg("training") = true, doc::dropout);
  using Pair = std::pair<int64_t, int64_t>;
  f.def(
      "conv2d",
      [](const Tensor& x, const Tensor& w, const py::object& b, Pair stride, Pair padding, Pair dilation) {
        return conv2d(x, w, or_undefined(b), {.stride = stride, .padding = padding, .dilation = dilation});
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = Pair{1, 1},
      py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1}, doc::conv2d);
  // max_pool2d and avg_pool2d: one window geometry, as PyTorch's.
  using Pool = Tensor (*)(const Tensor&, Pool2dOptions, const Loc&);
  for (const auto& [name, pool] :
       {std::pair<const char*, Pool>{"max_pool2d", &max_pool2d}, {"avg_pool2d", &avg_pool2d}})
    f.def(
        name,
        [pool = pool](const Tensor& x, Pair kernel, const std::optional<Pair>& stride, Pair padding) {
          return pool(x, {.kernel = kernel, .stride = stride, .padding = padding}, Loc::current());
        },
        py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(),
        py::arg("padding") = Pair{0, 0}, doc::pool2d);
  f.def(
      "scaled_dot_product_attention",
      [](const Tensor& q, const Tensor& k, const Tensor& v, const py::object& mask, bool is_causal,
         std::optional<double> scale) {
        return scaled_dot_product_attention(q, k, v, or_undefined(mask), is_causal, scale);
      },
      py::arg("query"), py::arg("key"), py::arg("value"), py::arg("attn_mask") = py::none(),
      py::arg("is_causal") = false, py::kw_only(), py::arg("scale") = py::none(),
      doc::scaled_dot_product_attention);
  f.def(
      "lstm",
      [](const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const py::object& b_ih,
         const py::object& b_hh, const std::optional<std::pair<Tensor, Tensor>>& hx) {
        return lstm(x, w_ih, w_hh, or_undefined(b_ih), or_undefined(b_hh), hx ? hx->first : Tensor(),
                    hx ? hx->second : Tensor());
      },
      py::arg("input"), py::arg("weight_ih"), py::arg("weight_hh"), py::arg("bias_ih") = py::none(),
      py::arg("bias_hh") = py::none(), py::arg("hx") = py::none(), doc::lstm);
  f.def(
      "gru",
      [](const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const py::object& b_ih,
         const py::object& b_hh, const py::object& hx) {
        return gru(x, w_ih, w_hh, or_undefined(b_ih), or_undefined(b_hh), or_undefined(hx));
      },
      py::arg("input"), py::arg("weight_ih"), py::arg("weight_hh"), py::arg("bias_ih") = py::none(),
      py::arg("bias_hh") = py::none(), py::arg("hx") = py::none(), doc::gru);
  f.def(
      "embedding", [](const Tensor& indices, const Tensor& weight) { return embedding(weight, indices); },
      py::arg("input"), py::arg("weight"), doc::embedding);
  f.def(
      "cross_entropy",
      [](const Tensor& logits, const Tensor& target, const std::string& reduction, int64_t ignore_index,
         double label_smoothing) {
        return nn::cross_entropy(logits, target,
                                 {.reduction = reduction_of(reduction),
                                  .ignore_index = ignore_index,
                                  .label_smoothing = label_smoothing});
      },
      py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("ignore_index") = -100,
      py::arg("label_smoothing") = 0.0, doc::cross_entropy);
  f.def(
      "nll_loss",
      [](const Tensor& log_probs, const Tensor& target, const std::string& reduction, int64_t ignore_index) {
        return nll_loss(log_probs, target, reduction_of(reduction), ignore_index);
      },
      py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("ignore_index") = -100,
      doc::nll_loss);
  f.def(
      "mse_loss",
      [](const Tensor& input, const Tensor& target, const std::string& reduction) {
        return nn::mse_loss(input, target, reduction_of(reduction));
      },
      py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", doc::mse_loss);

  // watch_layers' lines, formatted by the same C++ as nn::watch_layers'.
  f.def("_stats_header", &nn::format_stats_header);
  f.def("_stats_line", [](const std::string& name, const std::string& type, const Tensor& output) {
    return nn::format_stats(nn::layer_stats(name, type, output));
  });

  py::module_ o = m.def_submodule("_optim", "ember.optim's C++ optimizers");
  py::class_<optim::Optimizer>(o, "Optimizer")
      .def("step",
           [](optim::Optimizer& opt) {
             const std::string where =
                 observed() ? python_location() : std::string();  // the GIL is held here
             py::gil_scoped_release nogil;                        // Note [The GIL around C++ work]
             ForeignLocationScope line(where);
             opt.step();
           })
      .def("zero_grad", &optim::Optimizer::zero_grad)
      .def_property("lr", &optim::Optimizer::lr, &optim::Optimizer::set_lr);
  py::class_<optim::SGD, optim::Optimizer>(o, "SGD").def(
      py::init([](std::vector<Tensor> params, double lr, double momentum, double dampening,
                  double weight_decay, bool nesterov) {
        return new optim::SGD(std::move(params), {.lr = lr,
                                                  .momentum = momentum,
                                                  .dampening = dampening,
                                                  .nesterov = nesterov,
                                                  .weight_decay = weight_decay});
      }),
      py::arg("params"), py::arg("lr") = 0.01, py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
      py::arg("weight_decay") = 0.0, py::arg("nesterov") = false);
  py::class_<optim::Adam, optim::Optimizer>(o, "Adam").def(
      py::init([](std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps,
                  double weight_decay) {
        return new optim::Adam(std::move(params), {.lr = lr,
                                                   .beta1 = betas.first,
                                                   .beta2 = betas.second,
                                                   .eps = eps,
                                                   .weight_decay = weight_decay});
      }),
      py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::make_pair(0.9, 0.999),
      py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0);
  py::class_<optim::AdamW, optim::Adam>(o, "AdamW")
      .def(py::init([](std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps,
                       double weight_decay) {
             return new optim::AdamW(std::move(params), {.lr = lr,
                                                         .beta1 = betas.first,
                                                         .beta2 = betas.second,
                                                         .eps = eps,
                                                         .weight_decay = weight_decay});
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::make_pair(0.9, 0.999),
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.01);
}

}  // namespace ember::python
