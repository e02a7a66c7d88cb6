//===- CallingConvention.cpp - memref descriptors for compiled calls -------===//
//
// See CallingConvention.h.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/CallingConvention.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace ember::compiler {

void PackedArgs::clear() {
  words_.clear();
  starts_.clear();
}

// A memref descriptor: allocated, aligned, offset, sizes, strides.
void PackedArgs::add_descriptor(const void* data, const Shape& sizes, const Shape& strides) {
  starts_.push_back(words_.size());
  const auto base = reinterpret_cast<int64_t>(data);
  words_.insert(words_.end(), {base, base, 0});
  words_.insert(words_.end(), sizes.begin(), sizes.end());
  words_.insert(words_.end(), strides.begin(), strides.end());
}

void PackedArgs::add(const Tensor& t) { add_descriptor(t.data_ptr(), t.sizes(), t.strides()); }

void PackedArgs::add_rows(const Tensor& t, int64_t begin, int64_t end) {
  Shape sizes = t.sizes();
  sizes[0] = end - begin;
  add_descriptor(static_cast<const char*>(t.data_ptr()) + begin * t.strides()[0] * int64_t(t.itemsize()),
                 sizes, t.strides());
}

void PackedArgs::add_workspace(const Tensor& workspace, int64_t bytes) {
  add_descriptor(workspace.data_ptr(), Shape{bytes}, Shape{1});  // memref<?xi8>
}

void PackedArgs::call(void (*entry)(void**)) {
  // Descriptor pointers, then pointers to them: the packed interface takes
  // a pointer to each argument, and each argument is a descriptor pointer.
  const size_t n = starts_.size();
  pointers_.resize(2 * n);
  for (size_t i = 0; i < n; ++i) {
    pointers_[i] = words_.data() + starts_[i];
    pointers_[n + i] = &pointers_[i];
  }
  entry(pointers_.data() + n);
}

void push_descriptor(mlir::OpBuilder& b, mlir::Location l, mlir::Value base, const Shape& shape,
                     llvm::SmallVectorImpl<mlir::Value>& fields) {
  auto i64 = [&](int64_t v) {
    return b.create<mlir::LLVM::ConstantOp>(l, b.getI64Type(), b.getI64IntegerAttr(v));
  };
  fields.push_back(base);
  fields.push_back(base);
  fields.push_back(i64(0));
  for (int64_t s : shape) fields.push_back(i64(s));
  for (int64_t s : contiguous_strides(shape)) fields.push_back(i64(s));
}

}  // namespace ember::compiler
