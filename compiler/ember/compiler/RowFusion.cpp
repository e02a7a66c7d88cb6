//===- RowFusion.cpp - a row of softmax/layer_norm in one loop, vectorized -===//
//
// softmax(layer_norm(x)) is eight loop nests over x after fusion: four
// reductions along the last dim and four elementwise ops that read their
// results. Each nest streams x through memory (16 MiB for norm_softmax, far
// above the caches), so the chain runs at 1/8 of memory speed. A row, though,
// is a few KiB: computing one row through all eight ops keeps it in L1.
// This pass tiles each such chain's last op by rows (tile size 1 on every
// dim but the last) and fuses its producers into the loop
// (scf::tileConsumerAndFuseProducersUsingSCF), then vectorizes every op of
// the loop body at its full row shape (linalg::vectorize): reductions become
// vector.multi_reduction, broadcasts vector.broadcast, and the intermediate
// rows vector values instead of memory.
//
// Only chains containing a reduction over the last dim are rows; rows longer
// than kMaxRow elements are left to the loop pipeline (a vector that long
// would be compiled element by element). Matmuls are never fused into a row.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERFUSEROWS
#include "ember/compiler/Passes.h.inc"

namespace {

constexpr int64_t kMaxRow = 16384;

// x / broadcast(s) -> x * broadcast(1 / s): one division per row instead
// of one per element (softmax's normalization). At most an ulp apart.
struct DivideByReciprocal : mlir::OpRewritePattern<mlir::arith::DivFOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(mlir::arith::DivFOp div,
                                      mlir::PatternRewriter& rewriter) const override {
    auto broadcast = div.getRhs().getDefiningOp<mlir::vector::BroadcastOp>();
    if (!broadcast) return mlir::failure();
    mlir::Value s = broadcast.getSource();
    const mlir::Location l = div.getLoc();
    mlir::Type element = mlir::getElementTypeOrSelf(s.getType());
    mlir::Value one =
        mlir::isa<mlir::VectorType>(s.getType())
            ? rewriter
                  .create<mlir::arith::ConstantOp>(
                      l, mlir::DenseElementsAttr::get(mlir::cast<mlir::VectorType>(s.getType()),
                                                      rewriter.getFloatAttr(element, 1.0)))
                  .getResult()
            : rewriter.create<mlir::arith::ConstantOp>(l, rewriter.getFloatAttr(element, 1.0)).getResult();
    mlir::Value reciprocal = rewriter.create<mlir::arith::DivFOp>(l, one, s);
    mlir::Value spread = rewriter.create<mlir::vector::BroadcastOp>(l, broadcast.getType(), reciprocal);
    rewriter.replaceOpWithNewOp<mlir::arith::MulFOp>(div, div.getLhs(), spread);
    return mlir::success();
  }
};

// op(broadcast(a), splat c) -> broadcast(op(a, c)): an elementwise op of
// per-row values and constants runs once per row, not once per lane (MLIR
// 19's sinking patterns want every operand a broadcast, so layer_norm's
// sum / 1024 and variance + eps stayed lane by lane).
struct ElementwiseOfRowValues : mlir::RewritePattern {
  explicit ElementwiseOfRowValues(mlir::MLIRContext* context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}
  mlir::LogicalResult matchAndRewrite(mlir::Operation* op, mlir::PatternRewriter& rewriter) const override {
    if (!op->hasTrait<mlir::OpTrait::Elementwise>() || op->getNumResults() != 1 || op->getNumRegions() != 0)
      return mlir::failure();
    auto result = mlir::dyn_cast<mlir::VectorType>(op->getResult(0).getType());
    if (!result) return mlir::failure();
    mlir::Type source;
    for (mlir::Value v : op->getOperands())
      if (auto b = v.getDefiningOp<mlir::vector::BroadcastOp>()) source = b.getSourceType();
    if (!source) return mlir::failure();
    auto reshaped = [&](mlir::Type element) -> mlir::Type {
      auto vector = mlir::dyn_cast<mlir::VectorType>(source);
      return vector ? mlir::Type(mlir::VectorType::get(vector.getShape(), element)) : element;
    };
    llvm::SmallVector<mlir::Value> operands;
    for (mlir::Value v : op->getOperands()) {
      if (auto b = v.getDefiningOp<mlir::vector::BroadcastOp>(); b && b.getSourceType() == source) {
        operands.push_back(b.getSource());
        continue;
      }
      mlir::DenseElementsAttr splat;
      if (!mlir::matchPattern(v, mlir::m_Constant(&splat)) || !splat.isSplat()) return mlir::failure();
      const mlir::Type element = splat.getElementType();
      const mlir::Type type = reshaped(element);
      mlir::TypedAttr value =
          mlir::isa<mlir::VectorType>(type)
              ? mlir::TypedAttr(mlir::DenseElementsAttr::get(mlir::cast<mlir::ShapedType>(type),
                                                             splat.getSplatValue<mlir::Attribute>()))
              : mlir::cast<mlir::TypedAttr>(splat.getSplatValue<mlir::Attribute>());
      operands.push_back(rewriter.create<mlir::arith::ConstantOp>(op->getLoc(), type, value));
    }
    mlir::OperationState state(op->getLoc(), op->getName(), operands, reshaped(result.getElementType()),
                               op->getAttrs());
    mlir::Value narrow = rewriter.create(state)->getResult(0);
    rewriter.replaceOpWithNewOp<mlir::vector::BroadcastOp>(op, result, narrow);
    return mlir::success();
  }
};

