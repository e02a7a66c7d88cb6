// function.cpp - ember.autograd.Function subclasses: a Python forward and
// backward as one node of ember's autograd graph.
//
// ember/autograd.py runs forward without grad and calls _connect with the
// tensor inputs and the output; the node it attaches calls the class's
// backward (with the GIL: backward runs without it) and hands its results,
// one per tensor input, to the engine.
#include <pybind11/stl.h>

#include "bindings.h"
#include "ember/autograd/node.h"

namespace py = pybind11;

namespace ember::python {
namespace {

struct PythonFunctionNode : autograd::Node {
  py::object backward, ctx;
  std::string label;
  size_t num_inputs = 0;

  const char* name() const override { return label.c_str(); }

  std::vector<Tensor> apply(std::vector<Tensor>& grads) override {
    py::gil_scoped_acquire gil;
    py::object result = backward(ctx, grads[0].defined() ? py::cast(grads[0]) : py::none());
    std::vector<py::object> items;
    if (py::isinstance<py::tuple>(result) || py::isinstance<py::list>(result))
      for (const auto& r : result) items.push_back(py::reinterpret_borrow<py::object>(r));
    else
      items.push_back(result);
    if (items.size() != num_inputs)
      throw Error(label + ".backward returned " + std::to_string(items.size()) + " gradients for " +
                  std::to_string(num_inputs) + " tensor inputs of forward");
    std::vector<Tensor> out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].is_none()) {
        out.emplace_back();
        continue;
      }
      Tensor g = items[i].cast<Tensor>();
      if (!(g.sizes() == output_shapes_of_input[i]))
        throw Error(label + ".backward: the gradient of input " + std::to_string(i) + " has shape " +
                    to_string(g.sizes()) + " but the input has " + to_string(output_shapes_of_input[i]));
      out.push_back(g);
    }
    return out;
  }

  ~PythonFunctionNode() override {
    py::gil_scoped_acquire gil;  // the Python objects may die on the engine's thread
    backward = py::object();
    ctx = py::object();
  }

  std::vector<Shape> output_shapes_of_input;
};

}  // namespace

void bind_function(py::module_& m) {
  m.def("_connect", [](const std::string& name, py::object backward, py::object ctx,
                       const std::vector<Tensor>& inputs, Tensor output) {
    auto node = std::make_shared<PythonFunctionNode>();
    node->label = name;
    node->backward = std::move(backward);
    node->ctx = std::move(ctx);
    node->num_inputs = inputs.size();
    node->sequence_nr = autograd::next_sequence_nr();
    for (const Tensor& t : inputs) {
      node->next_edges.push_back(autograd::gradient_edge(t));
      node->output_shapes_of_input.push_back(t.sizes());
    }
    autograd::set_history(node, &output, 1);
    return output;
  });
  m.def("_version", [](const Tensor& t) { return t.version(); });
}

}  // namespace ember::python
