// tensor.cpp - ember.Tensor: properties, operators, indexing, methods with
// PyTorch's names and keywords, numpy views, autograd members.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "docstrings.h"
#include "ember/dispatch.h"
#include "python_location.h"

namespace py = pybind11;

namespace ember::python {

Scalar to_scalar(const py::handle& value) {
  if (py::isinstance<py::bool_>(value)) return Scalar(value.cast<bool>());
  if (py::isinstance<py::int_>(value)) return Scalar(value.cast<int64_t>());
  if (py::isinstance<py::float_>(value)) return Scalar(value.cast<double>());
  throw py::type_error("expected a tensor or a number, got " + std::string(py::str(value.get_type())));
}

TensorOrScalar operand(const py::handle& value) {
  if (py::isinstance<Tensor>(value)) return value.cast<Tensor>();
  return to_scalar(value);
}

std::vector<int64_t> sizes_from(const py::args& args) {
  if (args.size() == 1 && (py::isinstance<py::tuple>(args[0]) || py::isinstance<py::list>(args[0])))
    return args[0].cast<std::vector<int64_t>>();
  return args.cast<std::vector<int64_t>>();
}

namespace {

const char* buffer_format(DType d) {
  switch (d) {
    case DType::Bool:
      return "?";
    case DType::Int32:
      return "i";
    case DType::Int64:
      return "q";
    case DType::Float32:
      return "f";
    case DType::Float64:
      return "d";
  }
  return "";
}

py::dtype numpy_dtype(DType d) { return py::dtype(buffer_format(d)); }

std::vector<py::ssize_t> byte_strides(const Tensor& t) {
  std::vector<py::ssize_t> s;
  for (int64_t i = 0; i < t.dim(); ++i) s.push_back(t.stride(i) * static_cast<int64_t>(itemsize(t.dtype())));
  return s;
}

// x.numpy(): a numpy array on the same memory, keeping the tensor alive.
py::array numpy_view(const Tensor& t) {
  if (t.requires_grad())
    throw Error(
        "numpy: the tensor requires grad; call detach().numpy() to view its values without the graph");
  const auto sizes = t.sizes().vec();
  return py::array(numpy_dtype(t.dtype()), std::vector<py::ssize_t>(sizes.begin(), sizes.end()),
                   byte_strides(t), t.data_ptr(), py::cast(t));
}

py::object item_of(const Tensor& t) {
  switch (t.dtype()) {
    case DType::Bool:
      return py::bool_(t.item<bool>());
    case DType::Int32:
    case DType::Int64:
      return py::int_(t.item<int64_t>());
    default:
      return py::float_(t.item<double>());
  }
}

py::object to_list(const Tensor& t) {
  if (t.dim() == 0) return item_of(t);
  py::list out;
  for (int64_t i = 0; i < t.size(0); ++i) out.append(to_list(t.select(0, i)));
  return out;
}

// x[...]: ints select, slices slice (positive steps), None adds a dim,
// Ellipsis stands for the dims not named; as PyTorch and numpy read them.
Tensor index(const Tensor& self, const py::object& key) {
  std::vector<py::object> items;
  if (py::isinstance<py::tuple>(key))
    for (const auto& k : key.cast<py::tuple>()) items.push_back(py::reinterpret_borrow<py::object>(k));
  else
    items.push_back(key);
  int64_t named = 0;
  for (const auto& k : items)
    if (!k.is_none() && !k.is(py::ellipsis())) ++named;
  Tensor out = self;
  int64_t dim = 0;  // of `out`
  for (const auto& k : items) {
    if (k.is_none()) {
      out = out.unsqueeze(dim++);
    } else if (k.is(py::ellipsis())) {
      dim += self.dim() - named;
    } else if (py::isinstance<py::int_>(k)) {
      out = out.select(dim, k.cast<int64_t>());
    } else if (py::isinstance<py::slice>(k)) {
      py::ssize_t start, stop, step, length;
      if (!k.cast<py::slice>().compute(out.size(dim), &start, &stop, &step, &length))
        throw py::error_already_set();
      if (step <= 0) throw py::value_error("ember tensors take slices with a positive step");
      out = out.slice(dim, start, start + length * step > stop ? stop : start + length * step, step);
      ++dim;
    } else {
      throw py::type_error("tensor indices are ints, slices, None or ..., not " +
                           std::string(py::str(k.get_type())));
    }
  }
  return out;
}

}  // namespace

// Note [The GIL around C++ work]
// Python threads overlap only where ember lets go of the GIL: around
// backward, the optimizers' steps, compiled calls and matmuls above
// kGilFreeWork multiply-adds (below it, releasing and taking the lock back
// costs more than the work). Whatever calls back into Python (tensor hooks,
// a traced function, freeing a numpy array's memory) takes it back first.
Tensor matmul_released(const Tensor& a, const Tensor& b) {
  constexpr int64_t kGilFreeWork = 1 << 16;
  const int64_t work = a.numel() * (b.dim() ? b.size(-1) : 1);  // m * k * n for matrices
  if (work < kGilFreeWork) return matmul(a, b);
  py::gil_scoped_release nogil;
  return matmul(a, b);
}

void bind_tensor(py::module_& m) {
  py::class_<Tensor> t(m, "Tensor", py::buffer_protocol());
  // Tensor(t): another handle to the same tensor (what Parameter's __init__ calls).
  t.def(py::init<const Tensor&>(), py::arg("tensor"));
  t.def_buffer([](Tensor& self) {
     const auto sizes = self.sizes().vec();
     return py::buffer_info(self.data_ptr(), static_cast<py::ssize_t>(itemsize(self.dtype())),
                            buffer_format(self.dtype()), self.dim(),
                            std::vector<py::ssize_t>(sizes.begin(), sizes.end()), byte_strides(self));
   })
      .def_property_readonly(
          "shape", [](const Tensor& s) { return py::tuple(py::cast(s.sizes().vec())); }, doc::shape)
      .def(
          "size",
          [](const Tensor& s, const py::object& dim) -> py::object {
            if (dim.is_none()) return py::tuple(py::cast(s.sizes().vec()));
            return py::int_(s.size(dim.cast<int64_t>()));
          },
          py::arg("dim") = py::none(), doc::size)
      .def_property_readonly("dtype", &Tensor::dtype, doc::dtype)
      .def_property_readonly("ndim", &Tensor::dim, doc::ndim)
      .def("dim", &Tensor::dim, doc::ndim)
      .def("numel", &Tensor::numel, doc::numel)
      .def("is_contiguous", &Tensor::is_contiguous, doc::is_contiguous)
      .def("item", &item_of, doc::item)
      .def("tolist", &to_list, doc::tolist)
      .def("numpy", &numpy_view, doc::numpy)
      .def(
          "__array__",
          [](const Tensor& s, const py::object& dtype) {
            py::array a = numpy_view(s.requires_grad() ? s.detach() : s);
            return dtype.is_none() ? a : py::array(a.attr("astype")(dtype));
          },
          py::arg("dtype") = py::none())
      .def("__repr__", [](const Tensor& s) { return to_string(s); })
      .def("__len__",
           [](const Tensor& s) {
             if (s.dim() == 0) throw py::type_error("len() of a 0-d tensor");
             return s.size(0);
           })
      .def("__iter__",
           [](const Tensor& s) {
             if (s.dim() == 0) throw py::type_error("iteration over a 0-d tensor");
             py::list rows;
             for (int64_t i = 0; i < s.size(0); ++i) rows.append(py::cast(s.select(0, i)));
             return py::iter(rows);
           })
      .def("__getitem__", &index)
      .def("__bool__", [](const Tensor& s) { return s.item<bool>(); })
      .def("__float__", [](const Tensor& s) { return s.item<double>(); })
      .def("__int__", [](const Tensor& s) { return s.item<int64_t>(); });

  t.attr("__hash__") = py::none();  // == is elementwise, as in PyTorch and numpy

  // Methods with PyTorch's names and keywords.
  t.def(
       "reshape", [](const Tensor& s, const py::args& shape) { return s.reshape(sizes_from(shape)); },
       doc::reshape)
      .def(
          "view", [](const Tensor& s, const py::args& shape) { return s.view(sizes_from(shape)); }, doc::view)
      .def(
          "permute", [](const Tensor& s, const py::args& dims) { return s.permute(sizes_from(dims)); },
          doc::permute)
      .def(
          "transpose", [](const Tensor& s, int64_t d0, int64_t d1) { return s.transpose(d0, d1); },
          py::arg("dim0"), py::arg("dim1"), doc::transpose)
      .def(
          "t", [](const Tensor& s) { return s.t(); }, doc::t)
      .def_property_readonly(
          "T", [](const Tensor& s) { return s.dim() < 2 ? s : s.t(); }, doc::T)
      .def(
          "unsqueeze", [](const Tensor& s, int64_t dim) { return s.unsqueeze(dim); }, py::arg("dim"),
          doc::unsqueeze)
      .def(
          "squeeze",
          [](const Tensor& s, const py::object& dim) {
            return dim.is_none() ? s.squeeze() : s.squeeze(dim.cast<int64_t>());
          },
          py::arg("dim") = py::none(), doc::squeeze)
      .def(
          "flatten", [](const Tensor& s, int64_t start, int64_t end) { return s.flatten(start, end); },
          py::arg("start_dim") = 0, py::arg("end_dim") = -1, doc::flatten)
      .def(
          "contiguous", [](const Tensor& s) { return s.contiguous(); }, doc::contiguous)
      .def(
          "clone", [](const Tensor& s) { return s.clone(); }, doc::clone)
      .def(
          "to", [](const Tensor& s, DType dtype) { return s.to(dtype); }, py::arg("dtype"), doc::to)
      .def(
          "float", [](const Tensor& s) { return s.to(DType::Float32); }, doc::to)
      .def(
          "double", [](const Tensor& s) { return s.to(DType::Float64); }, doc::to)
      .def(
          "long", [](const Tensor& s) { return s.to(DType::Int64); }, doc::to)
      .def(
          "masked_fill",
          [](const Tensor& s, const Tensor& mask, const py::object& v) {
            return s.masked_fill(mask, to_scalar(v));
          },
          py::arg("mask"), py::arg("value"), doc::masked_fill)
      .def(
          "zero_", [](Tensor& s) { return s.zero_(); }, doc::zero_)
      .def(
          "fill_", [](Tensor& s, const py::object& v) { return s.fill_(to_scalar(v)); }, py::arg("value"),
          doc::fill_);

  // Autograd.
  t.def_property(
       "requires_grad", [](const Tensor& s) { return s.requires_grad(); },
       [](Tensor& s, bool on) { s.requires_grad_(on); }, doc::requires_grad)
      .def(
          "requires_grad_", [](Tensor& s, bool on) { return s.requires_grad_(on); },
          py::arg("requires_grad") = true, doc::requires_grad_)
      .def_property(
          "grad",
          [](const Tensor& s) -> py::object {
            const Tensor g = s.grad();
            return g.defined() ? py::cast(g) : py::none();
          },
          [](Tensor& s, const py::object& g) { s.set_grad(g.is_none() ? Tensor() : g.cast<Tensor>()); },
          doc::grad)
      .def_property_readonly("is_leaf", &Tensor::is_leaf, doc::is_leaf)
      .def_property_readonly(
          "grad_fn",
          [](const Tensor& s) -> py::object {
            auto fn = s.grad_fn();
            return fn ? py::object(py::str(fn->name())) : py::object(py::none());
          },
          doc::grad_fn)
      .def(
          "detach", [](const Tensor& s) { return s.detach(); }, doc::detach)
      .def(
          "backward",
          [](const Tensor& s, const py::object& gradient, bool retain_graph, bool create_graph) {
            const Tensor seed = gradient.is_none() ? Tensor() : gradient.cast<Tensor>();
            // Read while the GIL is held: backward's own ops (the seed) name this line.
            const std::string where = observed() ? python_location() : std::string();
            py::gil_scoped_release nogil;  // Note [The GIL around C++ work]; hooks take it back
            ForeignLocationScope line(where);
            s.backward(seed, retain_graph, create_graph);
          },
          py::arg("gradient") = py::none(), py::arg("retain_graph") = false, py::arg("create_graph") = false,
          doc::backward)
      .def(
          "register_hook",
          [](const Tensor& s, const std::function<py::object(Tensor)>& hook) {
            s.register_hook([hook](const Tensor& g) {
              py::gil_scoped_acquire gil;  // backward runs without it
              py::object r = hook(g);
              return r.is_none() ? Tensor() : r.cast<Tensor>();
            });
          },
          py::arg("hook"), doc::register_hook);
  bind_table_ops(m, t);
  bind_dlpack(m, t);
}

}  // namespace ember::python