bool fusable(mlir::Operation* op) {
  return mlir::isa_and_nonnull<mlir::linalg::GenericOp, mlir::linalg::FillOp>(op) && !is_gemm(op);
}

// A generic that reduces exactly its innermost loop.
bool is_row_reduction(mlir::linalg::GenericOp op) {
  auto iterators = op.getIteratorTypesArray();
  if (iterators.empty() || iterators.back() != mlir::utils::IteratorType::reduction) return false;
  return op.getNumReductionLoops() == 1;
}

// Whether `root`'s fusable producers (transitively) include a row reduction.
bool reads_a_row_reduction(mlir::Operation* root) {
  llvm::SmallVector<mlir::Operation*> work{root};
  llvm::SmallPtrSet<mlir::Operation*, 16> seen;
  while (!work.empty()) {
    mlir::Operation* op = work.pop_back_val();
    if (!seen.insert(op).second) continue;
    if (auto g = mlir::dyn_cast<mlir::linalg::GenericOp>(op); g && is_row_reduction(g)) return true;
    for (mlir::Value v : op->getOperands())
      if (fusable(v.getDefiningOp())) work.push_back(v.getDefiningOp());
  }
  return false;
}

// The last op of a row chain: all-parallel, static, rows of a fitting size,
// and not itself read only by other ops of a chain. An op read both by a
// chain and by something else (a GEMM, a result) is a root too: fused only
// into its consumer's rows it would also be computed whole for the other
// readers, a second time and as scalar loops (the GPT's layer_norm input
// gradients, read by the next layer_norm's backward and by a matmul: 1.2 ms
// of 2.2 per training step, AMD Zen 5); as a root it is computed once, in
// rows, and its consumers read it.
bool is_row_root(mlir::linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 || !op.hasPureTensorSemantics())
    return false;
  auto type = mlir::dyn_cast<mlir::RankedTensorType>(op->getResult(0).getType());
  if (!type || type.getRank() < 2 || !type.hasStaticShape() || type.getShape().back() > kMaxRow) return false;
  const auto users = op->getResult(0).getUsers();
  if (!users.empty() && llvm::all_of(users, fusable)) return false;
  return reads_a_row_reduction(op);
}

// Note [Rows in chunks of registers]
// Vectorized at its full row shape, each op of a row body is one vector as
// long as the row: a 1024-float row is 64 AVX-512 registers per value, so
// every op spilled and reloaded its whole row through the stack, and
// norm_softmax ran at 5.4x a copy (AMD Zen 5). So rows that split into
// chunks of kChunk lanes (64 floats: 4 AVX-512 or 8 AVX2 registers) are
// computed chunk by chunk: each reduction of the row, and each op whose
// row leaves the row body, becomes a loop over chunks with its elementwise
// producers fused in (recomputed per consumer, as row fusion does per
// row: no row-long intermediate is stored), vectorized at the chunk's
// shape. A reduction accumulates a chunk-wide partial result merged once
// per row (so its sum adds in a different order than one row-long vector
// reduction, as any vector sum does). Chunks recompute the elementwise
// ops each consumer needs, where a row held in registers computes them
// once: rows up to kWholeRow elements stay whole vectors (with 4096 rows,
// AMD Zen 5: at 256 floats whole rows took 0.48 ms and chunks 0.65, at 512
// they were even, at 1024 2.84 against 2.17 and at 2048 7.1 against 4.6),
// as do rows that do not split evenly and ops the tiling declines.
constexpr int64_t kChunk = 64, kWholeRow = 512;

