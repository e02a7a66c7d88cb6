// layers.cpp - C++ layers for ember.nn's Python modules to wrap: each
// exposes its parameters and buffers (the very tensors its forward uses and
// updates), train/eval, its repr and its forward.
#include <pybind11/stl.h>

#include "bindings.h"

namespace py = pybind11;

namespace ember::python {
namespace {

Tensor or_undefined(const py::object& t) { return t.is_none() ? Tensor() : t.cast<Tensor>(); }

// What every wrapped layer has: its state by name, train/eval, its repr.
template <typename Layer>
py::class_<Layer, std::shared_ptr<Layer>> bind_layer(py::module_& l, const char* name) {
  py::class_<Layer, std::shared_ptr<Layer>> c(l, name);
  c.def("named_parameters", [](const Layer& s) { return s.named_parameters(); })
      .def("named_buffers", [](const Layer& s) { return s.named_buffers(); })
      .def("train", [](Layer& s, bool on) { s.train(on); })
      .def("__repr__", [](const Layer& s) { return s.repr(); });
  return c;
}

py::tuple state_tuple(const nn::LSTMState& s) { return py::make_tuple(s.h, s.c); }

}  // namespace

void bind_layers(py::module_& m) {
  py::module_ l = m.def_submodule("_layers", "C++ layers that ember.nn wraps");
  bind_layer<nn::LSTM>(l, "LSTM")
      .def(py::init<int64_t, int64_t, int64_t, bool>())
      .def("forward", [](nn::LSTM& s, const Tensor& x, const py::object& h, const py::object& c) {
        auto [out, state] = s.forward(x, {or_undefined(h), or_undefined(c)});
        return py::make_tuple(out, state_tuple(state));
      });
  bind_layer<nn::LSTMCell>(l, "LSTMCell")
      .def(py::init<int64_t, int64_t, bool>())
      .def("forward", [](nn::LSTMCell& s, const Tensor& x, const py::object& h, const py::object& c) {
        return state_tuple(s.forward(x, {or_undefined(h), or_undefined(c)}));
      });
  bind_layer<nn::GRU>(l, "GRU")
      .def(py::init<int64_t, int64_t, int64_t, bool>())
      .def("forward", [](nn::GRU& s, const Tensor& x, const py::object& h) {
        auto [out, final_h] = s.forward(x, or_undefined(h));
        return py::make_tuple(out, final_h);
      });
  bind_layer<nn::GRUCell>(l, "GRUCell")
      .def(py::init<int64_t, int64_t, bool>())
      .def("forward", [](nn::GRUCell& s, const Tensor& x, const py::object& h) {
        return s.forward(x, or_undefined(h));
      });
  bind_layer<nn::MultiheadAttention>(l, "MultiheadAttention")
      .def(py::init([](int64_t embed_dim, int64_t num_heads, bool bias, bool causal) {
        return std::make_shared<nn::MultiheadAttention>(
            embed_dim, num_heads, nn::MultiheadAttentionOptions{.bias = bias, .causal = causal});
      }))
      .def("forward", [](nn::MultiheadAttention& s, const Tensor& q, const Tensor& k, const Tensor& v,
                         const py::object& mask) { return s.forward(q, k, v, or_undefined(mask)); });
  bind_layer<nn::BatchNorm1d>(l, "BatchNorm1d")
      .def(py::init<int64_t, double, double>())
      .def("forward", [](nn::BatchNorm1d& s, const Tensor& x) { return s.forward(x); });
  bind_layer<nn::BatchNorm2d>(l, "BatchNorm2d")
      .def(py::init<int64_t, double, double>())
      .def("forward", [](nn::BatchNorm2d& s, const Tensor& x) { return s.forward(x); });
}

}  // namespace ember::python
