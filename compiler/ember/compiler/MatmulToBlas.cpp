//===- MatmulToBlas.cpp - bufferized matmuls become cblas_?gemm calls ------===//
//
// Note [Matmuls become BLAS calls]
// Generated loops reach a fraction of OpenBLAS's speed on a matmul; calling
// the same BLAS the eager kernels use gives compiled code the same ceiling,
// and the same threads (OpenBLAS's OpenMP pool is the runtime's pool). Every
// float contraction with one m, one n and one k loop (is_gemm: the named
// matmuls, and the batched generics of MatmulLowering.cpp) becomes calls:
// - each operand's strides along the loops it reads give BLAS's layout: a
//   unit stride along k (A) or n (B) is the plain form, a unit stride along
//   m or k the transposed one, the other stride the leading dimension; a C
//   whose unit stride is along m computes C^T = B^T A^T instead;
// - batch loops become scf.for loops of calls, each operand's pointer
//   advanced by its own stride (0 for an operand broadcast along the loop);
// - an operand with no unit stride at all is first copied to a contiguous
//   buffer (a copy is memory-bound; the GEMM it enables is not), and C is
//   then computed there and copied back;
// - a zero fill right before is folded into beta = 0;
// - a `?` m, n or k (Note [Dynamic dims in lowerings]) is passed as read at
//   run time; operands must then have static strides (a contiguous matrix
//   with a `?` outer dim has them), or the contraction stays loops.
// Integer matmuls stay loops. Each contraction leaves one line in the
// module's `ember.gemms` attribute (what it became, or why it stayed loops),
// which CompiledGraph::gemm_report and jit's explain() show.
//
// The call takes raw pointers, so this runs on memrefs after the buffer
// deallocation pipeline and ember-pack-buffers: deallocs and live ranges
// then already end at the matmul it replaces, not at the pointer extraction
// before the call that now reads the buffer.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/Passes.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERMATMULTOBLAS
#include "ember/compiler/Passes.h.inc"

namespace {

using mlir::OpBuilder;
using mlir::Value;

// CBLAS's enum values (cblas.h), fixed by the interface.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

// out = out + a * b (either order of either operation; float or integer),
// nothing else.
bool is_multiply_add(mlir::Block& body) {
  if (body.getNumArguments() != 3 || body.getOperations().size() != 3) return false;
  auto yield = mlir::dyn_cast<mlir::linalg::YieldOp>(body.getTerminator());
  mlir::Operation* add = yield && yield.getNumOperands() == 1 ? yield.getOperand(0).getDefiningOp() : nullptr;
  if (!mlir::isa_and_nonnull<mlir::arith::AddFOp, mlir::arith::AddIOp>(add)) return false;
  const auto is = [](Value v, Value x, Value y, Value& other) {
    if (v == x) return other = y, true;
    if (v == y) return other = x, true;
    return false;
  };
  Value product;
  if (!is(body.getArgument(2), add->getOperand(0), add->getOperand(1), product)) return false;
  mlir::Operation* mul = product.getDefiningOp();
  if (!mlir::isa_and_nonnull<mlir::arith::MulFOp, mlir::arith::MulIOp>(mul)) return false;
  Value other;
  return is(body.getArgument(0), mul->getOperand(0), mul->getOperand(1), other) &&
         other == body.getArgument(1);
}

// The loops of a contraction in the roles BLAS gives them: the input read
// along m is A (the first), the one read along n is B. Every other loop the
// output has is a batch loop, whichever inputs read it.
struct Roles {
  llvm::SmallVector<unsigned> batch;
  unsigned m = 0, n = 0, k = 0;
};

std::optional<Roles> roles_of(mlir::linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1) return std::nullopt;
  if (!mlir::isa<mlir::linalg::GenericOp, mlir::linalg::MatmulOp, mlir::linalg::MatmulTransposeAOp,
                 mlir::linalg::MatmulTransposeBOp, mlir::linalg::BatchMatmulOp,
                 mlir::linalg::BatchMatmulTransposeAOp, mlir::linalg::BatchMatmulTransposeBOp>(
          op.getOperation()))
    return std::nullopt;
  if (auto generic = mlir::dyn_cast<mlir::linalg::GenericOp>(op.getOperation());
      generic && !is_multiply_add(*generic.getBlock()))
    return std::nullopt;
  auto maps = op.getIndexingMapsArray();
  for (auto map : maps)
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/false)) return std::nullopt;
  std::optional<unsigned> m, n, k;
  Roles r;
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    const bool in_a = maps[0].isFunctionOfDim(d), in_b = maps[1].isFunctionOfDim(d),
               in_c = maps[2].isFunctionOfDim(d);
    if (!in_c) {
      if (!in_a || !in_b || k) return std::nullopt;  // one reduction, over k
      k = d;
    } else if (in_a && !in_b) {
      if (m) r.batch.push_back(*m);  // the last such loop is m, earlier ones batch
      m = d;
    } else if (in_b && !in_a) {
      if (n) r.batch.push_back(*n);
      n = d;
    } else {
      r.batch.push_back(d);
    }
  }
  if (!m || !n || !k) return std::nullopt;
  llvm::sort(r.batch);
  r.m = *m, r.n = *n, r.k = *k;
  return r;
}

