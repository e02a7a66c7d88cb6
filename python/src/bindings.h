// bindings.h - what each binding file adds to the module, and the
// conversions they share.
#pragma once

#include <pybind11/pybind11.h>

#include <variant>

#include "ember/ember.h"
#include "ember/op_table.h"

namespace ember::python {

void bind_tensor(pybind11::module_& m);
void bind_creation(pybind11::module_& m);
void bind_autograd(pybind11::module_& m);
void bind_nn(pybind11::module_& m);
void bind_data(pybind11::module_& m);
void bind_function(pybind11::module_& m);
void bind_layers(pybind11::module_& m);
void bind_dlpack(pybind11::module_& m, pybind11::class_<Tensor>& tensor);
// The op table's functions, methods and operators (ops.cpp).
void bind_table_ops(pybind11::module_& m, pybind11::class_<Tensor>& tensor);

// A Python number as ember's Scalar (bool, int or float, kept apart).
Scalar to_scalar(const pybind11::handle& value);
// Sizes as PyTorch takes them: f(2, 3) or f((2, 3)) or f([2, 3]).
std::vector<int64_t> sizes_from(const pybind11::args& args);
// A tensor operand: a Tensor, or a Python number (as a 0-d tensor of its kind).
using TensorOrScalar = std::variant<Tensor, Scalar>;
TensorOrScalar operand(const pybind11::handle& value);
// matmul, without the GIL above a size (Note [The GIL around C++ work]).
Tensor matmul_released(const Tensor& a, const Tensor& b);
// A binary op of the table on tensors or Python numbers (either side).
Tensor binary_call(OpId op, const pybind11::object& a, const pybind11::object& b);
Tensor binary_call(OpId op, const Tensor& a, const pybind11::object& b);

}  // namespace ember::python
