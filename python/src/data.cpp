// data.cpp - safetensors files and the bundled data sets, for ember.data
// and ember.save/load (the DataLoader itself is Python: ember/data.py).
#include <pybind11/stl.h>

#include "bindings.h"
#include "ember/data/digits.h"
#include "ember/data/words.h"
#include "ember/serialize/safetensors.h"

namespace py = pybind11;

namespace ember::python {

void bind_data(py::module_& m) {
  m.def("_save_safetensors",
        [](const std::vector<std::pair<std::string, Tensor>>& tensors, const std::string& path) {
          nn::NamedTensors named(tensors.begin(), tensors.end());
          save_safetensors(named, path);
        });
  m.def("_load_safetensors", [](const std::string& path) {
    std::vector<std::pair<std::string, Tensor>> out;
    for (auto& [name, t] : load_safetensors(path)) out.emplace_back(name, t);
    return out;
  });
  m.def("_load_digits", [] {
    const data::Digits d = data::load_digits();
    return py::make_tuple(d.images, d.labels);
  });
  m.def(
      "_load_words",
      [](int min_len, int max_len) { return data::load_words(data::kWordsPath, min_len, max_len); },
      py::arg("min_len") = 2, py::arg("max_len") = 12);
}

}  // namespace ember::python
