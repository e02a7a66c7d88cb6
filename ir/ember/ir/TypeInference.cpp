//===- TypeInference.cpp - result types of ember ops -----------------------===//
//
// The same shape and dtype rules as the eager kernels (runtime/ember/kernels),
// over MLIR types, so that the dialect accepts exactly the graphs the runtime
// runs. Each rule emits an error naming the op when the operands do not fit.
//
//===----------------------------------------------------------------------===//

#include "ember/ir/TypeInference.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

namespace ember::ir {

namespace {
int lattice(mlir::Type t) {
  if (t.isInteger(1)) return 0;
  if (t.isInteger(32)) return 1;
  if (t.isInteger(64)) return 2;
  if (t.isF32()) return 3;
  return 4;
}
int category(mlir::Type t) { return t.isInteger(1) ? 0 : is_float(t) ? 2 : 1; }
mlir::Type higher(mlir::Type a, mlir::Type b) { return lattice(a) >= lattice(b) ? a : b; }
std::string shape_string(llvm::ArrayRef<int64_t> s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}
}  // namespace

bool is_ember_element_type(mlir::Type t) {
  return t.isF32() || t.isF64() || t.isInteger(64) || t.isInteger(32) || t.isInteger(1);
}
bool is_float(mlir::Type t) { return t.isF32() || t.isF64(); }

mlir::Type promote(mlir::Type a, int64_t rank_a, mlir::Type b, int64_t rank_b) {
  if ((rank_a > 0) == (rank_b > 0)) return higher(a, b);
  mlir::Type dim = rank_a > 0 ? a : b, zero = rank_a > 0 ? b : a;
  if (is_float(dim)) return dim;
  if (dim.isInteger(1) || is_float(zero)) return higher(dim, zero);
  return dim;
}

llvm::LogicalResult Inference::fail(const std::string& message) {
  if (location_) mlir::emitError(*location_) << "'ember." << op_.substr(op_.find('.') + 1) << "': " << message;
  return llvm::failure();
}

std::optional<mlir::RankedTensorType> Inference::ranked(mlir::Type t, const char* what) {
  auto r = mlir::dyn_cast<mlir::RankedTensorType>(t);
  if (!r || !is_ember_element_type(r.getElementType())) {
    (void)fail(std::string(what) + " must be a ranked tensor of f32, f64, i64, i32 or i1");
    return std::nullopt;
  }
  return r;
}

std::optional<int64_t> Inference::wrap(int64_t dim, int64_t rank) {
  const int64_t n = rank > 0 ? rank : 1;
  if (dim < -n || dim >= n) {
    (void)fail("dimension " + std::to_string(dim) + " is out of range for a " + std::to_string(rank) + "-d tensor");
    return std::nullopt;
  }
  return dim < 0 ? dim + n : dim;
}

mlir::RankedTensorType Inference::tensor(llvm::ArrayRef<int64_t> shape, mlir::Type element) {
  return mlir::RankedTensorType::get(shape, element);
}

llvm::LogicalResult Inference::unary(mlir::Type x0, std::string_view domain, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  mlir::Type e = x->getElementType();
  if (domain == "float" && !is_float(e)) e = mlir::Float32Type::get(context_);
  if (domain == "numeric" && e.isInteger(1)) return fail("not defined for i1 (bool) tensors");
  out.push_back(tensor(x->getShape(), e));
  return llvm::success();
}

llvm::LogicalResult Inference::cast(mlir::Type x0, mlir::Type element, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  if (!is_ember_element_type(element)) return fail("element_type must be f32, f64, i64, i32 or i1");
  out.push_back(tensor(x->getShape(), element));
  return llvm::success();
}

namespace {
std::optional<llvm::SmallVector<int64_t>> broadcast(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  const size_t n = std::max(a.size(), b.size());
  llvm::SmallVector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i + a.size() >= n ? a[i + a.size() - n] : 1;
    const int64_t db = i + b.size() >= n ? b[i + b.size() - n] : 1;
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}
}  // namespace

llvm::LogicalResult Inference::binary(mlir::Type l0, mlir::Type r0, std::string_view rule, Types& out) {
  auto l = ranked(l0, "lhs"), r = ranked(r0, "rhs");
  if (!l || !r) return llvm::failure();
  auto shape = broadcast(l->getShape(), r->getShape());
  if (!shape)
    return fail("shapes " + shape_string(l->getShape()) + " and " + shape_string(r->getShape()) + " cannot be broadcast");
  mlir::Type e = promote(l->getElementType(), l->getRank(), r->getElementType(), r->getRank());
  if (rule == "div" && !is_float(e)) e = mlir::Float32Type::get(context_);
  if (rule == "compare") e = mlir::IntegerType::get(context_, 1);
  if (op_ == "ember.sub" && e.isInteger(1)) return fail("subtracting i1 (bool) tensors is not supported");
  out.push_back(tensor(*shape, e));
  return llvm::success();
}

llvm::LogicalResult Inference::where(mlir::Type c0, mlir::Type a0, mlir::Type b0, Types& out) {
  auto c = ranked(c0, "cond"), a = ranked(a0, "a"), b = ranked(b0, "b");
  if (!c || !a || !b) return llvm::failure();
  if (!c->getElementType().isInteger(1)) return fail("the condition must be i1 (bool)");
  auto s1 = broadcast(c->getShape(), a->getShape());
  auto s2 = s1 ? broadcast(*s1, b->getShape()) : std::nullopt;
  if (!s2) return fail("cond, a and b cannot be broadcast together");
  out.push_back(tensor(*s2, promote(a->getElementType(), a->getRank(), b->getElementType(), b->getRank())));
  return llvm::success();
}

llvm::LogicalResult Inference::reduce(mlir::Type x0, llvm::ArrayRef<int64_t> dims, bool keepdim, std::string_view rule,
                                      Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  const int64_t rank = x->getRank();
  llvm::SmallVector<bool> mask(std::max<int64_t>(rank, 1), dims.empty());
  for (int64_t d : dims) {
    auto w = wrap(d, rank);
    if (!w) return llvm::failure();
    if (mask[*w] && rank > 0) return fail("dimension " + std::to_string(d) + " appears more than once");
    mask[*w] = true;
  }
  llvm::SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (!mask[d]) shape.push_back(x->getDimSize(d));
    else if (keepdim) shape.push_back(1);
  }
  mlir::Type e = x->getElementType();
  if (rule == "sum" && !is_float(e)) e = mlir::IntegerType::get(context_, 64);
  if (rule == "float" && !is_float(e)) return fail("needs a floating-point tensor");
  out.push_back(tensor(shape, e));
  return llvm::success();
}

