// creation.cpp - making tensors from Python: ember.tensor, zeros, ones,
// rand, randn, full, arange; numpy both ways (from_numpy shares memory).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "docstrings.h"
#include "ember/threading.h"

namespace py = pybind11;

namespace ember::python {
namespace {

// numpy's dtype as ember's, or an error naming what ember does not have.
DType dtype_of(const py::dtype& d) {
  if (d.is(py::dtype::of<float>())) return DType::Float32;
  if (d.is(py::dtype::of<double>())) return DType::Float64;
  if (d.is(py::dtype::of<int32_t>())) return DType::Int32;
  if (d.is(py::dtype::of<int64_t>())) return DType::Int64;
  if (d.is(py::dtype::of<bool>())) return DType::Bool;
  const char kind = d.kind();
  if (kind == 'f' && d.itemsize() == 4) return DType::Float32;
  if (kind == 'f' && d.itemsize() == 8) return DType::Float64;
  if (kind == 'i' && d.itemsize() == 4) return DType::Int32;
  if (kind == 'i' && d.itemsize() == 8) return DType::Int64;
  if (kind == 'b') return DType::Bool;
  throw Error("from_numpy: numpy dtype " + py::str(static_cast<const py::handle&>(d)).cast<std::string>() +
              " has no ember dtype (float32, float64, int32, int64, bool); convert it with astype() first");
}

// The array's memory as a tensor, no copy; the array lives as long as the tensor.
Tensor from_numpy(const py::array& a) {
  const DType dtype = dtype_of(a.dtype());
  if (!(a.flags() & py::array::c_style))
    throw Error(
        "from_numpy: the array is not C-contiguous (a view with strides); pass "
        "numpy.ascontiguousarray(a), which copies, or ember.tensor(a)");
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  auto* keep = new py::object(a);  // released (with the GIL) when the last tensor on it dies
  return from_blob(const_cast<void*>(a.data()), shape, dtype, [keep] {
    py::gil_scoped_acquire gil;
    delete keep;
  });
}

// ember.tensor(data): a copy of nested lists, numbers or an array.
Tensor tensor_from(const py::object& data, const py::object& dtype, bool requires_grad) {
  py::array a = py::array::ensure(data);
  if (!a)
    throw py::type_error("ember.tensor: cannot make a tensor of " + std::string(py::str(data.get_type())));
  // Python floats default to float32, ints to int64, as PyTorch's do.
  if (!dtype.is_none())
    a = py::array(a.attr("astype")(py::dtype(py::str(py::cast(dtype.cast<DType>()).attr("name")))));
  else if (a.dtype().kind() == 'f' && a.dtype().itemsize() == 8 && !py::isinstance<py::array>(data))
    a = py::array(a.attr("astype")("float32"));
  a = py::array::ensure(a, py::array::c_style);
  Tensor t = from_numpy(a).clone();
  if (requires_grad) t.requires_grad_(true);
  return t;
}

DType dtype_or(const py::object& dtype, DType fallback) {
  return dtype.is_none() ? fallback : dtype.cast<DType>();
}

Tensor made(Tensor t, bool requires_grad) {
  if (requires_grad) t.requires_grad_(true);
  return t;
}

}  // namespace

void bind_creation(py::module_& m) {
  m.def("tensor", &tensor_from, py::arg("data"), py::arg("dtype") = py::none(),
        py::arg("requires_grad") = false, doc::tensor);
  m.def("from_numpy", &from_numpy, py::arg("array"), doc::from_numpy);
  // zeros(2, 3), ones((2, 3)), ...: the creation ops that take only sizes.
  using SizedMaker = Tensor (*)(IntArrayRef, DType, const Loc&);
  for (const auto& [name, make] : {std::pair<const char*, SizedMaker>{"zeros", &zeros},
                                   {"ones", &ones},
                                   {"rand", &rand},
                                   {"randn", &randn}})
    m.def(
        name,
        [make = make](const py::args& size, const py::object& dtype, bool rg) {
          return made(make(sizes_from(size), dtype_or(dtype, DType::Float32), Loc::current()), rg);
        },
        py::kw_only(), py::arg("dtype") = py::none(), py::arg("requires_grad") = false, doc::sized);
  m.def(
      "full",
      [](const std::vector<int64_t>& size, const py::object& value, const py::object& dtype, bool rg) {
        return made(full(size, to_scalar(value), dtype_or(dtype, DType::Float32)), rg);
      },
      py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("requires_grad") = false, doc::full);
  m.def(
      "arange",
      [](const py::object& start, const py::object& end, const py::object& step, const py::object& dtype) {
        const Scalar s = end.is_none() ? Scalar(int64_t{0}) : to_scalar(start);
        const Scalar e = end.is_none() ? to_scalar(start) : to_scalar(end);
        if (dtype.is_none()) return arange(s, e, to_scalar(step));
        return arange(s, e, to_scalar(step), dtype.cast<DType>());
      },
      py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(),
      py::arg("dtype") = py::none(), doc::arange);
  m.def(
      "zeros_like", [](const Tensor& t) { return zeros_like(t); }, py::arg("input"), doc::like);
  m.def(
      "ones_like", [](const Tensor& t) { return ones_like(t); }, py::arg("input"), doc::like);
  m.def(
      "manual_seed", [](uint64_t seed) { manual_seed(seed); }, py::arg("seed"), doc::manual_seed);
  m.def("set_num_threads", &set_num_threads, py::arg("n"), doc::set_num_threads);
  m.def("get_num_threads", &get_num_threads, doc::get_num_threads);
  m.def(
      "cat", [](const std::vector<Tensor>& ts, int64_t dim) { return cat(ts, dim); }, py::arg("tensors"),
      py::arg("dim") = 0, doc::cat);
  m.def(
      "stack", [](const std::vector<Tensor>& ts, int64_t dim) { return stack(ts, dim); }, py::arg("tensors"),
      py::arg("dim") = 0, doc::stack);
}

}  // namespace ember::python