// The strides of `buffer` (an operand's value, or a contiguous copy of it)
// along each loop, read through the operand's indexing map (0 along loops
// it does not read), or nothing when its layout is not static.
std::optional<llvm::SmallVector<int64_t>> loop_strides(mlir::linalg::LinalgOp op, mlir::OpOperand* operand,
                                                       Value buffer) {
  auto type = mlir::dyn_cast<mlir::MemRefType>(buffer.getType());
  if (!type) return std::nullopt;
  llvm::SmallVector<int64_t> strides;
  int64_t offset;
  if (mlir::failed(mlir::getStridesAndOffset(type, strides, offset))) return std::nullopt;
  llvm::SmallVector<int64_t> by_loop(op.getNumLoops(), 0);
  auto map = op.getMatchingIndexingMap(operand);
  for (unsigned r = 0; r < map.getNumResults(); ++r) {
    if (mlir::ShapedType::isDynamic(strides[r])) return std::nullopt;
    by_loop[map.getDimPosition(r)] = strides[r];
  }
  return by_loop;
}

// The address of a memref's first element as an !llvm.ptr.
// A memref.view's byte shift is in its aligned pointer once lowered, but
// --expand-strided-metadata folds the pointer of a view, and of anything
// derived from one (a subview, a reshape, a cast), to the view's source's,
// dropping the shift (mlir_defects.mlir): for such buffers the address is
// the source's pointer plus the shift plus the buffer's own offset, which
// is relative to the view. (Once missed for subviews of a view: the written
// -out GPT's q and k, slices of one permuted workspace buffer, read the
// wrong rows; tests/compiler/gpt_test.cpp.)
Value pointer_of(OpBuilder& b, mlir::Location l, Value memref) {
  auto type = mlir::cast<mlir::MemRefType>(memref.getType());
  mlir::memref::ViewOp view;
  for (Value v = memref; mlir::Operation* def = v.getDefiningOp();) {
    if ((view = mlir::dyn_cast<mlir::memref::ViewOp>(def))) break;
    if (!mlir::isa<mlir::memref::SubViewOp, mlir::memref::ExpandShapeOp, mlir::memref::CollapseShapeOp,
                   mlir::memref::CastOp, mlir::memref::ReinterpretCastOp>(def))
      break;
    v = def->getOperand(0);
  }
  Value base;
  if (view)
    base = b.create<mlir::arith::AddIOp>(
        l, b.create<mlir::memref::ExtractAlignedPointerAsIndexOp>(l, view.getSource()), view.getByteShift());
  else
    base = b.create<mlir::memref::ExtractAlignedPointerAsIndexOp>(l, memref);
  auto metadata = b.create<mlir::memref::ExtractStridedMetadataOp>(l, memref);
  const int64_t bytes = type.getElementTypeBitWidth() / 8;
  Value offset = b.create<mlir::arith::MulIOp>(l, metadata.getOffset(),
                                               b.create<mlir::arith::ConstantIndexOp>(l, bytes));
  Value address =
      b.create<mlir::arith::IndexCastOp>(l, b.getI64Type(), b.create<mlir::arith::AddIOp>(l, base, offset));
  return b.create<mlir::LLVM::IntToPtrOp>(l, mlir::LLVM::LLVMPointerType::get(b.getContext()), address);
}