llvm::LogicalResult Inference::index_reduce(mlir::Type x0, int64_t dim, bool keepdim, bool values, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  auto d = wrap(dim, x->getRank());
  if (!d) return llvm::failure();
  llvm::SmallVector<int64_t> shape;
  for (int64_t i = 0; i < x->getRank(); ++i) {
    if (i != *d) shape.push_back(x->getDimSize(i));
    else if (keepdim) shape.push_back(1);
  }
  if (values) out.push_back(tensor(shape, x->getElementType()));
  out.push_back(tensor(shape, mlir::IntegerType::get(context_, 64)));
  return llvm::success();
}

llvm::LogicalResult Inference::matmul(mlir::Type l0, mlir::Type r0, Types& out) {
  auto l = ranked(l0, "lhs"), r = ranked(r0, "rhs");
  if (!l || !r) return llvm::failure();
  if (l->getRank() < 1 || r->getRank() < 1) return fail("both operands need at least 1 dimension");
  if (l->getElementType() != r->getElementType()) return fail("operands must have the same element type");
  if (l->getElementType().isInteger(1)) return fail("not defined for i1 (bool) tensors");
  llvm::SmallVector<int64_t> a(l->getShape()), b(r->getShape());
  const bool av = a.size() == 1, bv = b.size() == 1;
  if (av) a.insert(a.begin(), 1);
  if (bv) b.push_back(1);
  if (a.back() != b[b.size() - 2])
    return fail("shapes " + shape_string(l->getShape()) + " and " + shape_string(r->getShape()) + " cannot be multiplied");
  auto batch = broadcast(llvm::ArrayRef<int64_t>(a).drop_back(2), llvm::ArrayRef<int64_t>(b).drop_back(2));
  if (!batch) return fail("batch dims cannot be broadcast");
  llvm::SmallVector<int64_t> shape(*batch);
  if (!av) shape.push_back(a[a.size() - 2]);
  if (!bv) shape.push_back(b.back());
  out.push_back(tensor(shape, l->getElementType()));
  return llvm::success();
}

