// jit.cpp - the extension module ember._jit: jit::compile over Python
// functions of tensors. A module of its own, linking the compiler (and
// with it libMLIR): `import ember` stays light, `ember.jit` loads it.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ember/ember.h"
#include "ember/jit/export.h"
#include "ember/jit/jit.h"

namespace py = pybind11;

namespace {

// What the Python function returned, as the tensors a trace records.
std::vector<ember::Tensor> tensors_of(const py::object& result) {
  if (py::isinstance<ember::Tensor>(result)) return {result.cast<ember::Tensor>()};
  if (py::isinstance<py::tuple>(result) || py::isinstance<py::list>(result))
    return result.cast<std::vector<ember::Tensor>>();
  throw py::type_error(
      "ember.jit.compile: the function must return a tensor, or a tuple or list of tensors, not " +
      std::string(py::str(result.get_type())));
}

}  // namespace

PYBIND11_MODULE(_jit, m) {
  m.doc() = "ember.jit's C++ side: jit::compile over Python functions";
  py::module_::import("ember._ember");  // the Tensor type and the error translation
  py::class_<ember::jit::CompiledFunction>(m, "CompiledFunction")
      .def("__call__", [](ember::jit::CompiledFunction& f,
                          const std::vector<ember::Tensor>& inputs) { return f(inputs); })
      .def("explain", &ember::jit::CompiledFunction::explain)
      .def("graph", &ember::jit::CompiledFunction::graph_text)
      .def("stage",
           [](const ember::jit::CompiledFunction& f, const std::string& name) {
             using ember::compiler::Stage;
             if (name == "ember") return f.stage(Stage::Ember);
             if (name == "linalg") return f.stage(Stage::Linalg);
             if (name == "buffers") return f.stage(Stage::Buffers);
             if (name == "llvm") return f.stage(Stage::LLVM);
             throw py::value_error("stage is 'ember', 'linalg', 'buffers' or 'llvm', not '" + name + "'");
           })
      .def("stats", [](const ember::jit::CompiledFunction& f) {
        const ember::jit::Stats s = f.stats();
        py::dict d;
        d["compiles"] = s.compiles;
        d["hits"] = s.hits;
        d["eager_calls"] = s.eager_calls;
        d["compile_ms"] = s.compile_ms;
        d["recompile_reasons"] = s.recompile_reasons;
        return d;
      });
  m.def("export_graph",
        [](const ember::jit::CompiledFunction& f, const std::vector<ember::Tensor>& inputs,
           const std::string& dir, const std::string& name, const std::vector<py::tuple>& dims) {
          // (input, dim) or (input, dim, size name): ember::jit::DynamicDim.
          std::vector<ember::jit::DynamicDim> dynamic_dims;
          for (const py::tuple& t : dims) {
            if (t.size() != 2 && t.size() != 3)
              throw py::type_error("export: each of dynamic_dims is (input, dim) or (input, dim, size name)");
            dynamic_dims.push_back(
                {t[0].cast<int>(), t[1].cast<int>(), t.size() == 3 ? t[2].cast<std::string>() : "n"});
          }
          return ember::jit::export_graph(f, inputs, dir, {.name = name, .dynamic_dims = dynamic_dims});
        });
  py::class_<ember::jit::LoadedExport>(m, "LoadedExport")
      .def("run", [](ember::jit::LoadedExport& e, const std::vector<ember::Tensor>& inputs) {
        return e.run(inputs);
      });
  m.def("load_export", [](const std::string& dir, const std::string& name) {
    return ember::jit::load_export(dir, {.name = name, .dynamic_dims = {}});
  });
  m.def(
      "compile",
      [](py::function fn, bool automatic_dynamic, const std::vector<std::pair<int, int>>& dynamic_dims) {
        ember::jit::Options options;
        options.automatic_dynamic = automatic_dynamic;
        options.dynamic_dims = dynamic_dims;
        return ember::jit::compile(
            [fn](const std::vector<ember::Tensor>& inputs) {
              py::gil_scoped_acquire gil;
              py::tuple args(inputs.size());
              for (size_t i = 0; i < inputs.size(); ++i) args[i] = py::cast(inputs[i]);
              return tensors_of(fn(*args));
            },
            options);
      },
      py::arg("fn"), py::arg("automatic_dynamic") = true,
      py::arg("dynamic_dims") = std::vector<std::pair<int, int>>{});
}
