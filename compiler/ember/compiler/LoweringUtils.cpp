// LoweringUtils.cpp - see LoweringUtils.h.
#include "ember/compiler/LoweringUtils.h"

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

Value filled(OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> shape, Type element, Value value) {
  Value empty = b.create<mlir::tensor::EmptyOp>(l, shape, element);
  return b.create<mlir::linalg::FillOp>(l, value, empty).getResult(0);
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

Value reshape_to(OpBuilder& b, mlir::Location l, Value v, mlir::RankedTensorType to) {
  auto from = mlir::cast<mlir::RankedTensorType>(v.getType());
  if (from.getShape() == to.getShape()) return v;
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

}  // namespace ember::compiler::lowering
