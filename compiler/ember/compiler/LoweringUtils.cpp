// LoweringUtils.cpp - see LoweringUtils.h.
#include "ember/compiler/LoweringUtils.h"

#include <optional>

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace ember::compiler::lowering {

using mlir::OpBuilder;
using mlir::Type;
using mlir::Value;

bool is_float(Type t) { return mlir::isa<mlir::FloatType>(t); }

Value cast_to(OpBuilder& b, mlir::Location l, Value v, Type to) {
  const Type from = v.getType();
  if (from == to) return v;
  if (to.isInteger(1)) {
    if (is_float(from))
      return b.create<mlir::arith::CmpFOp>(l, mlir::arith::CmpFPredicate::UNE, v,
                                           b.create<mlir::arith::ConstantOp>(l, b.getFloatAttr(from, 0.0)));
    return b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::ne, v,
                                         b.create<mlir::arith::ConstantOp>(l, b.getIntegerAttr(from, 0)));
  }
  if (is_float(to)) {
    if (is_float(from))
      return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
                 ? Value(b.create<mlir::arith::ExtFOp>(l, to, v))
                 : Value(b.create<mlir::arith::TruncFOp>(l, to, v));
    if (from.isInteger(1)) return b.create<mlir::arith::UIToFPOp>(l, to, v);
    return b.create<mlir::arith::SIToFPOp>(l, to, v);
  }
  if (is_float(from)) return b.create<mlir::arith::FPToSIOp>(l, to, v);
  if (from.isInteger(1)) return b.create<mlir::arith::ExtUIOp>(l, to, v);
  return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
             ? Value(b.create<mlir::arith::ExtSIOp>(l, to, v))
             : Value(b.create<mlir::arith::TruncIOp>(l, to, v));
}

Value constant(OpBuilder& b, mlir::Location l, Type t, double v) {
  if (is_float(t)) return b.create<mlir::arith::ConstantOp>(l, b.getFloatAttr(t, v));
  return b.create<mlir::arith::ConstantOp>(l, b.getIntegerAttr(t, static_cast<int64_t>(v)));
}

llvm::SmallVector<Value> dynamic_sizes(OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape,
                                       mlir::ValueRange sources) {
  llvm::SmallVector<Value> sizes;
  const int64_t rank = static_cast<int64_t>(shape.size());
  for (int64_t d = 0; d < rank; ++d) {
    if (!mlir::ShapedType::isDynamic(shape[d])) continue;
    Value size;
    for (Value s : sources) {
      auto type = mlir::dyn_cast<mlir::RankedTensorType>(s.getType());
      const int64_t at = type ? d - rank + type.getRank() : -1;
      if (at >= 0 && type.isDynamicDim(at)) {
        size = b.create<mlir::tensor::DimOp>(l, s, at);
        break;
      }
    }
    assert(size && "a `?` dim no source has (Note [Dynamic dims in lowerings])");
    sizes.push_back(size);
  }
  return sizes;
}

bool has_dynamic_sources(llvm::ArrayRef<int64_t> shape, mlir::ValueRange sources) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  for (int64_t d = 0; d < rank; ++d) {
    if (!mlir::ShapedType::isDynamic(shape[d])) continue;
    bool found = false;
    for (Value s : sources) {
      auto type = mlir::dyn_cast<mlir::RankedTensorType>(s.getType());
      const int64_t at = type ? d - rank + type.getRank() : -1;
      found = found || (at >= 0 && type.isDynamicDim(at));
    }
    if (!found) return false;
  }
  return true;
}

Value empty(OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape, Type element,
            mlir::ValueRange sources) {
  return b.create<mlir::tensor::EmptyOp>(l, shape, element, dynamic_sizes(b, l, shape, sources));
}

Value count_of(OpBuilder& b, mlir::Location l, Value v, llvm::ArrayRef<int64_t> dims) {
  auto type = mlir::cast<mlir::RankedTensorType>(v.getType());
  int64_t fixed = 1;
  Value count;
  for (int64_t d : dims) {
    if (!type.isDynamicDim(d)) {
      fixed *= type.getDimSize(d);
      continue;
    }
    Value size = b.create<mlir::tensor::DimOp>(l, v, d);
    count = count ? Value(b.create<mlir::arith::MulIOp>(l, count, size)) : size;
  }
  Value constant = b.create<mlir::arith::ConstantIndexOp>(l, fixed);
  return count ? Value(b.create<mlir::arith::MulIOp>(l, count, constant)) : constant;
}

