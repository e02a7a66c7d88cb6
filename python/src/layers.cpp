// layers.cpp - C++ layers whose forward is more than one op (LSTM, GRUCell,
// MultiheadAttention), for ember.nn's Python modules to wrap: each exposes
// its parameters (the very tensors its forward uses) and its forward.
#include <pybind11/stl.h>

#include "bindings.h"

namespace py = pybind11;

namespace ember::python {
namespace {

std::vector<std::pair<std::string, Tensor>> params_of(const nn::Module& m) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, t] : m.named_parameters()) out.emplace_back(name, t);
  return out;
}

Tensor or_undefined(const py::object& t) { return t.is_none() ? Tensor() : t.cast<Tensor>(); }

}  // namespace

void bind_layers(py::module_& m) {
  py::module_ l = m.def_submodule("_layers", "C++ layers that ember.nn wraps");
  py::class_<nn::LSTM, std::shared_ptr<nn::LSTM>>(l, "LSTM")
      .def(py::init<int64_t, int64_t, int64_t, bool>())
      .def("named_parameters", [](const nn::LSTM& s) { return params_of(s); })
      .def("forward",
           [](nn::LSTM& s, const Tensor& x, const py::object& h, const py::object& c) {
             auto [out, state] = s.forward(x, {or_undefined(h), or_undefined(c)});
             return py::make_tuple(out, py::make_tuple(state.h, state.c));
           })
      .def("__repr__", [](const nn::LSTM& s) { return s.repr(); });
  py::class_<nn::GRUCell, std::shared_ptr<nn::GRUCell>>(l, "GRUCell")
      .def(py::init<int64_t, int64_t, bool>())
      .def("named_parameters", [](const nn::GRUCell& s) { return params_of(s); })
      .def("forward",
           [](nn::GRUCell& s, const Tensor& x, const py::object& h) { return s.forward(x, or_undefined(h)); })
      .def("__repr__", [](const nn::GRUCell& s) { return s.repr(); });
  py::class_<nn::MultiheadAttention, std::shared_ptr<nn::MultiheadAttention>>(l, "MultiheadAttention")
      .def(py::init([](int64_t embed_dim, int64_t num_heads, bool bias, bool causal) {
        return std::make_shared<nn::MultiheadAttention>(
            embed_dim, num_heads, nn::MultiheadAttentionOptions{.bias = bias, .causal = causal});
      }))
      .def("named_parameters", [](const nn::MultiheadAttention& s) { return params_of(s); })
      .def("forward", [](nn::MultiheadAttention& s, const Tensor& q, const Tensor& k, const Tensor& v,
                         const py::object& mask) { return s.forward(q, k, v, or_undefined(mask)); })
      .def("__repr__", [](const nn::MultiheadAttention& s) { return s.repr(); });
}

}  // namespace ember::python