Value advance(OpBuilder& b, mlir::Location l, Value ptr, Value index, int64_t elements, int64_t bytes) {
  if (elements == 0) return ptr;
  Value step = b.create<mlir::arith::IndexCastOp>(
      l, b.getI64Type(),
      b.create<mlir::arith::MulIOp>(l, index, b.create<mlir::arith::ConstantIndexOp>(l, elements * bytes)));
  Value address =
      b.create<mlir::arith::AddIOp>(l, b.create<mlir::LLVM::PtrToIntOp>(l, b.getI64Type(), ptr), step);
  return b.create<mlir::LLVM::IntToPtrOp>(l, ptr.getType(), address);
}

// `func.func private @cblas_sgemm(...)` (or dgemm), from the registry of
// external calls (Note [External calls]).
mlir::func::FuncOp gemm_declaration(mlir::ModuleOp module, mlir::Type element) {
  return declare_external(module, element.isF32() ? "cblas_sgemm" : "cblas_dgemm");
}

// The zero fill of `out` that `gemm`'s result would overwrite anyway: the
// closest op before it that is not a view or a constant (ops that touch no
// memory: reshapes of an operand, a workspace view), or null.
mlir::linalg::FillOp zero_fill_before(mlir::Operation* gemm, Value out) {
  mlir::Operation* op = gemm->getPrevNode();
  while (op && (mlir::isa<mlir::memref::CollapseShapeOp, mlir::memref::ExpandShapeOp, mlir::memref::SubViewOp,
                          mlir::memref::ViewOp, mlir::memref::CastOp, mlir::arith::ConstantOp>(op)))
    op = op->getPrevNode();
  auto fill = mlir::dyn_cast_or_null<mlir::linalg::FillOp>(op);
  if (!fill || fill.getOutputs()[0] != out) return nullptr;
  mlir::FloatAttr value;
  return mlir::matchPattern(fill.getInputs()[0], mlir::m_Constant(&value)) && value.getValue().isZero()
             ? fill
             : nullptr;
}

// A matrix as BLAS reads it: transposed or not, and the leading dimension.
struct MatrixLayout {
  bool transposed = false;
  int64_t ld = 0;
};

// The layout of a matrix whose rows run along a loop of `rows` elements at
// `row_stride` and columns along `cols` at `col_stride`; nothing when
// neither stride is a unit one (a size-1 dim's stride does not matter).
// neither stride is a unit one (a size-1 dim's stride does not matter). A
// `?` size is taken as more than one, and as no bound a leading dimension
// can be checked against: such a layout is refused.
std::optional<MatrixLayout> matrix_layout(int64_t rows, int64_t row_stride, int64_t cols,
                                          int64_t col_stride) {
  const auto single = [](int64_t s) { return !mlir::ShapedType::isDynamic(s) && s <= 1; };
  const auto holds = [](int64_t ld, int64_t s) {
    return !mlir::ShapedType::isDynamic(s) && ld >= std::max<int64_t>(s, 1);
  };
  if (single(cols) || col_stride == 1) {
    const int64_t ld = single(rows) ? std::max<int64_t>(cols, 1) : row_stride;
    if (holds(ld, cols)) return MatrixLayout{false, ld};
  }
  if (single(rows) || row_stride == 1) {
    const int64_t ld = single(cols) ? std::max<int64_t>(rows, 1) : col_stride;
    if (holds(ld, rows)) return MatrixLayout{true, ld};
  }
  return std::nullopt;
}

