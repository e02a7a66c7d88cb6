// ops.cpp - the op table from Python: ember.name(...) functions and Tensor
// methods with PyTorch's names and keywords, and Python's operators. Rows
// whose API is the op itself are bound by generated code (python_ops.inc,
// tools/opgen); the rest, whose PyTorch spelling differs from the row
// (reductions with dim=, max returning values and indices, ...), are here.
// Every row's Python spelling is in its schema entry (`python: calls`), which
// python/tests/test_op_sweep.py runs against numpy.
#include <pybind11/stl.h>

#include "bindings.h"
#include "ember/dispatch.h"

namespace py = pybind11;

namespace ember::python {
namespace {

bool is_number(const py::handle& v) {
  return py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v);
}

// A Python number as a 0-d tensor, for ops of the table that take no C++ number.
Tensor number_tensor(const py::handle& v) { return scalar_tensor(to_scalar(v)); }

std::vector<int64_t> dims_arg(const py::object& dim) {
  if (dim.is_none()) return {};
  if (py::isinstance<py::int_>(dim)) return {dim.cast<int64_t>()};
  return dim.cast<std::vector<int64_t>>();
}

// x.max() / x.max(dim) -> (values, indices) / x.max(other) as PyTorch reads them.
py::object max_or_min(const Tensor& x, const py::object& dim, bool keepdim, bool is_max) {
  if (dim.is_none()) return py::cast(is_max ? x.max() : x.min());
  if (py::isinstance<Tensor>(dim)) {
    const Tensor& other = dim.cast<const Tensor&>();
    return py::cast(is_max ? maximum(x, other) : minimum(x, other));
  }
  auto [values, indices] = is_max ? x.max(dim.cast<int64_t>(), keepdim) : x.min(dim.cast<int64_t>(), keepdim);
  return py::make_tuple(values, indices);
}

// The reductions over dims: x.sum(), x.sum(1), x.sum(dim=(0, 2), keepdim=True).
using DimsReduction = Tensor (Tensor::*)(IntArrayRef, bool, const Loc&) const;
const std::pair<const char*, DimsReduction> kDimsReductions[] = {
    {"sum", &Tensor::sum}, {"mean", &Tensor::mean}, {"amax", &Tensor::amax}, {"amin", &Tensor::amin}};

// Python's operators over the binary rows: name, op, whether the tensor is the right operand.
struct OperatorRow {
  const char* name;
  OpId op;
  bool reflected;
};
const OperatorRow kOperators[] = {
    {"__add__", OpId::add, false},     {"__radd__", OpId::add, true},     {"__sub__", OpId::sub, false},
    {"__rsub__", OpId::sub, true},     {"__mul__", OpId::mul, false},     {"__rmul__", OpId::mul, true},
    {"__truediv__", OpId::div, false}, {"__rtruediv__", OpId::div, true}, {"__pow__", OpId::pow, false},
    {"__rpow__", OpId::pow, true},     {"__eq__", OpId::eq, false},       {"__ne__", OpId::ne, false},
    {"__lt__", OpId::lt, false},       {"__le__", OpId::le, false},       {"__gt__", OpId::gt, false},
    {"__ge__", OpId::ge, false}};

// In place: x += y writes into x (and fails, as in PyTorch, on a leaf that requires grad).
using InPlace = Tensor& (Tensor::*)(const Tensor&, const Loc&);
using InPlaceScalar = Tensor& (Tensor::*)(Scalar, const Loc&);
struct InPlaceRow {
  const char* name;
  InPlace with_tensor;
  InPlaceScalar with_number;
};
const InPlaceRow kInPlace[] = {{"__iadd__", &Tensor::add_, &Tensor::add_},
                               {"__isub__", &Tensor::sub_, &Tensor::sub_},
                               {"__imul__", &Tensor::mul_, &Tensor::mul_},
                               {"__itruediv__", &Tensor::div_, &Tensor::div_}};

void bind_reductions(py::module_& m, py::class_<Tensor>& tensor) {
  for (const auto& [name, reduce] : kDimsReductions) {
    auto f = [reduce = reduce](const Tensor& input, const py::object& dim, bool keepdim) {
      return (input.*reduce)(dims_arg(dim), keepdim, Loc::current());
    };
    const std::string doc = std::string(name) +
                            "(input, dim=None, keepdim=False) -> Tensor\n\nOver the dims given (an int or a "
                            "tuple; all when None); keepdim keeps them as size 1.\n\nExample::\n\n    >>> "
                            "ember." +
                            name + "(ember.rand(3, 4, 2), dim=1, keepdim=True).shape\n    (3, 1, 2)\n";
    m.def(name, f, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, doc.c_str());
    tensor.def(name, f, py::arg("dim") = py::none(), py::arg("keepdim") = false, doc.c_str());
  }
  auto var = [](const Tensor& input, const py::object& dim, int64_t correction, bool keepdim) {
    return input.var(dims_arg(dim), correction, keepdim);
  };
  const char* var_doc =
      "var(input, dim=None, correction=1, keepdim=False) -> Tensor\n\nVariance over dim, dividing by n - "
      "correction.\n\nExample::\n\n    >>> ember.var(ember.rand(3, 4), dim=1).shape\n    (3,)\n";
  m.def("var", var, py::arg("input"), py::arg("dim") = py::none(), py::kw_only(), py::arg("correction") = 1,
        py::arg("keepdim") = false, var_doc);
  tensor.def("var", var, py::arg("dim") = py::none(), py::kw_only(), py::arg("correction") = 1,
             py::arg("keepdim") = false, var_doc);
  auto logsumexp = [](const Tensor& input, const py::object& dim, bool keepdim) {
    return input.logsumexp(dims_arg(dim), keepdim);
  };
  const char* lse_doc =
      "logsumexp(input, dim, keepdim=False) -> Tensor\n\nlog(sum(exp(input))) over dim, without "
      "overflow.\n\nExample::\n\n    >>> ember.logsumexp(ember.rand(3, 4), dim=1).shape\n    (3,)\n";
  m.def("logsumexp", logsumexp, py::arg("input"), py::arg("dim"), py::arg("keepdim") = false, lse_doc);
  tensor.def("logsumexp", logsumexp, py::arg("dim"), py::arg("keepdim") = false, lse_doc);
  for (const bool is_max : {true, false}) {
    const char* name = is_max ? "max" : "min";
    auto f = [is_max](const Tensor& input, const py::object& dim, bool keepdim) {
      return max_or_min(input, dim, keepdim, is_max);
    };
    const std::string doc =
        std::string(name) + "(input, dim=None, keepdim=False)\n\nWithout dim: the " + name +
        " of all elements (0-d). With an int dim: (values, indices) along it. With a "
        "tensor: the elementwise " +
        (is_max ? "maximum" : "minimum") + ".\n\nExample::\n\n    >>> values, indices = ember." + name +
        "(ember.rand(3, 4), dim=1)\n";
    m.def(name, f, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, doc.c_str());
    tensor.def(name, f, py::arg("dim") = py::none(), py::arg("keepdim") = false, doc.c_str());
  }
  for (const bool is_max : {true, false}) {
    const char* name = is_max ? "argmax" : "argmin";
    auto f = [is_max](const Tensor& input, int64_t dim, bool keepdim) {
      return is_max ? input.argmax(dim, keepdim) : input.argmin(dim, keepdim);
    };
    const std::string doc =
        std::string(name) + "(input, dim, keepdim=False) -> Tensor\n\nint64 indices of the " +
        (is_max ? "largest" : "smallest") + " element along dim.\n\nExample::\n\n    >>> ember." + name +
        "(ember.rand(3, 4), dim=1).shape\n    (3,)\n";
    m.def(name, f, py::arg("input"), py::arg("dim"), py::arg("keepdim") = false, doc.c_str());
    tensor.def(name, f, py::arg("dim"), py::arg("keepdim") = false, doc.c_str());
  }
}

void bind_elementwise(py::module_& m, py::class_<Tensor>& tensor) {
  auto clamp = [](const Tensor& input, std::optional<double> min, std::optional<double> max) {
    return input.clamp(min, max);
  };
  const char* clamp_doc =
      "clamp(input, min=None, max=None) -> Tensor\n\nEach element clamped into [min, max]; either bound "
      "may be None.\n\nExample::\n\n    >>> ember.clamp(ember.randn(3), min=-0.5, max=0.5)\n";
  m.def("clamp", clamp, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none(),
        clamp_doc);
  tensor.def("clamp", clamp, py::arg("min") = py::none(), py::arg("max") = py::none(), clamp_doc);
  m.def(
      "full_like",
      [](const Tensor& input, const py::object& value) { return full_like(input, to_scalar(value)); },
      py::arg("input"), py::arg("fill_value"),
      "full_like(input, fill_value) -> Tensor\n\nA new tensor of input's shape and dtype, every element "
      "fill_value.\n\nExample::\n\n    >>> ember.full_like(ember.rand(2, 3), 2.5)\n");
  // PyTorch's tril/triu: as functions and methods.
  for (const auto& [name, fn] :
       {std::pair<const char*, Tensor (*)(const Tensor&, int64_t, const Loc&)>{"tril", &tril},
        {"triu", &triu}}) {
    const std::string doc =
        std::string(name) + "(input, diagonal=0) -> Tensor\n\nThe " + (name[3] == 'l' ? "lower" : "upper") +
        " triangle of the last two dims from the diagonal-th diagonal (0: the main one, > 0 "
        "above it), zeros elsewhere.\n\nExample::\n\n    >>> ember." +
        name + "(ember.ones(3, 3))\n";
    const auto call = [fn](const Tensor& x, int64_t diagonal) { return fn(x, diagonal, Loc::current()); };
    m.def(name, call, py::arg("input"), py::arg("diagonal") = 0, doc.c_str());
    tensor.def(name, call, py::arg("diagonal") = 0, doc.c_str());
  }
  tensor.def(
      "where",
      [](const Tensor& input, const Tensor& condition, const py::object& other) {
        return where(condition, input,
                     py::isinstance<Tensor>(other) ? other.cast<Tensor>() : number_tensor(other));
      },
      py::arg("condition"), py::arg("other"),
      "where(condition, other) -> Tensor\n\nself where condition is true, other elsewhere "
      "(ember.where(condition, "
      "self, other)).\n\nExample::\n\n    >>> x = ember.randn(3)\n    >>> x.where(x > 0, 0.0)\n");
  for (const auto& row : kOperators)
    tensor.def(row.name, [row](const Tensor& self, const py::object& other) {
      return row.reflected ? binary_call(row.op, other, py::cast(self)) : binary_call(row.op, self, other);
    });
  tensor.def("__matmul__", &matmul_released).def("__neg__", [](const Tensor& a) { return -a; });
  tensor.def("__abs__", [](const Tensor& a) { return a.abs(); });
  for (const auto& row : kInPlace)
    tensor.def(row.name, [row](Tensor& self, const py::object& other) {
      if (py::isinstance<Tensor>(other))
        (self.*row.with_tensor)(other.cast<const Tensor&>(), Loc::current());
      else
        (self.*row.with_number)(to_scalar(other), Loc::current());
      return self;
    });
}

void bind_shape_ops(py::module_& m, py::class_<Tensor>& tensor) {
  m.def(
      "permute", [](const Tensor& input, const std::vector<int64_t>& dims) { return input.permute(dims); },
      py::arg("input"), py::arg("dims"),
      "permute(input, dims) -> Tensor\n\nA view with the dims reordered: result dim i is input dim "
      "dims[i].\n\nExample::\n\n    >>> ember.permute(ember.rand(2, 3, 4), (2, 0, 1)).shape\n    (4, 2, "
      "3)\n");
  m.def(
      "squeeze",
      [](const Tensor& input, const py::object& dim) {
        return dim.is_none() ? input.squeeze() : input.squeeze(dim.cast<int64_t>());
      },
      py::arg("input"), py::arg("dim") = py::none(),
      "squeeze(input, dim=None) -> Tensor\n\nA view without size-1 dims (only dim, if "
      "given).\n\nExample::\n\n"
      "    >>> ember.squeeze(ember.rand(3, 1, 4)).shape\n    (3, 4)\n");
  tensor.def(
      "select", [](const Tensor& s, int64_t dim, int64_t index) { return s.select(dim, index); },
      py::arg("dim"), py::arg("index"),
      "select(dim, index) -> Tensor\n\nThe view at index along dim, without that dim (x.select(0, 2) is "
      "x[2]).\n\nExample::\n\n    >>> ember.rand(3, 4).select(1, 2).shape\n    (3,)\n");
  tensor.def(
      "narrow",
      [](const Tensor& s, int64_t dim, int64_t start, int64_t length) {
        return s.narrow(dim, start, length);
      },
      py::arg("dim"), py::arg("start"), py::arg("length"),
      "narrow(dim, start, length) -> Tensor\n\nThe view of length elements from start along dim.\n\n"
      "Example::\n\n    >>> ember.rand(3, 4).narrow(1, 1, 2).shape\n    (3, 2)\n");
  tensor.def(
      "expand", [](const Tensor& s, const py::args& shape) { return s.expand(sizes_from(shape)); },
      "expand(*sizes) -> Tensor\n\nA view with size-1 dims broadcast to sizes (-1 keeps a size); no "
      "copy.\n\nExample::\n\n    >>> ember.rand(3, 1).expand(2, 3, 4).shape\n    (2, 3, 4)\n");
}

void bind_creation_ops(py::module_& m) {
  m.def(
      "linspace",
      [](double start, double end, int64_t steps, const py::object& dtype) {
        return linspace(start, end, steps, dtype.is_none() ? DType::Float32 : dtype.cast<DType>());
      },
      py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
      "linspace(start, end, steps, *, dtype=None) -> Tensor\n\nsteps values evenly spaced from start to end, "
      "both included.\n\nExample::\n\n    >>> ember.linspace(0, 1, 5)\n");
  m.def(
      "eye",
      [](int64_t n, const py::object& cols, const py::object& dtype) {
        return eye(n, cols.is_none() ? -1 : cols.cast<int64_t>(),
                   dtype.is_none() ? DType::Float32 : dtype.cast<DType>());
      },
      py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
      "eye(n, m=None, *, dtype=None) -> Tensor\n\nAn [n, m] matrix (m = n by default) with ones on the "
      "diagonal.\n\nExample::\n\n    >>> ember.eye(3)\n");
  m.def(
      "randint",
      [](int64_t low, int64_t high, const std::vector<int64_t>& size, const py::object& dtype) {
        return randint(low, high, size, dtype.is_none() ? DType::Int64 : dtype.cast<DType>());
      },
      py::arg("low"), py::arg("high"), py::arg("size"), py::kw_only(), py::arg("dtype") = py::none(),
      "randint(low, high, size, *, dtype=None) -> Tensor\n\nIntegers drawn uniformly from [low, high) "
      "(int64 by default), from ember's generator (ember.manual_seed).\n\nExample::\n\n    >>> "
      "ember.randint(0, 10, (3, 4))\n");
}

}  // namespace

