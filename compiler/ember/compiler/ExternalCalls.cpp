//===- ExternalCalls.cpp - the registry of functions compiled code calls ---===//
//
// See Note [External calls] in ExternalCalls.h.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/ExternalCalls.h"

#include <algorithm>

#include "ember/allocator.h"
#include "ember/compiler/OpenMPShim.h"
#include "ember/kernels/attention.h"
#include "ember/kernels/collective.h"
#include "ember/kernels/gru.h"
#include "ember/kernels/lstm.h"
#include "ember/kernels/sgemm.h"
#include "ember/random.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

extern "C" void cblas_dgemm(int, int, int, int, int, int, double, const double*, int, const double*, int,
                            double, double*, int);

namespace ember::compiler {

namespace {

// cblas_?gemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
template <bool kDouble>
mlir::FunctionType gemm_type(mlir::MLIRContext* ctx) {
  mlir::Builder b(ctx);
  mlir::Type i32 = b.getI32Type(), ptr = mlir::LLVM::LLVMPointerType::get(ctx);
  mlir::Type element = kDouble ? mlir::Type(b.getF64Type()) : mlir::Type(b.getF32Type());
  return b.getFunctionType({i32, i32, i32, i32, i32, i32, element, ptr, i32, ptr, i32, element, ptr, i32},
                           {});
}

// ember_random_draw(kind, float32, low, high) -> f64
mlir::FunctionType random_draw_type(mlir::MLIRContext* ctx) {
  mlir::Builder b(ctx);
  return b.getFunctionType({b.getI32Type(), b.getI32Type(), b.getF64Type(), b.getF64Type()},
                           {b.getF64Type()});
}

// A memref of `rank` dims of any size and strides: the kernels' descriptors.
mlir::Type strided_memref(mlir::MLIRContext* ctx, mlir::Type element, int rank) {
  llvm::SmallVector<int64_t> dynamic(rank, mlir::ShapedType::kDynamic);
  return mlir::MemRefType::get(dynamic, element,
                               mlir::StridedLayoutAttr::get(ctx, mlir::ShapedType::kDynamic, dynamic));
}

// The attention kernel (kernels/attention.h) on strided memrefs of any size:
// forward (q, k, v, mask, out, lse, scale, flags); backward (grad, q, k, v,
// out, lse, mask, dq, dk, dv, scale, flags).
template <bool kDouble, bool kBackward>
mlir::FunctionType attention_type(mlir::MLIRContext* ctx) {
  mlir::Builder b(ctx);
  mlir::Type element = kDouble ? mlir::Type(b.getF64Type()) : mlir::Type(b.getF32Type());
  const auto strided = [&](int rank) { return strided_memref(ctx, element, rank); };
  const mlir::Type m4 = strided(4), m3 = strided(3);
  llvm::SmallVector<mlir::Type> args;
  if (kBackward)
    args = {m4, m4, m4, m4, m4, m3, m4, m4, m4, m4};
  else
    args = {m4, m4, m4, m4, m4, m3};
  args.push_back(b.getF64Type());
  args.push_back(b.getI64Type());
  return b.getFunctionType(args, {});
}

// The recurrent kernels (kernels/lstm.h, kernels/gru.h) on strided memrefs
// of any size. Forward: x, w_ih, w_hh, b_ih, b_hh, the states (LSTM: h0,
// c0; GRU: h0), out, gates, flags. Backward: grad_out, (LSTM) grad_gates,
// x, w_ih, w_hh, b_ih, b_hh, out, gates, the states, dx, dparams, flags.
template <bool kDouble, bool kBackward, int kStates, bool kCellGrad>
mlir::FunctionType recurrent_type(mlir::MLIRContext* ctx) {
  mlir::Builder b(ctx);
  mlir::Type element = kDouble ? mlir::Type(b.getF64Type()) : mlir::Type(b.getF32Type());
  const auto strided = [&](int rank) { return strided_memref(ctx, element, rank); };
  const mlir::Type m3 = strided(3), m2 = strided(2), m1 = strided(1);
  llvm::SmallVector<mlir::Type> args;
  if (kBackward) args.append(kCellGrad ? 2 : 1, m3);
  args.append({m3, m2, m2, m1, m1});
  if (kBackward) args.append({m3, m3});
  args.append(kStates, m2);
  args.append({m3, kBackward ? m1 : m3});
  args.push_back(b.getI64Type());
  return b.getFunctionType(args, {});
}

// all_reduce (runtime/ember/collectives.h): in, out (contiguous 1-D), op.
template <bool kDouble>
mlir::FunctionType all_reduce_type(mlir::MLIRContext* ctx) {
  mlir::Builder b(ctx);
  mlir::Type element = kDouble ? mlir::Type(b.getF64Type()) : mlir::Type(b.getF32Type());
  const mlir::Type m1 = mlir::MemRefType::get(
      {mlir::ShapedType::kDynamic}, element,
      mlir::StridedLayoutAttr::get(ctx, mlir::ShapedType::kDynamic, {mlir::ShapedType::kDynamic}));
  return b.getFunctionType({m1, m1, b.getI64Type()}, {});
}

constexpr const char* kNoCollectives =
    "communicates with the other ranks through ember::distributed (MPI); an exported object has no ranks";

constexpr const char* kNoRuntimeKernel =
    "is ember's attention kernel, in the ember runtime library; exports link only OpenBLAS and libc";
constexpr const char* kNoLstmKernel =
    "is ember's LSTM kernel, in the ember runtime library; exports link only OpenBLAS and libc";
constexpr const char* kNoGruKernel =
    "is ember's GRU kernel, in the ember runtime library; exports link only OpenBLAS and libc";

// Note [Temporaries of run-time size]
// ember-pack-buffers packs the temporaries whose size is static into the
// workspace the runtime passes; those of `?` size (a graph with dynamic
// dims) stay allocations. glibc would hand a large one back to the kernel
// on free and page-fault it in again on the next call, so JIT code takes
// them from ember's caching allocator instead (MLIR's generic allocation
// functions, which the memref-to-LLVM lowering then calls): after the
// first calls at the largest size, a call allocates nothing new. The block
// remembers its size (ember::deallocate needs it) in front of the pointer.
struct TemporaryHeader {
  void* base;
  size_t bytes;
};

void* temporary_aligned_alloc(uint64_t alignment, uint64_t bytes) {
  const size_t align = std::max<size_t>(kAlignment, alignment);
  const size_t total = bytes + align + sizeof(TemporaryHeader);
  char* base = static_cast<char*>(allocate(total));
  const auto first = reinterpret_cast<uintptr_t>(base) + sizeof(TemporaryHeader);
  char* p = base + ((first + align - 1) / align * align - reinterpret_cast<uintptr_t>(base));
  reinterpret_cast<TemporaryHeader*>(p)[-1] = {base, total};
  return p;
}

void* temporary_alloc(uint64_t bytes) { return temporary_aligned_alloc(kAlignment, bytes); }

void temporary_free(void* p) {
  if (!p) return;
  const TemporaryHeader h = static_cast<TemporaryHeader*>(p)[-1];
  deallocate(h.base, h.bytes);
}

constexpr const char* kJitAllocation =
    "is the JIT's allocation of a temporary from ember's caching allocator; exports allocate with malloc";

std::vector<ExternalFunction> make_registry() {
  std::vector<ExternalFunction> all = {
      // Float GEMMs go where eager's go (Note [oneDNN for sgemm]); an export
      // links OpenBLAS's cblas_sgemm instead.
      {"cblas_sgemm", &gemm_type<false>, reinterpret_cast<const void*>(&ember_cblas_sgemm), "libopenblas",
       nullptr},
      {"cblas_dgemm", &gemm_type<true>, reinterpret_cast<const void*>(&cblas_dgemm), "libopenblas", nullptr},
      {"ember_random_draw", &random_draw_type, reinterpret_cast<const void*>(&ember_random_draw), nullptr,
       "draws from ember's random generator; an export has no ember runtime to draw from (pass the random "
       "tensor "
       "as an input instead)"},
  };
  // Runtime kernels called through MLIR's C interface.
  const auto kernel = [&all](const char* name, mlir::FunctionType (*type)(mlir::MLIRContext*),
                             const void* address, const char* not_exportable) {
    all.push_back({name, type, address, nullptr, not_exportable, true});
  };
  kernel("ember_attention_f32", &attention_type<false, false>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_attention_f32), kNoRuntimeKernel);
  kernel("ember_attention_f64", &attention_type<true, false>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_attention_f64), kNoRuntimeKernel);
  kernel("ember_attention_backward_f32", &attention_type<false, true>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_attention_backward_f32), kNoRuntimeKernel);
  kernel("ember_attention_backward_f64", &attention_type<true, true>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_attention_backward_f64), kNoRuntimeKernel);
  kernel("ember_lstm_f32", &recurrent_type<false, false, 2, true>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_lstm_f32), kNoLstmKernel);
  kernel("ember_lstm_f64", &recurrent_type<true, false, 2, true>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_lstm_f64), kNoLstmKernel);
  kernel("ember_lstm_backward_f32", &recurrent_type<false, true, 2, true>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_lstm_backward_f32), kNoLstmKernel);
  kernel("ember_lstm_backward_f64", &recurrent_type<true, true, 2, true>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_lstm_backward_f64), kNoLstmKernel);
  kernel("ember_gru_f32", &recurrent_type<false, false, 1, false>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_gru_f32), kNoGruKernel);
  kernel("ember_gru_f64", &recurrent_type<true, false, 1, false>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_gru_f64), kNoGruKernel);
  kernel("ember_gru_backward_f32", &recurrent_type<false, true, 1, false>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_gru_backward_f32), kNoGruKernel);
  kernel("ember_gru_backward_f64", &recurrent_type<true, true, 1, false>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_gru_backward_f64), kNoGruKernel);
  kernel("ember_all_reduce_f32", &all_reduce_type<false>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_all_reduce_f32), kNoCollectives);
  kernel("ember_all_reduce_f64", &all_reduce_type<true>,
         reinterpret_cast<const void*>(&_mlir_ciface_ember_all_reduce_f64), kNoCollectives);
  all.push_back({"_mlir_memref_to_llvm_alloc", nullptr, reinterpret_cast<const void*>(&temporary_alloc),
                 nullptr, kJitAllocation});
  all.push_back({"_mlir_memref_to_llvm_aligned_alloc", nullptr,
                 reinterpret_cast<const void*>(&temporary_aligned_alloc), nullptr, kJitAllocation});
  all.push_back({"_mlir_memref_to_llvm_free", nullptr, reinterpret_cast<const void*>(&temporary_free),
                 nullptr, kJitAllocation});
  for (const auto& [name, address] : openmp_shim_symbols())
    all.push_back({name, nullptr, address, nullptr,
                   "is an OpenMP entry point; exports are compiled without parallel loops"});
  return all;
}

}  // namespace