// A contiguous copy of a memref operand, made before `at` (and freed after
// it); its contents copied in when `copy_in`.
Value contiguous_copy(OpBuilder& b, mlir::Location l, Value v, bool copy_in) {
  auto type = mlir::cast<mlir::MemRefType>(v.getType());
  auto plain = mlir::MemRefType::get(type.getShape(), type.getElementType());
  Value copy = b.create<mlir::memref::AllocOp>(l, plain);
  if (copy_in) b.create<mlir::linalg::CopyOp>(l, v, copy);
  return copy;
}

std::string describe(mlir::linalg::LinalgOp op, const Roles& r) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto file = mlir::dyn_cast<mlir::FileLineColLoc>(op.getLoc()))
    os << llvm::sys::path::filename(file.getFilename().getValue()) << ":" << file.getLine() << ": ";
  auto ranges = op.getStaticLoopRanges();
  const auto size = [&](unsigned d) {
    return mlir::ShapedType::isDynamic(ranges[d]) ? std::string("?") : std::to_string(ranges[d]);
  };
  os << mlir::cast<mlir::MemRefType>(op.getDpsInits()[0].getType()).getElementType() << " ";
  for (unsigned d : r.batch) os << size(d) << "x";
  os << "[" << size(r.m) << "x" << size(r.k) << " @ " << size(r.k) << "x" << size(r.n) << "]";
  return text;
}

