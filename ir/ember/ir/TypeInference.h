// TypeInference.h - result types of ember ops, by the eager kernels' rules.
//
// Every op's inferReturnTypes (generated from EmberOps.td) calls one of these
// family rules; a rule that fails emits an error at the op's location, which
// is also how the verifier rejects malformed ops.
#pragma once

#include <optional>
#include <string_view>

#include "llvm/ADT/SmallVector.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/TypeRange.h"

namespace ember::ir {

using Types = llvm::SmallVectorImpl<mlir::Type>;

class Inference {
 public:
  Inference(mlir::MLIRContext* context, std::optional<mlir::Location> location, std::string_view op)
      : context_(context), location_(location), op_(op) {}

  llvm::LogicalResult unary(mlir::Type x, std::string_view domain, Types& out);
  llvm::LogicalResult cast(mlir::Type x, mlir::Type element, Types& out);
  llvm::LogicalResult binary(mlir::Type lhs, mlir::Type rhs, std::string_view rule, Types& out);
  llvm::LogicalResult where(mlir::Type cond, mlir::Type a, mlir::Type b, Types& out);
  llvm::LogicalResult reduce(mlir::Type x, llvm::ArrayRef<int64_t> dims, bool keepdim, std::string_view rule, Types& out);
  llvm::LogicalResult index_reduce(mlir::Type x, int64_t dim, bool keepdim, bool values, Types& out);
  llvm::LogicalResult matmul(mlir::Type lhs, mlir::Type rhs, Types& out);
  llvm::LogicalResult view(mlir::Type x, llvm::ArrayRef<int64_t> shape, Types& out);
  llvm::LogicalResult permute(mlir::Type x, llvm::ArrayRef<int64_t> dims, Types& out);
  llvm::LogicalResult slice(mlir::Type x, int64_t dim, int64_t start, int64_t end, int64_t step, Types& out);
  llvm::LogicalResult select(mlir::Type x, int64_t dim, int64_t index, Types& out);
  llvm::LogicalResult expand(mlir::Type x, llvm::ArrayRef<int64_t> shape, Types& out);
  llvm::LogicalResult squeeze(mlir::Type x, llvm::ArrayRef<int64_t> dims, Types& out);
  llvm::LogicalResult unsqueeze(mlir::Type x, int64_t dim, Types& out);
  llvm::LogicalResult scatter(mlir::Type x, llvm::ArrayRef<int64_t> input_shape, Types& out);
  llvm::LogicalResult along(mlir::Type x, int64_t dim, Types& out);
  llvm::LogicalResult layer_norm(mlir::TypeRange inputs, int64_t normalized_dims, Types& out);
  llvm::LogicalResult loss(mlir::Type input, mlir::Type targets, int64_t reduction, Types& out);
  llvm::LogicalResult embedding(mlir::Type weight, mlir::Type indices, Types& out);
  llvm::LogicalResult embedding_backward(mlir::Type grad, int64_t num_weights, Types& out);
  llvm::LogicalResult cat(mlir::TypeRange inputs, int64_t dim, Types& out);
  llvm::LogicalResult conv2d(mlir::TypeRange inputs, llvm::ArrayRef<int64_t> geometry, Types& out);
  llvm::LogicalResult pool(mlir::Type x, llvm::ArrayRef<int64_t> geometry, Types& out);
  llvm::LogicalResult shaped_like(mlir::Type like, llvm::ArrayRef<int64_t> shape, Types& out);
  llvm::LogicalResult create(llvm::ArrayRef<int64_t> shape, mlir::Type element, Types& out);
  llvm::LogicalResult constant(mlir::Attribute value, Types& out);

 private:
  llvm::LogicalResult fail(const std::string& message);
  std::optional<mlir::RankedTensorType> ranked(mlir::Type t, const char* what);
  std::optional<int64_t> wrap(int64_t dim, int64_t rank);
  mlir::RankedTensorType tensor(llvm::ArrayRef<int64_t> shape, mlir::Type element);

  mlir::MLIRContext* context_;
  std::optional<mlir::Location> location_;
  std::string_view op_;
};

// ember's dtypes as MLIR element types: f32, f64, i64, i32, i1.
bool is_ember_element_type(mlir::Type t);
bool is_float(mlir::Type t);
// PyTorch's promotion for two tensors of the given ranks (0-d tensors lose to
// dimensioned ones of the same or lower category).
mlir::Type promote(mlir::Type a, int64_t rank_a, mlir::Type b, int64_t rank_b);

}  // namespace ember::ir