Value filled(OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape, Type element, Value value,
             mlir::ValueRange sources) {
  return b.create<mlir::linalg::FillOp>(l, value, empty(b, l, shape, element, sources)).getResult(0);
}

std::pair<Value, mlir::AffineMap> broadcast_operand(OpBuilder& b, mlir::Location l, Value v,
                                                    mlir::RankedTensorType result) {
  auto type = mlir::cast<mlir::RankedTensorType>(v.getType());
  const int64_t lead = result.getRank() - type.getRank();
  // Loop k iterates the k-th result dim whose size is not 1.
  llvm::SmallVector<int64_t> loop_of(result.getRank(), -1);
  int64_t loops = 0;
  for (int64_t d = 0; d < result.getRank(); ++d)
    if (result.getDimSize(d) != 1) loop_of[d] = loops++;
  llvm::SmallVector<mlir::AffineExpr> exprs;
  llvm::SmallVector<int64_t> kept_shape;
  llvm::SmallVector<mlir::ReassociationIndices> groups;
  mlir::ReassociationIndices pending;  // dropped dims waiting for the next kept one
  for (int64_t i = 0; i < type.getRank(); ++i) {
    pending.push_back(i);
    if (type.getDimSize(i) == 1) continue;  // broadcast, or a size-1 dim of the result
    exprs.push_back(b.getAffineDimExpr(loop_of[i + lead]));
    kept_shape.push_back(type.getDimSize(i));
    groups.push_back(pending);
    pending.clear();
  }
  if (!pending.empty() && !groups.empty()) groups.back().append(pending.begin(), pending.end());
  if (static_cast<int64_t>(kept_shape.size()) != type.getRank()) {
    auto kept = mlir::RankedTensorType::get(kept_shape, type.getElementType());
    v = b.create<mlir::tensor::CollapseShapeOp>(l, kept, v, groups);
  }
  return {v, mlir::AffineMap::get(loops, 0, exprs, b.getContext())};
}

mlir::RankedTensorType without_unit_dims(mlir::RankedTensorType t) {
  llvm::SmallVector<int64_t> shape;
  for (int64_t s : t.getShape())
    if (s != 1) shape.push_back(s);
  return mlir::RankedTensorType::get(shape, t.getElementType());
}

namespace {

// The groups that fold each size-1 dim of `shape` into its neighbour with
// another size (leading ones into the next, trailing ones into the last).
llvm::SmallVector<mlir::ReassociationIndices> unit_dim_groups(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<mlir::ReassociationIndices> groups;
  mlir::ReassociationIndices pending;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    pending.push_back(i);
    if (shape[i] == 1) continue;
    groups.push_back(pending);
    pending.clear();
  }
  if (!pending.empty() && !groups.empty()) groups.back().append(pending.begin(), pending.end());
  return groups;
}

// The groups of `wide`'s dims, in order, that collapse into `narrow`'s: a
// static dim of `narrow` is a group of static dims with its size as
// product, a `?` dim a group with exactly one `?` dim (expand_shape and
// collapse_shape then size it at run time); none when no grouping does.
// Ranks are at most 8: the search is a handful of steps.
bool regroup(llvm::ArrayRef<int64_t> wide, llvm::ArrayRef<int64_t> narrow, size_t i, size_t j,
             llvm::SmallVector<mlir::ReassociationIndices>& groups) {
  if (j == narrow.size()) return i == wide.size();
  const bool dynamic = mlir::ShapedType::isDynamic(narrow[j]);
  mlir::ReassociationIndices group;
  int64_t product = 1, dynamics = 0;
  for (size_t k = i; k < wide.size(); ++k) {
    group.push_back(static_cast<int64_t>(k));
    if (mlir::ShapedType::isDynamic(wide[k]))
      ++dynamics;
    else
      product *= wide[k];
    const bool fits = dynamic ? dynamics == 1 : dynamics == 0 && product == narrow[j];
    if (fits) {
      groups.push_back(group);
      if (regroup(wide, narrow, k + 1, j + 1, groups)) return true;
      groups.pop_back();
    }
    if (dynamics > 1 || (!dynamic && (dynamics > 0 || product > narrow[j]))) break;
  }
  return false;
}

std::optional<llvm::SmallVector<mlir::ReassociationIndices>> dim_groups(llvm::ArrayRef<int64_t> wide,
                                                                        llvm::ArrayRef<int64_t> narrow) {
  llvm::SmallVector<mlir::ReassociationIndices> groups;
  if (narrow.empty() || !regroup(wide, narrow, 0, 0, groups)) return std::nullopt;
  return groups;
}

}  // namespace

