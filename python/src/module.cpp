// module.cpp - the extension module ember._ember: dtypes, the error type,
// and the bindings of each file (tensor.cpp, creation.cpp, autograd.cpp).
//
// Note [Errors at the user's Python line]
// ember::Error messages end with the caller's file:line, which for a call
// from Python is a line of these bindings. The translator swaps it for the
// Python file and line that made the call (the innermost Python frame
// outside ember's own package: python_location.h),
// looked up only when an error is raised, so calls that succeed pay nothing.
#include <pybind11/pybind11.h>

#include <regex>
#include <string>

#include "bindings.h"
#include "ember/dispatch.h"
#include "ember/ember.h"
#include "python_location.h"

namespace py = pybind11;

namespace {

std::string at_python_line(const std::string& message) {
  static const std::regex cpp_location(R"( \([^()\s]+\.(cpp|h):\d+\)$)");
  const std::string where = ember::python::python_location();
  if (where.empty()) return message;
  return std::regex_replace(message, cpp_location, "") + " (" + where + ")";
}

}  // namespace

PYBIND11_MODULE(_ember, m) {
  m.doc() = "ember's C++ core: tensors, autograd (the Python package is `ember`)";
  static py::exception<ember::Error> error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ember::Error& e) {
      PyErr_SetString(error.ptr(), at_python_line(e.what()).c_str());
    }
  });
  py::enum_<ember::DType> dtype(m, "dtype");
  dtype.value("bool", ember::DType::Bool)
      .value("int32", ember::DType::Int32)
      .value("int64", ember::DType::Int64)
      .value("float32", ember::DType::Float32)
      .value("float64", ember::DType::Float64);
  // Set, not def'd: a def would add an overload behind pybind11's own.
  const auto name = [](ember::DType d) { return std::string("ember.") + ember::dtype_name(d); };
  dtype.attr("__repr__") = py::cpp_function(name, py::is_method(dtype));
  dtype.attr("__str__") = py::cpp_function(name, py::is_method(dtype));
  // Note [Lines of other languages]: ops traced from Python carry its lines.
  ember::set_location_provider(&ember::python::python_location);
  ember::python::bind_tensor(m);
  ember::python::bind_creation(m);
  ember::python::bind_autograd(m);
  ember::python::bind_nn(m);
  ember::python::bind_data(m);
  ember::python::bind_function(m);
  ember::python::bind_layers(m);
}
