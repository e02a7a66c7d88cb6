//===- Passes.td - ember compiler passes -------------------*- tablegen -*-===//
//
// The passes that lower the ember dialect towards native code, each in its
// own file and each testable through ember-opt.
//
//===----------------------------------------------------------------------===//

#ifndef EMBER_COMPILER_PASSES
#define EMBER_COMPILER_PASSES

include "mlir/Pass/PassBase.td"

def ConvertEmberToLinalg : Pass<"convert-ember-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower every ember op (after ember-decompose) to linalg, tensor and arith on tensors";
  let description = [{
    Every elementwise ember op (the Unary, Binary and Compare families,
    `where`, and `constant`) becomes one `linalg.generic` over the result's
    shape, with the scalar body its schema row names (ops.yaml `body`),
    NumPy broadcasting expressed in the operands' indexing maps (a broadcast
    dimension reads index 0) and PyTorch's type promotion as `arith` casts
    in the body. Chains of such ops are then one fusion away from a single
    loop nest. sum, mean, amax and amin become a generic with reduction
    iterators into a `linalg.fill`ed accumulator (mean then divides by the
    count; keepdim re-expands); max/min/argmax/argmin along a dim a generic
    carrying value and index. permute becomes linalg.transpose; matmul
    linalg.matmul / matmul_transpose_a/b / batch_matmul into a zero-filled
    accumulator; views tensor reshapes and slices (ShapeOps.cpp); cat,
    creation ops (random ones as calls of the runtime's generator, Note
    [External calls]); conv2d and pooling linalg's named ops with their
    gradients (ConvPool.cpp); embedding and the losses' gathers, with
    ember.check ops for their index ranges (Gather.cpp). attention and its
    gradient stay ember ops until ember-attention-to-calls. An op with no
    lowering is left as it is (the JIT then names it).

    ```mlir
    %y = ember.add %a, %b : tensor<4x3xf32>, tensor<3xf32> -> tensor<4x3xf32>
    // becomes
    %e = tensor.empty() : tensor<4x3xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%a, %b : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
      ^bb0(%x: f32, %z: f32, %out: f32):
        %s = arith.addf %x, %z : f32
        linalg.yield %s : f32
    } -> tensor<4x3xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect", "::mlir::math::MathDialect", "::mlir::scf::SCFDialect"];
}

def EmberDecompose : Pass<"ember-decompose", "::mlir::ModuleOp"> {
  let summary = "Rewrite softmax, log_softmax and layer_norm as reductions and elementwise ember ops, and sums of slice gradients that tile a dim as a cat";
  let description = [{
    The eager runtime has fused kernels for these ops; the compiler lowers
    them as the ember ops they are made of (amax, sum, mean and elementwise
    ops), which --convert-ember-to-linalg handles and fusion merges again:

    ```mlir
    %y = ember.softmax %x {dim = 1 : i64}
    // becomes
    %m = ember.amax %x {dims = array<i64: 1>, keepdim = true}
    %e = ember.exp (ember.sub %x, %m)
    %y = ember.div %e, (ember.sum %e {dims = array<i64: 1>, keepdim = true})
    ```

    The gradients autograd gives the slices of one tensor (q, k and v
    selected from a qkv projection) are each zeros with the slice written
    in, then summed; when the slices tile the dim, that sum is a cat of the
    slice gradients (Note [Slice gradients that tile their input]).
  }];
}

def ApproximateMath : Pass<"ember-approximate-math"> {
  let summary = "Replace transcendental math ops by vectorizable polynomials";
  let description = [{
    Runs MLIR's polynomial approximation patterns (tanh, exp, log, erf, sin,
    cos, ...), which have no registered pass of their own in MLIR 19: after
    it, an elementwise loop holds only arith ops, which LLVM vectorizes,
    instead of scalar libm calls (30x slower on ew_chain, MLIR-NOTES.md).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
}

def EmberMatmulToBlas : Pass<"ember-matmul-to-blas", "::mlir::ModuleOp"> {
  let summary = "Replace bufferized matmuls by calls to OpenBLAS's cblas_sgemm/dgemm";
  let description = [{
    Runs on memrefs, after the buffer deallocation pipeline. `linalg.matmul`,
    `matmul_transpose_a/b` (the transpose becomes BLAS's flag) and
    `batch_matmul` (a loop of calls) on f32 or f64 memrefs with static
    strides and unit innermost stride become `func.call @cblas_sgemm` with
    the buffers' addresses; a zero `linalg.fill` of the result right before
    becomes beta = 0. Other matmuls are left to the loop lowering.

    ```mlir
    linalg.fill ins(%zero : f32) outs(%c : memref<4x2xf32>)
    linalg.matmul ins(%a, %b : memref<4x3xf32>, memref<3x2xf32>) outs(%c : memref<4x2xf32>)
    // becomes
    func.call @cblas_sgemm(%row_major, %no_trans, %no_trans, %m, %n, %k, %one, %pa, %k, %pb, %n, %zero, %pc, %n)
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

def EmberPackBuffers : Pass<"ember-pack-buffers", "::mlir::ModuleOp"> {
  let summary = "Turn a function's static temporaries into views of one workspace argument";
  let description = [{
    Runs on memrefs after the buffer deallocation pipeline. Every public
    function gets a trailing `memref<?xi8>` workspace argument and an
    `ember.workspace_bytes` attribute; each `memref.alloc` of static shape in
    its body (that does not escape through `return`) becomes a `memref.view`
    of the workspace at an offset packed by live range (from the alloc to
    the last use of it or its views: temporaries that are not live at the
    same time share bytes), and its deallocs disappear. The runtime keeps
    the workspace between calls, so a replay neither mallocs nor page-faults.

    ```mlir
    %a = memref.alloc() : memref<4x8xf32>
    ...
    memref.dealloc %a : memref<4x8xf32>
    // becomes
    %a = memref.view %workspace[%c0][] : memref<?xi8> to memref<4x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def EmberLowerChecks : Pass<"ember-lower-checks", "::mlir::ModuleOp"> {
  let summary = "Turn ember.check ops into counts of failures returned by the function";
  let description = [{
    Each `ember.check %ok {message}` becomes a 0-d i64 tensor counting the
    false elements of `%ok`, appended to the enclosing function's results;
    the function's `ember.checks` attribute lists the messages (with the
    check's source line) in the same order. The runtime raises the message
    of the first non-zero count.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect"];
}

def EmberReductionsToLoops : Pass<"ember-reductions-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower bufferized linalg ops with reduction loops to scf.for, memref.copy to linalg.copy";
  let description = [{
    Runs before --convert-linalg-to-affine-loops so that the affine
    super-vectorizer, which emits invalid broadcasting writes for some
    reductions written as load/store of an accumulator (sums, convolutions,
    pooling windows), only sees parallel loop nests; and so that copies
    between strided buffers are loops rather than calls to MLIR's runtime
    library, which exported objects do not have.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def EmberFuseRows : Pass<"ember-fuse-rows", "::mlir::ModuleOp"> {
  let summary = "Tile chains of row reductions and elementwise ops by rows, fuse them, and vectorize each row";
  let description = [{
    For each all-parallel linalg.generic (rank >= 2, static shape, last dim
    at most 16384) whose producers include a reduction over the innermost
    loop (softmax, layer_norm, log_softmax after decomposition): tile it
    with size 1 on every dim but the last, fuse its linalg.generic and fill
    producers into the loop, and vectorize the loop body's ops at the row
    shape. One pass over memory instead of one per op.

    ```mlir
    %m = linalg.generic {reduction over d1} ins(%x : tensor<64x128xf32>) -> tensor<64xf32>
    %y = linalg.generic {parallel} ins(%x, %m) -> tensor<64x128xf32>
    // becomes
    %y = scf.for %i = 0 to 64 iter_args(%out = %init) {
      %row = tensor.extract_slice %x[%i, 0] [1, 128] [1, 1]
      %v = vector.transfer_read %row ... : vector<1x128xf32>
      %r = vector.multi_reduction <maximumf>, %v ... [1] : vector<1x128xf32> to vector<1xf32>
      ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::arith::ArithDialect"];
}

def EmberParallelLoops : Pass<"ember-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "Make the outermost loop of each large top-level affine nest an affine.parallel";
  let description = [{
    Runs after the affine lowering and vectorization. Each affine.for directly
    in a function's body (parallel by construction: see Note [Top-level affine
    loops are parallel] in ParallelLoops.cpp) whose nest runs at least 16384
    innermost iterations becomes an affine.parallel, which the pipeline lowers
    through scf.parallel and the OpenMP dialect to calls that run on ember's
    libgomp pool. A nest whose outer trip count is known only at run time (a
    `?` batch) is versioned: an scf.if on that count runs a parallel copy
    when the nest is large enough and the serial loop otherwise (Note [Loops
    of run-time trip count]).
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def EmberInlineAllocaScopes : Pass<"ember-inline-alloca-scopes", "::mlir::ModuleOp"> {
  let summary = "Inline the memref.alloca_scope ops --convert-scf-to-openmp puts around parallel bodies";
  let description = [{
    Applies only memref.alloca_scope's inlining pattern, only to those ops
    (the bodies allocate nothing on the stack), so that the later scf-to-cf
    lowering does not put several blocks into a single-block scope. A full
    canonicalization at this point changed what compiled training steps
    computed (session 2; Note in ParallelLoops.cpp): this pass does only the
    one rewrite the pipeline needs.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def EmberBoolTransfersToScalars : Pass<"ember-bool-transfers-to-scalars", "::mlir::ModuleOp"> {
  let summary = "Turn each vector transfer of an i1 buffer into one scalar access per lane";
  let description = [{
    LLVM lays a vector of i1 out in memory as packed bits; a memref of i1
    has one byte per element. A vector transfer of an i1 buffer lowers to an
    LLVM vector load or store of 16 bits where the buffer holds 16 bytes: a
    compiled `x > 0` over 16 elements returned wrong flags, and a compiled
    cross_entropy read its valid-target mask wrong. Each lane becomes its
    own memref.load or memref.store (guarded by the dim's size where the
    lane may be past the end); the computation around it stays vectorized.
    A transfer this pass cannot rewrite (a mask, more than one vector dim)
    fails the compile rather than lowering to a wrong answer.

    ```mlir
    vector.transfer_write %v, %m[%c0] : vector<16xi1>, memref<16xi1>
    // becomes, for each lane k in 0..16
    %e = vector.extract %v[k] : i1 from vector<16xi1>
    memref.store %e, %m[%c0 + k] : memref<16xi1>
    ```
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

def EmberTransfersInBounds : Pass<"ember-transfers-in-bounds", "::mlir::ModuleOp"> {
  let summary = "Mark vector transfers whose every lane is inside the buffer as in bounds";
  let description = [{
    The affine super-vectorizer leaves its vector.transfer_read/write ops
    without `in_bounds`, so they lower to masked loads and stores even where
    the loop's last vector ends exactly at the end of the dimension
    (784 = 49 x 16). On an AMD Zen 5 a masked 512-bit store is
    several times slower than a plain one: an SGD update over [1024, 1024]
    took longer compiled than eager. A dim is in bounds when its index is a
    constant or the induction variable of an affine.for with constant bounds
    and its largest value plus the vector's size is at most the dim's static
    size.

    ```mlir
    affine.for %j = 0 to 784 step 16 {
      %v = vector.transfer_read %a[%i, %j], %pad : memref<8x784xf32>, vector<16xf32>
    // becomes
      %v = vector.transfer_read %a[%i, %j], %pad {in_bounds = [true]} : memref<8x784xf32>, vector<16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect"];
}

def EmberScatterToLoops : Pass<"ember-scatter-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower ember.embedding_backward to a scatter-add loop on buffers";
  let description = [{
    The gradient of an embedding table: zeroed, then each row of the
    incoming gradient added at its index, O(N * D) (ScatterLoops.cpp says
    why not a linalg reduction). The operands are read through
    bufferization.to_memref (read_only), the result is a fresh buffer
    returned by to_tensor restrict writable, as ember-attention-to-calls
    does; it runs at the same place, after destination passing.

    ```mlir
    %g = ember.embedding_backward %grad, %idx : tensor<16x128x256xf32>, tensor<16x128xi64> -> tensor<64x256xf32>
    // becomes
    %out = memref.alloc() : memref<64x256xf32>
    linalg.fill ins(%zero : f32) outs(%out : memref<64x256xf32>)
    scf.for %i = %c0 to %c2048 step %c1 {
      %row = ... memref.load %idx_buffer[%i] ...
      scf.if %inside { scf.for %d ... { out[row, d] += grad[i, d] } }
    }
    %g = bufferization.to_tensor %out restrict writable : memref<64x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect"];
}

def EmberCollectivesToCalls : Pass<"ember-collectives-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower ember.all_reduce to a call of the runtime's all-reduce (MPI through ember::distributed)";
  let description = [{
    Note [Collectives in compiled code]: a compiled data-parallel training
    step all-reduces its gradients inside the step. ember.all_reduce (which
    the dialect marks as writing memory, so no pass removes, reorders or
    fuses it) becomes a call on the operand's buffer, flattened, and a fresh
    result buffer, after destination passing as attention's calls are; the
    runtime hands it to the kernel ember::distributed installed. float32 and
    float64 only; other dtypes are a compile error (the jit runs them eagerly).

    ```mlir
    %r = ember.all_reduce %g {op = 1 : i64} : tensor<4x3xf32> -> tensor<4x3xf32>
    // becomes
    %in = bufferization.to_memref (tensor.collapse_shape %g) read_only : memref<12xf32>
    %out = memref.alloc() : memref<12xf32>
    call @ember_all_reduce_f32(%in, %out, %c1)   // strided memref casts omitted
    %r = tensor.expand_shape (bufferization.to_tensor %out restrict writable)
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def EmberAttentionToCalls : Pass<"ember-attention-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower ember.attention and its gradient to calls of the runtime's tiled attention kernel";
  let description = [{
    Each operand goes to its buffer (bufferization.to_memref, read_only),
    each result is a fresh buffer (memref.alloc, then to_tensor restrict
    writable), and the call takes them as strided descriptors (MLIR's C
    interface), brought to 4-D; a bool mask becomes an additive one, no mask
    a [1, 1, 1, 1] zero. Why a call and not loops: Attention.cpp. It runs
    after destination passing, so that the twin computing only the checks
    (Note [Checks before in-place writes]) has dropped the attention ops it
    does not need while they were still pure ops: a call is never dead code,
    and a GPT training step ran its whole forward twice.

    ```mlir
    %o, %l = ember.attention %q, %k, %v {is_causal = true, scale = 1.250000e-01 : f64}
        : tensor<16x4x128x64xf32>, ... -> tensor<16x4x128x64xf32>, tensor<16x4x128xf32>
    // becomes
    %ob = memref.alloc() : memref<16x4x128x64xf32>
    call @ember_attention_f32(%qb, %kb, %vb, %zero_mask, %ob, %lb, %scale, %flags) : (memref<?x?x?x?xf32, strided<...>>, ...) -> ()
    %o = bufferization.to_tensor %ob restrict writable : memref<16x4x128x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::func::FuncDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect"];
}

def EmberRecurrentToCalls : Pass<"ember-recurrent-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower ember.lstm, ember.gru and their gradients to calls of the runtime's whole-sequence kernels";
  let description = [{
    As ember-attention-to-calls: operands go to their buffers (read_only),
    results are fresh buffers allocated at x's sizes (`?` T and B read from
    x at run time), and the call takes strided descriptors; a missing
    initial state is a [1, 1] zero placeholder and `flags` says which
    optional operands are real. The time loop is in the kernel (Note [Fused
    LSTM], Note [Fused GRU]), so one call serves every sequence length. ember.gru
    and its gradient lower alike (kernels ember_gru_f32, ember_gru_backward_f32,
    ...; one state, h0). It runs after
    destination passing for the reason attention's does.

    ```mlir
    %out, %cells = ember.lstm %x, %wih, %whh, %bih, %bhh
        : tensor<?x64x32xf32>, ... -> tensor<?x64x128xf32>, tensor<?x64x128xf32>
    // becomes
    %t = tensor.dim %x, %c0 : tensor<?x64x32xf32>
    %ob = memref.alloc(%t) : memref<?x64x128xf32>
    call @ember_lstm_f32(%xb, ..., %ob, %cb, %flags) : (memref<?x?x?xf32, strided<...>>, ...) -> ()
    %out = bufferization.to_tensor %ob restrict writable : memref<?x64x128xf32>
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::linalg::LinalgDialect"];
}

def EmberFuseElementwise : Pass<"ember-fuse-elementwise", "::mlir::ModuleOp"> {
  let summary = "MLIR's elementwise fusion and reshape propagation, with every GEMM kept a named matmul";
  let description = [{
    The patterns of MLIR's --linalg-fuse-elementwise-ops (fusing a producer
    of one use into its consumer, folding tensor reshapes into linalg ops by
    expanding their loops), with a control function that refuses to fuse or
    fold into or out of linalg.matmul, matmul_transpose_a/b and
    batch_matmul. MLIR's pass folds the expand_shape after a matmul over
    [B*T, K] rows (a 3-D `linear`) into the matmul by rewriting it as a
    3-D generic, which ember-matmul-to-blas cannot call BLAS for: a GPT's
    forward became loop nests of fully unrolled vectors, 350 MB of LLVM
    dialect, and its compile grew past 24 GB.

    ```mlir
    %c = linalg.matmul ins(%x2d, %w : tensor<2048x256xf32>, tensor<256x768xf32>) ...
    %e = tensor.expand_shape %c [[0, 1], [2]] : tensor<2048x768xf32> into tensor<16x128x768xf32>
    %y = linalg.generic {parallel} ins(%e, %bias) ...   // + bias
    // stays a named matmul; the bias add keeps its own loop
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect"];
}

def EmberFuseMultiUse : Pass<"ember-fuse-multi-use", "::mlir::ModuleOp"> {
  let summary = "Fuse elementwise producers that have several uses into their elementwise consumers";
  let description = [{
    Runs after MLIR's --linalg-fuse-elementwise-ops, which fuses only
    single-use producers. A producer with other uses is fused into an
    all-parallel consumer that reads its result at the same index, and stays
    a result of the fused op: SGD's momentum update and parameter update
    become one loop writing both.

    ```mlir
    %m2 = linalg.generic {parallel} ins(%m, %g) -> tensor<64xf32>     // m * 0.9 + g
    %p2 = linalg.generic {parallel} ins(%p, %m2) -> tensor<64xf32>    // p - lr * m2
    return %m2, %p2
    // becomes
    %f:2 = linalg.generic {parallel} ins(%m, %g, %p) outs(%e0, %e1)   // yields m2, p2
    return %f#0, %f#1
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def EmberDestinationPassing : Pass<"ember-destination-passing", "::mlir::ModuleOp"> {
  let summary = "Make a function's results buffers its caller passes, or its own arguments";
  let description = [{
    Note [Destination passing]: every result of `function` becomes a memref
    argument appended after the others, written through
    `bufferization.materialize_in_destination`, so that one-shot
    bufferization writes the last loop of each result into the caller's
    buffer. A result marked `ember.in_place = j` (a write-back: new
    parameters, momentum buffers) is instead materialized in argument j
    (Note [In-place write-backs]) and stays a result until
    drop-equivalent-buffer-results; with `in-place=false` the marks are
    dropped first and every result is an out-parameter. Arguments not
    written in place are marked read-only. A function that has checks and
    writes in place gets a twin `<function>_checks` computing only the
    failure counts (Note [Checks before in-place writes]). Both get
    `llvm.emit_c_interface`.

    ```mlir
    func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> { ... return %y }
    // becomes
    func.func @forward(%x: tensor<4xf32>, %out: memref<4xf32>) {
      bufferization.materialize_in_destination %y in restrict writable %out
      return
    }
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"forward\"", "the function whose results to pass">,
    Option<"inPlace", "in-place", "bool", "true", "write ember.in_place results into their arguments">,
  ];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect", "::mlir::memref::MemRefDialect"];
}

def EmberEraseSelfCopies : Pass<"ember-erase-self-copies", "::mlir::ModuleOp"> {
  let summary = "Erase memref.copy ops whose source is their target";
  let description = [{
    One-shot bufferization leaves a copy of an in-place result into its own
    buffer where the materialization already wrote it there: a pass over
    memory for nothing.
  }];
}

#endif  // EMBER_COMPILER_PASSES
