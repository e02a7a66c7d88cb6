// dlpack.cpp - DLPack both ways (Debian's libdlpack-dev, version 0.6):
// x.__dlpack__() / __dlpack_device__() let numpy's np.from_dlpack and
// PyTorch's torch.from_dlpack view an ember tensor, and ember.from_dlpack
// views theirs; no copies either way.
//
// Float32/64 and int32/64 go across. DLPack 0.6 has no bool code, and a
// producer's strided (non-contiguous) tensor is refused with the fix, as is
// memory that is not on the CPU.
#include <dlpack/dlpack.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "bindings.h"
#include "docstrings.h"

namespace py = pybind11;

namespace ember::python {
namespace {

constexpr const char* kCapsule = "dltensor";
constexpr const char* kUsedCapsule = "used_dltensor";

DLDataType dl_type(DType d) {
  switch (d) {
    case DType::Float32:
      return {kDLFloat, 32, 1};
    case DType::Float64:
      return {kDLFloat, 64, 1};
    case DType::Int32:
      return {kDLInt, 32, 1};
    case DType::Int64:
      return {kDLInt, 64, 1};
    case DType::Bool:
      break;
  }
  throw Error("__dlpack__: DLPack 0.6 has no bool type; convert with .long() first");
}

DType ember_type(DLDataType t) {
  if (t.lanes == 1 && t.code == kDLFloat && t.bits == 32) return DType::Float32;
  if (t.lanes == 1 && t.code == kDLFloat && t.bits == 64) return DType::Float64;
  if (t.lanes == 1 && t.code == kDLInt && t.bits == 32) return DType::Int32;
  if (t.lanes == 1 && t.code == kDLInt && t.bits == 64) return DType::Int64;
  throw Error("from_dlpack: DLPack type (code " + std::to_string(t.code) + ", " + std::to_string(t.bits) +
              " bits) has no ember dtype (float32, float64, int32, int64)");
}

// What an exported capsule owns: the tensor (keeping its memory alive) and
// the shape and strides DLTensor points at.
struct Exported {
  DLManagedTensor managed;
  Tensor tensor;
  std::vector<int64_t> shape, strides;
};

void delete_exported(DLManagedTensor* m) { delete static_cast<Exported*>(m->manager_ctx); }

py::capsule to_dlpack(const Tensor& t) {
  if (t.requires_grad())
    throw Error("__dlpack__: the tensor requires grad; call detach() first (DLPack carries no graph)");
  auto* e = new Exported{};
  e->tensor = t;
  e->shape = t.sizes().vec();
  for (int64_t i = 0; i < t.dim(); ++i) e->strides.push_back(t.stride(i));
  DLTensor& dl = e->managed.dl_tensor;
  dl.data = t.data_ptr();
  dl.device = {kDLCPU, 0};
  dl.ndim = static_cast<int32_t>(t.dim());
  try {
    dl.dtype = dl_type(t.dtype());
  } catch (...) {
    delete e;
    throw;
  }
  dl.shape = e->shape.data();
  dl.strides = e->strides.data();
  dl.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = &delete_exported;
  // A capsule nobody consumed frees the tensor itself; a consumer renames it
  // and calls the deleter when done.
  return py::capsule(&e->managed, kCapsule, [](PyObject* capsule) {
    if (PyCapsule_IsValid(capsule, kCapsule)) {
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kCapsule));
      if (m && m->deleter) m->deleter(m);
    }
  });
}

Tensor from_dlpack(const py::object& source) {
  if (!py::hasattr(source, "__dlpack__"))
    throw py::type_error(
        "from_dlpack: the object has no __dlpack__ (numpy >= 1.22 arrays and torch tensors do)");
  py::object capsule = source.attr("__dlpack__")();
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), kCapsule));
  if (!m) throw py::error_already_set();
  const DLTensor& dl = m->dl_tensor;
  if (dl.device.device_type != kDLCPU) throw Error("from_dlpack: the tensor is not in CPU memory");
  const DType dtype = ember_type(dl.dtype);
  std::vector<int64_t> shape(dl.shape, dl.shape + dl.ndim);
  if (dl.strides) {  // contiguous row-major only: from_blob's layout
    int64_t expected = 1;
    for (int32_t i = dl.ndim - 1; i >= 0; --i) {
      if (shape[i] != 1 && dl.strides[i] != expected)
        throw Error(
            "from_dlpack: the tensor is not contiguous (strided); pass a contiguous copy "
            "(numpy.ascontiguousarray, tensor.contiguous())");
      expected *= shape[i];
    }
  }
  PyCapsule_SetName(capsule.ptr(), kUsedCapsule);  // consumed: its destructor leaves it to us
  void* data = static_cast<char*>(dl.data) + dl.byte_offset;
  return from_blob(data, shape, dtype, [m] {
    py::gil_scoped_acquire gil;  // numpy's and torch's deleters touch Python objects
    if (m->deleter) m->deleter(m);
  });
}

}  // namespace

void bind_dlpack(py::module_& m, py::class_<Tensor>& tensor) {
  tensor.def(
      "__dlpack__", [](const Tensor& t, const py::object& /*stream*/) { return to_dlpack(t); },
      py::arg("stream") = py::none());
  tensor.def("__dlpack_device__", [](const Tensor&) { return py::make_tuple(static_cast<int>(kDLCPU), 0); });
  m.def("from_dlpack", &from_dlpack, py::arg("tensor"), doc::from_dlpack);
}

}  // namespace ember::python