Tensor binary_call(OpId op, const py::object& a, const py::object& b) {
  const bool a_tensor = py::isinstance<Tensor>(a), b_tensor = py::isinstance<Tensor>(b);
  if (a_tensor && b_tensor)
    return dispatch(op, {a.cast<const Tensor&>(), b.cast<const Tensor&>()}, {}, Loc::current());
  if (a_tensor && is_number(b)) return binary_scalar(op, a.cast<const Tensor&>(), to_scalar(b), false);
  if (b_tensor && is_number(a)) return binary_scalar(op, b.cast<const Tensor&>(), to_scalar(a), true);
  throw py::type_error(std::string(op_name(op)) + ": expected tensors or numbers, got " +
                       std::string(py::str(a.get_type())) + " and " + std::string(py::str(b.get_type())));
}

Tensor binary_call(OpId op, const Tensor& a, const py::object& b) {
  if (py::isinstance<Tensor>(b)) return dispatch(op, {a, b.cast<const Tensor&>()}, {}, Loc::current());
  return binary_scalar(op, a, to_scalar(b), false);
}

void bind_table_ops(py::module_& m, py::class_<Tensor>& tensor) {
#include "ember/python_ops.inc"
  bind_reductions(m, tensor);
  bind_elementwise(m, tensor);
  bind_shape_ops(m, tensor);
  bind_creation_ops(m);
}

}  // namespace ember::python