namespace {
int64_t numel(llvm::ArrayRef<int64_t> s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}
}  // namespace

llvm::LogicalResult Inference::view(mlir::Type x0, llvm::ArrayRef<int64_t> shape, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  for (int64_t d : shape)
    if (d < 0) return fail("shape " + shape_string(shape) + " has a negative size");
  if (numel(shape) != numel(x->getShape()))
    return fail("shape " + shape_string(shape) + " does not hold the " + std::to_string(numel(x->getShape())) + " elements");
  out.push_back(tensor(shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::permute(mlir::Type x0, llvm::ArrayRef<int64_t> dims, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  if (static_cast<int64_t>(dims.size()) != x->getRank()) return fail("the permutation must list every dim once");
  llvm::SmallVector<bool> seen(dims.size(), false);
  llvm::SmallVector<int64_t> shape;
  for (int64_t d : dims) {
    auto w = wrap(d, x->getRank());
    if (!w || seen[*w]) return fail("the permutation must list every dim once");
    seen[*w] = true;
    shape.push_back(x->getDimSize(*w));
  }
  out.push_back(tensor(shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::slice(mlir::Type x0, int64_t dim, int64_t start, int64_t end, int64_t step, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  if (x->getRank() == 0) return fail("cannot slice a 0-d tensor");
  auto d = wrap(dim, x->getRank());
  if (!d) return llvm::failure();
  if (step <= 0) return fail("step must be positive");
  const int64_t size = x->getDimSize(*d);
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  llvm::SmallVector<int64_t> shape(x->getShape());
  shape[*d] = (end - start + step - 1) / step;
  out.push_back(tensor(shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::select(mlir::Type x0, int64_t dim, int64_t index, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  if (x->getRank() == 0) return fail("cannot index a 0-d tensor");
  auto d = wrap(dim, x->getRank());
  if (!d) return llvm::failure();
  const int64_t size = x->getDimSize(*d);
  if (index < -size || index >= size) return fail("index " + std::to_string(index) + " is out of range for size " + std::to_string(size));
  llvm::SmallVector<int64_t> shape(x->getShape());
  shape.erase(shape.begin() + *d);
  out.push_back(tensor(shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::expand(mlir::Type x0, llvm::ArrayRef<int64_t> target, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  const int64_t lead = static_cast<int64_t>(target.size()) - x->getRank();
  if (lead < 0) return fail("the target has fewer dims than the operand");
  llvm::SmallVector<int64_t> shape(target);
  for (int64_t i = 0; i < static_cast<int64_t>(target.size()); ++i) {
    if (i < lead) {
      if (target[i] < 0) return fail("-1 is not allowed for a new leading dim");
      continue;
    }
    const int64_t have = x->getDimSize(i - lead), want = target[i] == -1 ? have : target[i];
    if (want != have && have != 1) return fail("size " + std::to_string(want) + " must match the existing size " + std::to_string(have));
    shape[i] = want;
  }
  out.push_back(tensor(shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::squeeze(mlir::Type x0, llvm::ArrayRef<int64_t> dims, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  llvm::SmallVector<bool> drop(std::max<int64_t>(x->getRank(), 1), false);
  for (int64_t d = 0; d < x->getRank(); ++d) drop[d] = dims.empty() && x->getDimSize(d) == 1;
  for (int64_t d : dims) {
    auto w = wrap(d, x->getRank());
    if (!w) return llvm::failure();
    drop[*w] = x->getRank() > 0 && x->getDimSize(*w) == 1;
  }
  llvm::SmallVector<int64_t> shape;
  for (int64_t d = 0; d < x->getRank(); ++d)
    if (!drop[d]) shape.push_back(x->getDimSize(d));
  out.push_back(tensor(shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::unsqueeze(mlir::Type x0, int64_t dim, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  auto d = wrap(dim, x->getRank() + 1);
  if (!d) return llvm::failure();
  llvm::SmallVector<int64_t> shape(x->getShape());
  shape.insert(shape.begin() + *d, 1);
  out.push_back(tensor(shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::scatter(mlir::Type x0, llvm::ArrayRef<int64_t> input_shape, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  out.push_back(tensor(input_shape, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::along(mlir::Type x0, int64_t dim, Types& out) {
  auto x = ranked(x0, "the operand");
  if (!x) return llvm::failure();
  if (!is_float(x->getElementType())) return fail("needs a floating-point tensor");
  if (!wrap(dim, x->getRank())) return llvm::failure();
  out.push_back(*x);
  return llvm::success();
}

llvm::LogicalResult Inference::layer_norm(mlir::TypeRange inputs, int64_t nd, Types& out) {
  if (inputs.empty() || inputs.size() > 3) return fail("takes x, and optionally weight and bias");
  auto x = ranked(inputs[0], "x");
  if (!x) return llvm::failure();
  if (!is_float(x->getElementType())) return fail("needs a floating-point tensor");
  if (nd < 1 || nd > x->getRank()) return fail("cannot normalize the last " + std::to_string(nd) + " dims");
  auto norm = x->getShape().take_back(nd);
  for (size_t i = 1; i < inputs.size(); ++i) {
    auto p = ranked(inputs[i], i == 1 ? "weight" : "bias");
    if (!p) return llvm::failure();
    if (p->getShape() != norm || p->getElementType() != x->getElementType())
      return fail(std::string(i == 1 ? "weight" : "bias") + " must be " + shape_string(norm) + " of x's element type");
  }
  out.push_back(*x);
  return llvm::success();
}

llvm::LogicalResult Inference::loss(mlir::Type in0, mlir::Type t0, int64_t reduction, Types& out) {
  auto in = ranked(in0, "the input"), t = ranked(t0, "the targets");
  if (!in || !t) return llvm::failure();
  if (in->getRank() != 2 || !is_float(in->getElementType())) return fail("the input must be a floating-point [N, C] tensor");
  if (t->getRank() != 1 || t->getDimSize(0) != in->getDimSize(0) ||
      !(t->getElementType().isInteger(64) || t->getElementType().isInteger(32)))
    return fail("targets must be [N] of i64 or i32");
  if (reduction < 0 || reduction > 2) return fail("reduction must be 0 (none), 1 (mean) or 2 (sum)");
  out.push_back(reduction == 0 ? tensor({in->getDimSize(0)}, in->getElementType()) : tensor({}, in->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::embedding(mlir::Type w0, mlir::Type i0, Types& out) {
  auto w = ranked(w0, "the weight"), idx = ranked(i0, "the indices");
  if (!w || !idx) return llvm::failure();
  if (w->getRank() != 2) return fail("the weight must be [num_embeddings, dim]");
  if (!(idx->getElementType().isInteger(64) || idx->getElementType().isInteger(32))) return fail("indices must be i64 or i32");
  llvm::SmallVector<int64_t> shape(idx->getShape());
  shape.push_back(w->getDimSize(1));
  out.push_back(tensor(shape, w->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::embedding_backward(mlir::Type g0, int64_t num_weights, Types& out) {
  auto g = ranked(g0, "the gradient");
  if (!g) return llvm::failure();
  const int64_t d = g->getRank() ? g->getShape().back() : 1;
  out.push_back(tensor({num_weights, d}, g->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::cat(mlir::TypeRange inputs, int64_t dim, Types& out) {
  if (inputs.empty()) return fail("needs at least one tensor");
  auto first = ranked(inputs[0], "operand 0");
  if (!first) return llvm::failure();
  if (first->getRank() == 0) return fail("cannot concatenate 0-d tensors");
  auto d = wrap(dim, first->getRank());
  if (!d) return llvm::failure();
  llvm::SmallVector<int64_t> shape(first->getShape());
  shape[*d] = 0;
  mlir::Type e = first->getElementType();
  for (mlir::Type t0 : inputs) {
    auto t = ranked(t0, "an operand");
    if (!t) return llvm::failure();
    if (t->getRank() != first->getRank()) return fail("every operand needs the same rank");
    for (int64_t i = 0; i < t->getRank(); ++i)
      if (i != *d && t->getDimSize(i) != first->getDimSize(i)) return fail("operands may differ only in the cat dim");
    shape[*d] += t->getDimSize(*d);
    e = higher(e, t->getElementType());
  }
  out.push_back(tensor(shape, e));
  return llvm::success();
}

llvm::LogicalResult Inference::conv2d(mlir::TypeRange inputs, llvm::ArrayRef<int64_t> g, Types& out) {
  if (inputs.size() < 2 || inputs.size() > 3) return fail("takes x, weight and optionally bias");
  auto x = ranked(inputs[0], "x"), w = ranked(inputs[1], "the weight");
  if (!x || !w) return llvm::failure();
  if (g.size() != 6) return fail("geometry must be [stride h, w, padding h, w, dilation h, w]");
  if (x->getRank() != 4 || w->getRank() != 4) return fail("x must be [N, C, H, W] and the weight [O, C, kh, kw]");
  if (x->getDimSize(1) != w->getDimSize(1)) return fail("x and the weight disagree on the channels");
  if (!is_float(x->getElementType()) || x->getElementType() != w->getElementType())
    return fail("x and the weight must be of one floating-point type");
  if (inputs.size() == 3) {
    auto b = ranked(inputs[2], "the bias");
    if (!b || b->getRank() != 1 || b->getDimSize(0) != w->getDimSize(0)) return fail("the bias must be [O]");
  }
  const int64_t oh = (x->getDimSize(2) + 2 * g[2] - g[4] * (w->getDimSize(2) - 1) - 1) / g[0] + 1;
  const int64_t ow = (x->getDimSize(3) + 2 * g[3] - g[5] * (w->getDimSize(3) - 1) - 1) / g[1] + 1;
  if (g[0] <= 0 || g[1] <= 0 || g[4] <= 0 || g[5] <= 0 || oh <= 0 || ow <= 0)
    return fail("the geometry gives no output positions");
  out.push_back(tensor({x->getDimSize(0), w->getDimSize(0), oh, ow}, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::pool(mlir::Type x0, llvm::ArrayRef<int64_t> g, Types& out) {
  auto x = ranked(x0, "x");
  if (!x) return llvm::failure();
  if (x->getRank() != 4 || !is_float(x->getElementType())) return fail("x must be a floating-point [N, C, H, W] tensor");
  if (g.size() != 6 || g[0] <= 0 || g[1] <= 0 || g[2] <= 0 || g[3] <= 0)
    return fail("geometry must be [kernel h, w, stride h, w, padding h, w] with positive kernel and stride");
  const int64_t oh = (x->getDimSize(2) + 2 * g[4] - g[0]) / g[2] + 1, ow = (x->getDimSize(3) + 2 * g[5] - g[1]) / g[3] + 1;
  if (oh <= 0 || ow <= 0) return fail("the kernel is larger than the padded input");
  out.push_back(tensor({x->getDimSize(0), x->getDimSize(1), oh, ow}, x->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::shaped_like(mlir::Type like, llvm::ArrayRef<int64_t> shape, Types& out) {
  auto l = ranked(like, "the gradient");
  if (!l) return llvm::failure();
  out.push_back(tensor(shape, l->getElementType()));
  return llvm::success();
}

llvm::LogicalResult Inference::create(llvm::ArrayRef<int64_t> shape, mlir::Type element, Types& out) {
  for (int64_t d : shape)
    if (d < 0) return fail("negative size in shape " + shape_string(shape));
  if (!is_ember_element_type(element)) return fail("element_type must be f32, f64, i64, i32 or i1");
  out.push_back(tensor(shape, element));
  return llvm::success();
}

llvm::LogicalResult Inference::constant(mlir::Attribute value, Types& out) {
  auto typed = mlir::dyn_cast_or_null<mlir::TypedAttr>(value);
  auto t = typed ? mlir::dyn_cast<mlir::RankedTensorType>(typed.getType()) : nullptr;
  if (!t || !is_ember_element_type(t.getElementType())) return fail("the value must be a ranked tensor of an ember type");
  out.push_back(t);
  return llvm::success();
}

}  // namespace ember::ir