int64_t chunk_for(int64_t row) {
  if (row <= kWholeRow) return 0;
  for (int64_t chunk : {kChunk, kChunk / 2, kChunk / 4})
    if (row % chunk == 0) return chunk;
  return 0;
}

bool is_elementwise(mlir::Operation* op) {
  auto g = mlir::dyn_cast_or_null<mlir::linalg::GenericOp>(op);
  return g && fusable(g) && g.getNumReductionLoops() == 0;
}

// Ops of a row body computed in chunk loops of their own: reductions, and
// ops read by anything but the body's elementwise ops.
bool is_chunk_root(mlir::linalg::GenericOp op) {
  if (is_row_reduction(op)) return op->getNumResults() == 1;
  return op.getNumReductionLoops() == 0 &&
         !llvm::all_of(op->getUsers(), [](mlir::Operation* u) { return is_elementwise(u); });
}

// Fuses into `loops` every elementwise producer a slice inside them reads,
// transitively.
void fuse_elementwise_producers(mlir::IRRewriter& rewriter,
                                llvm::MutableArrayRef<mlir::LoopLikeOpInterface> loops) {
  llvm::SmallVector<mlir::tensor::ExtractSliceOp> slices;
  const auto consider = [&](mlir::Value v) {
    auto slice = v.getDefiningOp<mlir::tensor::ExtractSliceOp>();
    if (slice && is_elementwise(slice.getSource().getDefiningOp())) slices.push_back(slice);
  };
  loops.front()->walk([&](mlir::tensor::ExtractSliceOp slice) { consider(slice.getResult()); });
  while (!slices.empty()) {
    mlir::tensor::ExtractSliceOp slice = slices.pop_back_val();
    if (!is_elementwise(slice.getSource().getDefiningOp())) continue;
    rewriter.setInsertionPoint(slice);
    auto fused = mlir::scf::tileAndFuseProducerOfSlice(rewriter, slice, loops);
    if (!fused) continue;
    for (mlir::Operation* t : fused->tiledOps)
      for (mlir::Value operand : t->getOperands()) consider(operand);
  }
}

// Tiles `op` by chunks of its last loop, fusing its elementwise producers
// in; failure leaves `op` as it was.
mlir::LogicalResult tile_in_chunks(mlir::IRRewriter& rewriter, mlir::linalg::GenericOp op) {
  const llvm::SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.empty() || mlir::ShapedType::isDynamic(ranges.back())) return mlir::failure();
  const int64_t chunk = chunk_for(ranges.back());
  if (!chunk) return mlir::failure();
  llvm::SmallVector<mlir::OpFoldResult> tiles(ranges.size(), rewriter.getIndexAttr(0));
  tiles.back() = rewriter.getIndexAttr(chunk);
  rewriter.setInsertionPoint(op);
  if (is_row_reduction(op)) {
    auto reduction = mlir::scf::tileReductionUsingScf(
        rewriter, mlir::cast<mlir::PartialReductionOpInterface>(op.getOperation()), tiles);
    if (mlir::failed(reduction)) return mlir::failure();  // (MLIR 19 replaced `op` with the merge)
    fuse_elementwise_producers(rewriter, reduction->loops);
    return mlir::success();
  }
  mlir::scf::SCFTilingOptions options;
  options.setTileSizes(tiles);
  auto tiling =
      mlir::scf::tileUsingSCF(rewriter, mlir::cast<mlir::TilingInterface>(op.getOperation()), options);
  if (mlir::failed(tiling)) return mlir::failure();
  rewriter.replaceOp(op, tiling->replacements);
  fuse_elementwise_producers(rewriter, tiling->loops);
  return mlir::success();
}

// Chunks what it can of a row loop's body and erases the elementwise ops
// left without readers.
void chunk_row_body(mlir::IRRewriter& rewriter, mlir::Operation* row_loop) {
  llvm::SmallVector<mlir::linalg::GenericOp> roots;
  row_loop->walk([&](mlir::linalg::GenericOp op) {
    if (is_chunk_root(op)) roots.push_back(op);
  });
  for (mlir::linalg::GenericOp root : llvm::reverse(roots)) (void)tile_in_chunks(rewriter, root);
  llvm::SmallVector<mlir::Operation*> ops;
  row_loop->walk([&](mlir::Operation* op) { ops.push_back(op); });
  for (mlir::Operation* op : llvm::reverse(ops))
    if (is_elementwise(op) && op->use_empty()) rewriter.eraseOp(op);
}

