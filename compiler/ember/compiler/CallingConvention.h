// CallingConvention.h - how compiled functions take their arguments: one
// memref descriptor per tensor, {allocated, aligned, offset, sizes[rank],
// strides[rank]}, then the workspace, through the `_mlir_ciface_` wrapper
// of `llvm.emit_c_interface`. The JIT's calls build the descriptors in C++
// (PackedArgs); an export's C entry point builds the same ones in the LLVM
// dialect (push_descriptor): one convention, written once.
#pragma once

#include <cstdint>
#include <vector>

#include "ember/tensor.h"
#include "llvm/ADT/SmallVector.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace ember::compiler {

// The arguments of a call of a function compiled by jit(), through its
// packed C interface (`_mlir_ciface_<name>`): one memref descriptor per
// tensor, in the function's order, then the workspace of ember-pack-buffers.
// Kept by the caller and refilled for each call, so that a call allocates
// nothing once its buffers have grown (Note [Per-call state]).
class PackedArgs {
 public:
  void clear();
  // A descriptor of `t` (contiguous), or of rows [begin, end) of its dim 0.
  void add(const Tensor& t);
  void add_rows(const Tensor& t, int64_t begin, int64_t end);
  void add_workspace(const Tensor& workspace, int64_t bytes);
  void call(void (*entry)(void**));

 private:
  void add_descriptor(const void* data, const Shape& sizes, const Shape& strides);
  std::vector<int64_t> words_;
  std::vector<size_t> starts_;
  std::vector<void*> pointers_;
};

// The descriptor fields of a contiguous, row-major tensor of `shape` at
// `base` (an !llvm.ptr), appended to `fields` as the arguments of a call of
// the lowered function: allocated, aligned, offset, sizes, strides.
void push_descriptor(mlir::OpBuilder& b, mlir::Location l, mlir::Value base, const Shape& shape,
                     llvm::SmallVectorImpl<mlir::Value>& fields);

}  // namespace ember::compiler