// Replaces one contraction by BLAS calls; returns its line of the report.
std::string rewrite(mlir::linalg::LinalgOp op, const Roles& roles, mlir::ModuleOp module) {
  const std::string what = describe(op, roles);
  auto element = mlir::cast<mlir::MemRefType>(op.getDpsInits()[0].getType()).getElementType();
  for (Value v : op->getOperands())
    if (mlir::cast<mlir::MemRefType>(v.getType()).getElementType() != element)
      return what + ": loops (mixed element types)";
  if (!element.isF32() && !element.isF64())
    return what + ": loops (BLAS multiplies only float32 and float64)";
  auto ranges = op.getStaticLoopRanges();
  for (int64_t size : ranges)
    if (!mlir::ShapedType::isDynamic(size) && size > INT32_MAX)
      return what + ": loops (a size BLAS cannot take)";
  const bool dynamic = llvm::any_of(ranges, [](int64_t s) { return mlir::ShapedType::isDynamic(s); });

  OpBuilder builder(op);
  const mlir::Location l = op.getLoc();
  mlir::OpOperand *a_operand = op.getDpsInputOperand(0), *b_operand = op.getDpsInputOperand(1),
                  *c_operand = op.getDpsInitOperand(0);
  const int64_t m = ranges[roles.m], n = ranges[roles.n], k = ranges[roles.k];
  Value a = a_operand->get(), b = b_operand->get(), c = c_operand->get();
  mlir::linalg::FillOp fill = zero_fill_before(op, c);
  const bool overwrite = static_cast<bool>(fill);
  if (m == 0 || n == 0) {  // nothing to write
    op->erase();
    return what + ": nothing to compute";
  }
  // With `?` sizes no contiguous copy is made (its size is not static): every
  // operand must have a BLAS layout as it is.
  if (dynamic) {
    const auto strided = [&](mlir::OpOperand* operand) {
      return loop_strides(op, operand, operand->get()).has_value();
    };
    if (!strided(a_operand) || !strided(b_operand) || !strided(c_operand))
      return what + ": loops (a dynamic size with dynamic strides)";
  }

  // Strides per loop; none when a layout is not static (then copied below).
  using Strides = std::optional<llvm::SmallVector<int64_t>>;
  Strides sa = loop_strides(op, a_operand, a), sb = loop_strides(op, b_operand, b),
          sc = loop_strides(op, c_operand, c);
  std::string notes;
  // C's unit stride along m: compute C^T = B^T A^T, which swaps m and n.
  unsigned rm = roles.m, rn = roles.n;
  if (sc && !(n <= 1 || (*sc)[rn] == 1) && m > 1 && (*sc)[rm] == 1)
    std::swap(a, b), std::swap(sa, sb), std::swap(a_operand, b_operand), std::swap(rm, rn);
  const int64_t rows = ranges[rm], cols = ranges[rn];
  const auto layout_a = [&] { return sa ? matrix_layout(rows, (*sa)[rm], k, (*sa)[roles.k]) : std::nullopt; };
  const auto layout_b = [&] { return sb ? matrix_layout(k, (*sb)[roles.k], cols, (*sb)[rn]) : std::nullopt; };
  const auto layout_c = [&]() -> std::optional<MatrixLayout> {
    auto lc = sc ? matrix_layout(rows, (*sc)[rm], cols, (*sc)[rn]) : std::nullopt;
    if (lc && lc->transposed) return std::nullopt;  // BLAS writes C row-major only
    return lc;
  };
  auto la = layout_a(), lb = layout_b(), lc = layout_c();
  if (dynamic && !(la && lb && lc)) return what + ": loops (a dynamic size in a layout BLAS cannot read)";
  // Operands BLAS cannot read in place, copied (Note [Matmuls become BLAS calls]).
  Value c_target = c;
  if (!la) {
    a = contiguous_copy(builder, l, a, true), sa = loop_strides(op, a_operand, a), la = layout_a();
    notes += ", A copied to contiguous";
  }
  if (!lb) {
    b = contiguous_copy(builder, l, b, true), sb = loop_strides(op, b_operand, b), lb = layout_b();
    notes += ", B copied to contiguous";
  }
  if (!lc) {
    c = contiguous_copy(builder, l, c, !overwrite), sc = loop_strides(op, c_operand, c), lc = layout_c();
    notes += ", C computed in a contiguous copy";
  }
  assert(la && lb && lc && !lc->transposed && "contiguous copies have a BLAS layout");
  if (overwrite) fill->erase();

  const auto i32 = [&](OpBuilder& at, int64_t v) -> Value {
    return at.create<mlir::arith::ConstantIntOp>(l, v, 32);
  };
  // m, n and k as the call takes them: constants, or `?` sizes read at run time.
  const auto loop_sizes = dynamic ? op.createLoopRanges(builder, l) : llvm::SmallVector<mlir::Range, 4>{};
  const auto size_of = [&](OpBuilder& at, unsigned d) -> Value {
    if (!mlir::ShapedType::isDynamic(ranges[d])) return i32(at, ranges[d]);
    Value size = mlir::getValueOrCreateConstantIndexOp(builder, l, loop_sizes[d].size);
    return at.create<mlir::arith::IndexCastOp>(l, at.getI32Type(), size);
  };
  const auto scalar = [&](OpBuilder& at, double v) -> Value {
    return at.create<mlir::arith::ConstantOp>(l, at.getFloatAttr(element, v));
  };
  auto gemm = gemm_declaration(module, element);
  const int64_t bytes = element.getIntOrFloatBitWidth() / 8;
  const auto call = [&](OpBuilder& at, Value x, Value y, Value z) {
    // K == 0: BLAS scales C by beta, which gives the zeros of an empty sum.
    at.create<mlir::func::CallOp>(
        l, gemm,
        mlir::ValueRange{i32(at, kRowMajor), i32(at, la->transposed ? kTrans : kNoTrans),
                         i32(at, lb->transposed ? kTrans : kNoTrans), size_of(at, rm), size_of(at, rn),
                         size_of(at, roles.k), scalar(at, 1.0), x, i32(at, la->ld), y, i32(at, lb->ld),
                         scalar(at, overwrite ? 0.0 : 1.0), z, i32(at, lc->ld)});
  };
  // One loop per batch dim of more than one element, pointers advanced by
  // each operand's stride along it.
  std::function<void(OpBuilder&, size_t, Value, Value, Value)> loops = [&](OpBuilder& at, size_t level,
                                                                           Value x, Value y, Value z) {
    while (level < roles.batch.size() && ranges[roles.batch[level]] == 1) ++level;
    if (level == roles.batch.size()) return call(at, x, y, z);
    const unsigned d = roles.batch[level];
    Value zero = at.create<mlir::arith::ConstantIndexOp>(l, 0),
          one = at.create<mlir::arith::ConstantIndexOp>(l, 1);
    Value count = mlir::ShapedType::isDynamic(ranges[d])
                      ? mlir::getValueOrCreateConstantIndexOp(at, l, loop_sizes[d].size)
                      : Value(at.create<mlir::arith::ConstantIndexOp>(l, ranges[d]));
    at.create<mlir::scf::ForOp>(l, zero, count, one, mlir::ValueRange{},
                                [&](OpBuilder& body, mlir::Location, Value i, mlir::ValueRange) {
                                  loops(body, level + 1, advance(body, l, x, i, (*sa)[d], bytes),
                                        advance(body, l, y, i, (*sb)[d], bytes),
                                        advance(body, l, z, i, (*sc)[d], bytes));
                                  body.create<mlir::scf::YieldOp>(l);
                                });
  };
  loops(builder, 0, pointer_of(builder, l, a), pointer_of(builder, l, b), pointer_of(builder, l, c));
  int64_t calls = 1;  // -1: a number known at run time
  for (unsigned d : roles.batch)
    calls = mlir::ShapedType::isDynamic(ranges[d]) || calls < 0 ? -1 : calls * ranges[d];
  if (c != c_target) builder.create<mlir::linalg::CopyOp>(l, c, c_target);
  // The contiguous copies made here, not the operands' own buffers (which,
  // with `?` sizes, are allocations too: ember-pack-buffers packs static ones only).
  for (Value v : {a, b, c})
    if (v != a_operand->get() && v != b_operand->get() && v != c_target)
      builder.create<mlir::memref::DeallocOp>(l, v);
  op->erase();
  return what + ": " + (element.isF32() ? "cblas_sgemm" : "cblas_dgemm") +
         (calls == 1  ? std::string()
          : calls < 0 ? std::string(" x?")
                      : " x" + std::to_string(calls)) +
         (la->transposed ? ", A transposed" : "") + (lb->transposed ? ", B transposed" : "") + notes;
}

