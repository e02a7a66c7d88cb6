// autograd.cpp - grad mode and ember.autograd.grad.
#include <pybind11/stl.h>

#include "bindings.h"
#include "docstrings.h"
#include "ember/autograd/anomaly.h"

namespace py = pybind11;

namespace ember::python {

void bind_autograd(py::module_& m) {
  m.def("is_grad_enabled", &is_grad_enabled, doc::is_grad_enabled);
  m.def("_set_detect_anomaly", &set_detect_anomaly);
  m.def("is_anomaly_enabled", &is_anomaly_enabled, doc::is_anomaly_enabled);
  m.def("_set_grad_enabled", &set_grad_enabled);
  m.def(
      "_grad",
      [](const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
         const py::object& grad_outputs) {
        std::vector<Tensor> seeds;
        if (grad_outputs.is_none())
          for (const Tensor& o : outputs) seeds.push_back(ones_like(o));
        else
          seeds = grad_outputs.cast<std::vector<Tensor>>();
        py::list out;
        for (const Tensor& g : autograd::grad(outputs, seeds, inputs))
          out.append(g.defined() ? py::cast(g) : py::none());
        return py::tuple(out);
      },
      py::arg("outputs"), py::arg("inputs"), py::arg("grad_outputs") = py::none());
}

}  // namespace ember::python