const std::vector<ExternalFunction>& external_functions() {
  static const std::vector<ExternalFunction> all = make_registry();
  return all;
}

const ExternalFunction* find_external(llvm::StringRef name) {
  for (const ExternalFunction& f : external_functions())
    if (name == f.name || name == f.symbol()) return &f;
  return nullptr;
}

mlir::func::FuncOp declare_external(mlir::ModuleOp module, llvm::StringRef name) {
  if (auto f = module.lookupSymbol<mlir::func::FuncOp>(name)) return f;
  const ExternalFunction* entry = find_external(name);
  if (!entry || !entry->type) {
    module.emitError() << "ember: no external function @" << name << " in the registry (ExternalCalls.cpp)";
    return {};
  }
  mlir::OpBuilder b(module.getBodyRegion());
  auto f = b.create<mlir::func::FuncOp>(module.getLoc(), name, entry->type(module.getContext()));
  f.setPrivate();
  if (entry->c_interface) f->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return f;
}

std::vector<std::string> unexportable_calls(mlir::ModuleOp module) {
  std::vector<std::string> problems;
  const auto check = [&](llvm::StringRef name) {
    // The kernel's name, not its C-interface symbol, once.
    if (const ExternalFunction* f = find_external(name); f && !f->export_library) {
      const std::string problem = f->name + ": " + f->unexportable;
      if (std::find(problems.begin(), problems.end(), problem) == problems.end()) problems.push_back(problem);
    }
  };
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (f.isExternal()) check(f.getName());
  for (auto f : module.getOps<mlir::LLVM::LLVMFuncOp>())
    if (f.isExternal()) check(f.getName());
  return problems;
}

}  // namespace ember::compiler