struct EmberMatmulToBlas : impl::EmberMatmulToBlasBase<EmberMatmulToBlas> {
  void runOnOperation() override {
    llvm::SmallVector<std::pair<mlir::linalg::LinalgOp, Roles>> gemms;
    getOperation().walk([&](mlir::linalg::LinalgOp op) {
      if (!op.hasPureBufferSemantics()) return;
      if (auto roles = roles_of(op)) gemms.emplace_back(op, *roles);
    });
    if (gemms.empty()) return;
    llvm::SmallVector<mlir::Attribute> report;
    for (auto& [op, roles] : gemms)
      report.push_back(mlir::StringAttr::get(&getContext(), rewrite(op, roles, getOperation())));
    // Appended: the checks twin and the entry function may both have run it.
    if (auto earlier = getOperation()->getAttrOfType<mlir::ArrayAttr>(kGemmReport))
      report.insert(report.begin(), earlier.begin(), earlier.end());
    getOperation()->setAttr(kGemmReport, mlir::ArrayAttr::get(&getContext(), report));
  }
};

}  // namespace

bool is_gemm(mlir::Operation* op) {
  auto linalg = mlir::dyn_cast_or_null<mlir::linalg::LinalgOp>(op);
  return linalg && roles_of(linalg).has_value();
}

}  // namespace ember::compiler