void fuse_rows(mlir::func::FuncOp func) {
  llvm::SmallVector<mlir::linalg::GenericOp> roots;
  func.walk([&](mlir::linalg::GenericOp op) {
    if (is_row_root(op)) roots.push_back(op);
  });
  mlir::IRRewriter rewriter(func.getContext());
  llvm::SmallVector<mlir::Operation*> row_loops;
  for (mlir::linalg::GenericOp root : roots) {
    const int64_t rank = mlir::cast<mlir::RankedTensorType>(root->getResult(0).getType()).getRank();
    llvm::SmallVector<mlir::OpFoldResult> tiles(rank - 1, rewriter.getIndexAttr(1));
    tiles.push_back(rewriter.getIndexAttr(0));  // the whole row
    mlir::scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setTileSizes(tiles);
    options.setFusionControlFn([](mlir::tensor::ExtractSliceOp, mlir::OpResult producer, bool) {
      return std::make_tuple(fusable(producer.getOwner()), false);
    });
    rewriter.setInsertionPoint(root);
    auto fused = mlir::scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, mlir::cast<mlir::TilingInterface>(root.getOperation()), options);
    if (mlir::failed(fused)) continue;
    for (mlir::OpResult r : root->getResults())
      if (auto it = fused->replacements.find(r); it != fused->replacements.end())
        rewriter.replaceAllUsesWith(r, it->second);
    if (!fused->loops.empty()) row_loops.push_back(fused->loops.front().getOperation());
  }
  // Each op of a row body at its full (static) row shape.
  // Per-row values (mean, variance, max, sum) are broadcast to the row and
  // then divided, offset, rsqrt'ed lane by lane: those ops move before the
  // broadcast, onto the one value (norm_softmax: 1024 lanes of rsqrt's
  // polynomial per row become one). The vector ops' canonicalizations first
  // make the broadcasts explicit (a row value written to a 1-element tensor
  // and read back broadcast).
  if (row_loops.empty()) return;
  mlir::MLIRContext* context = func.getContext();
  mlir::RewritePatternSet patterns(context);
  for (mlir::RegisteredOperationName op : context->getRegisteredOperations())
    if (op.getDialectNamespace() == "vector") op.getCanonicalizationPatterns(patterns, context);
  patterns.add<ElementwiseOfRowValues, DivideByReciprocal>(context);
  const mlir::FrozenRewritePatternSet row_value_patterns(std::move(patterns));
  for (mlir::Operation* loop : row_loops) {
    chunk_row_body(rewriter, loop);  // Note [Rows in chunks of registers]
    llvm::SmallVector<mlir::linalg::LinalgOp> body;
    loop->walk([&](mlir::linalg::LinalgOp op) { body.push_back(op); });
    for (mlir::linalg::LinalgOp op : body) {
      rewriter.setInsertionPoint(op);
      (void)mlir::linalg::vectorize(rewriter, op);  // an op it cannot vectorize stays a loop nest
    }
    // Fusion put a copy of a producer into the row for each of its
    // consumers (the mean of layer_norm three times); they are the same
    // pure computation on the same row, so one is kept. (CSE is safe here,
    // unlike on the whole function, where it merges the tensor.empty
    // destinations of independent results.)
    mlir::DominanceInfo dominance(loop);
    mlir::eliminateCommonSubExpressions(rewriter, dominance, loop);
    (void)mlir::applyPatternsAndFoldGreedily(loop, row_value_patterns);
    // A reduction's chunk-wide partial result is read and written at the
    // same place every chunk: carried as a vector instead (registers, not a
    // buffer allocated per row).
    llvm::SmallVector<mlir::scf::ForOp> chunk_loops;
    loop->walk([&](mlir::scf::ForOp chunk_loop) {
      if (chunk_loop != loop) chunk_loops.push_back(chunk_loop);
    });
    for (mlir::scf::ForOp chunk_loop : chunk_loops)
      (void)mlir::hoistLoopInvariantSubsets(rewriter, chunk_loop);
  }
}

struct EmberFuseRows : impl::EmberFuseRowsBase<EmberFuseRows> {
  void runOnOperation() override {
    getOperation().walk([](mlir::func::FuncOp f) {
      if (!f.isExternal()) fuse_rows(f);
    });
  }
};

}  // namespace
}  // namespace ember::compiler
