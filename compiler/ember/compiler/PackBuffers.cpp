//===- PackBuffers.cpp - temporaries become views of one reused workspace --===//
//
// After bufferization each temporary is a malloc and a free per call. On
// the AMD Zen 5 VM it was measured on, a fresh 512 KiB block costs a page fault per 4 KiB
// page on every call: mlp_infer compiled spent more time faulting than in
// BLAS. So the function's static temporaries become views into one
// workspace argument that the runtime allocates once and passes on every
// call, at offsets packed by live range (buffers whose lives do not overlap
// share bytes): the "buffer reuse" of the pipeline.
//
//===----------------------------------------------------------------------===//

#include <algorithm>

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERPACKBUFFERS
#include "ember/compiler/Passes.h.inc"

namespace {

constexpr int64_t kAlignment = 64;  // a cache line, and an AVX-512 register

struct Temporary {
  mlir::memref::AllocOp alloc;
  int64_t bytes = 0, first = 0, last = 0, offset = 0;  // first/last: positions in the block
};

// The block position of the op in `block` that contains `op`.
int64_t position_in(mlir::Block& block, mlir::Operation* op,
                    const llvm::DenseMap<mlir::Operation*, int64_t>& index) {
  while (op && op->getBlock() != &block) op = op->getParentOp();
  return op ? index.lookup(op) : -1;
}

// Every value that aliases `root` (views, reshapes, casts of it, and of those).
llvm::SmallVector<mlir::Value> aliases_of(mlir::Value root) {
  llvm::SmallVector<mlir::Value> all{root};
  for (size_t i = 0; i < all.size(); ++i)
    for (mlir::Operation* user : all[i].getUsers())
      if (mlir::isa<mlir::ViewLikeOpInterface, mlir::memref::CastOp, mlir::memref::ExpandShapeOp,
                    mlir::memref::CollapseShapeOp, mlir::memref::ReinterpretCastOp>(user))
        for (mlir::Value r : user->getResults())
          if (mlir::isa<mlir::MemRefType>(r.getType()) && !llvm::is_contained(all, r)) all.push_back(r);
  return all;
}

void pack(mlir::func::FuncOp func) {
  mlir::Block& block = func.getBody().front();
  llvm::DenseMap<mlir::Operation*, int64_t> index;
  int64_t n = 0;
  for (mlir::Operation& op : block) index[&op] = n++;

  std::vector<Temporary> temporaries;
  llvm::SmallVector<mlir::Operation*> deallocs;
  for (mlir::Operation& op : block) {
    auto alloc = mlir::dyn_cast<mlir::memref::AllocOp>(op);
    if (!alloc) continue;
    mlir::MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() || !type.getElementType().isIntOrFloat())
      continue;
    Temporary t{alloc, 0, index[&op], index[&op], 0};
    t.bytes = type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
    bool escapes = false;
    llvm::SmallVector<mlir::Operation*> own_deallocs;
    for (mlir::Value v : aliases_of(alloc))
      for (mlir::Operation* user : v.getUsers()) {
        if (mlir::isa<mlir::memref::DeallocOp>(user)) {
          own_deallocs.push_back(user);
          continue;
        }
        if (mlir::isa<mlir::func::ReturnOp>(user)) escapes = true;
        t.last = std::max(t.last, position_in(block, user, index));
      }
    if (escapes) continue;
    deallocs.append(own_deallocs);
    temporaries.push_back(t);
  }

  // First fit by start, among the blocks still live (sorted by offset).
  int64_t total = 0;
  std::vector<const Temporary*> live;
  for (Temporary& t : temporaries) {
    std::erase_if(live, [&](const Temporary* o) { return o->last < t.first; });
    int64_t offset = 0;
    for (const Temporary* o : live) {
      if (offset + t.bytes <= o->offset) break;
      offset = std::max(offset, (o->offset + o->bytes + kAlignment - 1) / kAlignment * kAlignment);
    }
    t.offset = offset;
    total = std::max(total, offset + t.bytes);
    live.insert(
        std::upper_bound(live.begin(), live.end(), &t,
                         [](const Temporary* a, const Temporary* b) { return a->offset < b->offset; }),
        &t);
  }

  mlir::OpBuilder b(func.getContext());
  auto workspace_type = mlir::MemRefType::get({mlir::ShapedType::kDynamic}, b.getI8Type());
  // insertArgument keeps the other arguments' attributes in step.
  const unsigned last = func.getNumArguments();
  (void)func.insertArgument(last, workspace_type, mlir::DictionaryAttr(), func.getLoc());
  mlir::Value workspace = func.getArgument(last);
  func->setAttr("ember.workspace_bytes", b.getI64IntegerAttr(total));
  for (mlir::Operation* d : deallocs) d->erase();
  for (Temporary& t : temporaries) {
    b.setInsertionPoint(t.alloc);
    mlir::Value shift = b.create<mlir::arith::ConstantIndexOp>(t.alloc.getLoc(), t.offset);
    mlir::Value view = b.create<mlir::memref::ViewOp>(t.alloc.getLoc(), t.alloc.getType(), workspace, shift,
                                                      mlir::ValueRange{});
    t.alloc.replaceAllUsesWith(view);
    t.alloc.erase();
  }
}

struct EmberPackBuffers : impl::EmberPackBuffersBase<EmberPackBuffers> {
  void runOnOperation() override {
    getOperation().walk([](mlir::func::FuncOp f) {
      if (!f.isExternal() && f.isPublic()) pack(f);
    });
  }
};

}  // namespace
}  // namespace ember::compiler