Value reshape_to(OpBuilder& b, mlir::Location l, Value v, mlir::RankedTensorType to) {
  auto from = mlir::cast<mlir::RankedTensorType>(v.getType());
  if (from.getShape() == to.getShape()) return v;
  if (!from.hasStaticShape() || !to.hasStaticShape()) {
    // Shapes that differ by size-1 dims only: through the shape without them.
    const auto bare = without_unit_dims(from);
    if (bare == without_unit_dims(to)) {
      if (from != bare)
        v = b.create<mlir::tensor::CollapseShapeOp>(l, bare, v, unit_dim_groups(from.getShape()));
      if (to == bare) return v;
      return b.create<mlir::tensor::ExpandShapeOp>(l, to, v, unit_dim_groups(to.getShape()));
    }
    // One collapse or one expand ([?, 3, 4] <-> [?, 12], [?, T, 3C] <-> [?, T, 3, H, D]).
    const bool collapse = to.getRank() < from.getRank();
    const auto groups =
        dim_groups(collapse ? from.getShape() : to.getShape(), collapse ? to.getShape() : from.getShape());
    if (!groups) return {};
    if (collapse) return b.create<mlir::tensor::CollapseShapeOp>(l, to, v, *groups);
    return b.create<mlir::tensor::ExpandShapeOp>(l, to, v, *groups);
  }
  // Through the 1-D form: collapse everything, then expand to `to`.
  auto all = [](int64_t rank) {
    mlir::ReassociationIndices group;
    for (int64_t i = 0; i < rank; ++i) group.push_back(i);
    return llvm::SmallVector<mlir::ReassociationIndices>{group};
  };
  const auto flat = mlir::RankedTensorType::get({from.getNumElements()}, from.getElementType());
  if (from.getRank() == 0)
    v = b.create<mlir::tensor::ExpandShapeOp>(l, flat, v, llvm::ArrayRef<mlir::ReassociationIndices>{});
  else if (from.getRank() > 1)
    v = b.create<mlir::tensor::CollapseShapeOp>(l, flat, v, all(from.getRank()));
  if (to.getRank() == 0)
    return b.create<mlir::tensor::CollapseShapeOp>(l, to, v, llvm::ArrayRef<mlir::ReassociationIndices>{});
  if (to.getRank() == 1) return v;
  return b.create<mlir::tensor::ExpandShapeOp>(l, to, v, all(to.getRank()));
}

namespace {
mlir::MemRefType any_strides(mlir::MLIRContext* ctx, int64_t rank, mlir::Type element) {
  llvm::SmallVector<int64_t> dynamic(rank, mlir::ShapedType::kDynamic);
  return mlir::MemRefType::get(dynamic, element,
                               mlir::StridedLayoutAttr::get(ctx, mlir::ShapedType::kDynamic, dynamic));
}
}  // namespace

mlir::Value strided_buffer(mlir::OpBuilder& b, mlir::Location l, mlir::Value t) {
  auto type = tensor_type(t);
  auto layout = any_strides(b.getContext(), type.getRank(), type.getElementType()).getLayout();
  auto memref = mlir::MemRefType::get(type.getShape(), type.getElementType(), layout);
  auto buffer = b.create<mlir::bufferization::ToMemrefOp>(l, memref, t, /*read_only=*/true);
  return b.create<mlir::memref::CastOp>(l, any_strides(b.getContext(), type.getRank(), type.getElementType()),
                                        buffer);
}

mlir::Value as_strided(mlir::OpBuilder& b, mlir::Location l, mlir::Value memref) {
  auto type = mlir::cast<mlir::MemRefType>(memref.getType());
  return b.create<mlir::memref::CastOp>(l, any_strides(b.getContext(), type.getRank(), type.getElementType()),
                                        memref);
}

mlir::Value as_tensor(mlir::OpBuilder& b, mlir::Location l, mlir::Value buffer) {
  return b.create<mlir::bufferization::ToTensorOp>(l, buffer, /*restrict=*/true, /*writable=*/true);
}

mlir::Value alloc_buffer(mlir::OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape,
                         mlir::Type element, llvm::ArrayRef<std::pair<mlir::Value, int64_t>> size_from) {
  llvm::SmallVector<mlir::Value> sizes;
  for (size_t d = 0; d < shape.size(); ++d)
    if (mlir::ShapedType::isDynamic(shape[d]))
      sizes.push_back(b.create<mlir::tensor::DimOp>(l, size_from[d].first, size_from[d].second));
  return b.create<mlir::memref::AllocOp>(l, mlir::MemRefType::get(shape, element), sizes);
}

}  // namespace ember::compiler::lowering
