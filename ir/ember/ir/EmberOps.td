//===- EmberOps.td - ember dialect ops ---------------------*- tablegen -*-===//
//
// One op per row of runtime/ember/ops.def, plus ember.constant for the
// constants of a trace. Ops are declared by family (a TableGen class per
// OpKind); each family's result type comes from one C++ rule in
// TypeInference.cpp, and InferTypeOpInterface's verifier checks that the
// written result types agree with it. A GoogleTest walks the op table and
// fails for any row without an op here (tests/ir/dialect_test.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef EMBER_OPS
#define EMBER_OPS

include "ember/ir/EmberDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// An op whose result types are inferred by `rule`, a C++ expression over
// `adaptor` (the op's operands and attributes) that fills `types`.
class Ember_Op<string mnemonic, string rule, list<Trait> traits = [Pure]>
    : Op<Ember_Dialect, mnemonic, !listconcat(traits, [InferTypeOpAdaptor])> {
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location> location, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      ::ember::ir::Inference infer(context, location, getOperationName());
      return }] # rule # [{;
    }
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// `domain`: "float" (integers compute in f32, as the eager kernel does),
// "numeric" (any but i1) or "any".
class Ember_UnaryOp<string mnemonic, string what, string domain>
    : Ember_Op<mnemonic, "infer.unary(adaptor.getX().getType(), \"" # domain # "\", types)"> {
  let summary = what;
  let description = "Elementwise `" # mnemonic # "` of one ranked tensor; the result has the operand's shape.";
  let arguments = (ins AnyRankedTensor:$x);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

def Ember_NegOp : Ember_UnaryOp<"neg", "negation", "numeric">;
def Ember_ExpOp : Ember_UnaryOp<"exp", "e to the x", "float">;
def Ember_LogOp : Ember_UnaryOp<"log", "natural logarithm", "float">;
def Ember_SqrtOp : Ember_UnaryOp<"sqrt", "square root", "float">;
def Ember_RsqrtOp : Ember_UnaryOp<"rsqrt", "reciprocal square root", "float">;
def Ember_AbsOp : Ember_UnaryOp<"abs", "absolute value", "numeric">;
def Ember_SignOp : Ember_UnaryOp<"sign", "sign (-1, 0, 1)", "numeric">;
def Ember_SinOp : Ember_UnaryOp<"sin", "sine", "float">;
def Ember_CosOp : Ember_UnaryOp<"cos", "cosine", "float">;
def Ember_TanhOp : Ember_UnaryOp<"tanh", "hyperbolic tangent", "float">;
def Ember_SigmoidOp : Ember_UnaryOp<"sigmoid", "logistic sigmoid", "float">;
def Ember_ReluOp : Ember_UnaryOp<"relu", "max(x, 0), keeping NaN", "numeric">;
def Ember_GeluOp : Ember_UnaryOp<"gelu", "GELU, exact (erf) form", "float">;
def Ember_SiluOp : Ember_UnaryOp<"silu", "x * sigmoid(x)", "float">;
def Ember_ErfOp : Ember_UnaryOp<"erf", "error function", "float">;

def Ember_ClampOp : Ember_Op<"clamp", "infer.unary(adaptor.getX().getType(), \"numeric\", types)"> {
  let summary = "clamps into [min, max]; either bound may be absent";
  let arguments = (ins AnyRankedTensor:$x, OptionalAttr<F64Attr>:$min, OptionalAttr<F64Attr>:$max);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_CopyOp : Ember_Op<"copy", "infer.cast(adaptor.getX().getType(), adaptor.getElementType(), types)"> {
  let summary = "a copy converted to `element_type` (to(), clone(), contiguous(), copy_)";
  let arguments = (ins AnyRankedTensor:$x, TypeAttr:$element_type);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

def Ember_FullLikeOp : Ember_Op<"full_like", "infer.unary(adaptor.getX().getType(), \"any\", types)"> {
  let summary = "a tensor like x, every element `value` (fill_, zero_)";
  let arguments = (ins AnyRankedTensor:$x, F64Attr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

// `rule`: "arith" (promoted type), "div" (integers divide in f32) or "compare" (i1).
class Ember_BinaryOp<string mnemonic, string what, string rule>
    : Ember_Op<mnemonic, "infer.binary(adaptor.getLhs().getType(), adaptor.getRhs().getType(), \"" # rule # "\", types)"> {
  let summary = what;
  let description = "Elementwise `" # mnemonic # "` with NumPy broadcasting and PyTorch's type promotion.";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
}

def Ember_AddOp : Ember_BinaryOp<"add", "addition", "arith">;
def Ember_SubOp : Ember_BinaryOp<"sub", "subtraction", "arith">;
def Ember_MulOp : Ember_BinaryOp<"mul", "multiplication", "arith">;
def Ember_DivOp : Ember_BinaryOp<"div", "true division", "div">;
def Ember_PowOp : Ember_BinaryOp<"pow", "lhs to the power rhs", "arith">;
def Ember_MaximumOp : Ember_BinaryOp<"maximum", "elementwise maximum, NaN propagating", "arith">;
def Ember_MinimumOp : Ember_BinaryOp<"minimum", "elementwise minimum, NaN propagating", "arith">;
def Ember_EqOp : Ember_BinaryOp<"eq", "lhs == rhs", "compare">;
def Ember_NeOp : Ember_BinaryOp<"ne", "lhs != rhs", "compare">;
def Ember_LtOp : Ember_BinaryOp<"lt", "lhs < rhs", "compare">;
def Ember_LeOp : Ember_BinaryOp<"le", "lhs <= rhs", "compare">;
def Ember_GtOp : Ember_BinaryOp<"gt", "lhs > rhs", "compare">;
def Ember_GeOp : Ember_BinaryOp<"ge", "lhs >= rhs", "compare">;

def Ember_WhereOp : Ember_Op<"where", "infer.where(adaptor.getCond().getType(), adaptor.getA().getType(), adaptor.getB().getType(), types)"> {
  let summary = "cond ? a : b, broadcast";
  let arguments = (ins AnyRankedTensor:$cond, AnyRankedTensor:$a, AnyRankedTensor:$b);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$cond `,` $a `,` $b attr-dict `:` type($cond) `,` type($a) `,` type($b) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

// `dims` empty reduces every dim.
class Ember_ReduceOp<string mnemonic, string what, string rule, dag extra = (ins)>
    : Ember_Op<mnemonic, "infer.reduce(adaptor.getX().getType(), adaptor.getDims(), adaptor.getKeepdim(), \"" # rule # "\", types)"> {
  let summary = what;
  let arguments = !con((ins AnyRankedTensor:$x, DenseI64ArrayAttr:$dims, BoolAttr:$keepdim), extra);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

def Ember_SumOp : Ember_ReduceOp<"sum", "sum over dims (integers sum in i64)", "sum">;
def Ember_MeanOp : Ember_ReduceOp<"mean", "mean over dims", "float">;
def Ember_VarOp : Ember_ReduceOp<"var", "variance over dims, divided by count - correction", "float", (ins I64Attr:$correction)>;
def Ember_LogsumexpOp : Ember_ReduceOp<"logsumexp", "log of the sum of exp over dims", "float">;
def Ember_AmaxOp : Ember_ReduceOp<"amax", "maximum over dims", "same">;
def Ember_AminOp : Ember_ReduceOp<"amin", "minimum over dims", "same">;

class Ember_IndexReduceOp<string mnemonic, string what, bit values>
    : Ember_Op<mnemonic, "infer.index_reduce(adaptor.getX().getType(), adaptor.getDim(), adaptor.getKeepdim(), " # !if(values, "true", "false") # ", types)"> {
  let summary = what;
  let arguments = (ins AnyRankedTensor:$x, I64Attr:$dim, BoolAttr:$keepdim);
  let results = !if(values, (outs AnyRankedTensor:$values, AnyRankedTensor:$indices), (outs AnyRankedTensor:$indices));
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type(results)";
}

def Ember_MaxDimOp : Ember_IndexReduceOp<"max_dim", "maximum along dim, with its i64 index", 1>;
def Ember_MinDimOp : Ember_IndexReduceOp<"min_dim", "minimum along dim, with its i64 index", 1>;
def Ember_ArgmaxOp : Ember_IndexReduceOp<"argmax", "i64 index of the maximum along dim", 0>;
def Ember_ArgminOp : Ember_IndexReduceOp<"argmin", "i64 index of the minimum along dim", 0>;

def Ember_MatmulOp : Ember_Op<"matmul", "infer.matmul(adaptor.getLhs().getType(), adaptor.getRhs().getType(), types)"> {
  let summary = "matrix product: 1-D, 2-D and batched with broadcasting";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Views (value semantics here: a view is a new tensor)
//===----------------------------------------------------------------------===//

class Ember_ViewLikeOp<string mnemonic, string what, string rule, dag attrs>
    : Ember_Op<mnemonic, rule> {
  let summary = what;
  let arguments = !con((ins AnyRankedTensor:$x), attrs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

def Ember_ViewOp : Ember_ViewLikeOp<"view", "the same elements in another shape",
    "infer.view(adaptor.getX().getType(), adaptor.getShape(), types)", (ins DenseI64ArrayAttr:$shape)>;
def Ember_PermuteOp : Ember_ViewLikeOp<"permute", "dims reordered",
    "infer.permute(adaptor.getX().getType(), adaptor.getDims(), types)", (ins DenseI64ArrayAttr:$dims)>;
def Ember_SliceOp : Ember_ViewLikeOp<"slice", "elements start, start+step, ... < end along dim",
    "infer.slice(adaptor.getX().getType(), adaptor.getDim(), adaptor.getStart(), adaptor.getEnd(), adaptor.getStep(), types)",
    (ins I64Attr:$dim, I64Attr:$start, I64Attr:$end, I64Attr:$step)>;
def Ember_SelectOp : Ember_ViewLikeOp<"select", "the slice at index along dim, without that dim",
    "infer.select(adaptor.getX().getType(), adaptor.getDim(), adaptor.getIndex(), types)",
    (ins I64Attr:$dim, I64Attr:$index)>;
def Ember_ExpandOp : Ember_ViewLikeOp<"expand", "size-1 dims broadcast to shape (-1 keeps a size)",
    "infer.expand(adaptor.getX().getType(), adaptor.getShape(), types)", (ins DenseI64ArrayAttr:$shape)>;
def Ember_SqueezeOp : Ember_ViewLikeOp<"squeeze", "size-1 dims removed (the listed ones, or all)",
    "infer.squeeze(adaptor.getX().getType(), adaptor.getDims(), types)", (ins DenseI64ArrayAttr:$dims)>;
def Ember_UnsqueezeOp : Ember_ViewLikeOp<"unsqueeze", "a size-1 dim inserted at dim",
    "infer.unsqueeze(adaptor.getX().getType(), adaptor.getDim(), types)", (ins I64Attr:$dim)>;
def Ember_SliceBackwardOp : Ember_ViewLikeOp<"slice_backward", "zeros of input_shape with x written into the slice",
    "infer.scatter(adaptor.getX().getType(), adaptor.getInputShape(), types)",
    (ins DenseI64ArrayAttr:$input_shape, I64Attr:$dim, I64Attr:$start, I64Attr:$end, I64Attr:$step)>;
def Ember_SelectBackwardOp : Ember_ViewLikeOp<"select_backward", "zeros of input_shape with x written at index",
    "infer.scatter(adaptor.getX().getType(), adaptor.getInputShape(), types)",
    (ins DenseI64ArrayAttr:$input_shape, I64Attr:$dim, I64Attr:$index)>;

//===----------------------------------------------------------------------===//
// Neural-network primitives
//===----------------------------------------------------------------------===//

def Ember_SoftmaxOp : Ember_ViewLikeOp<"softmax", "softmax along dim",
    "infer.along(adaptor.getX().getType(), adaptor.getDim(), types)", (ins I64Attr:$dim)>;
def Ember_LogSoftmaxOp : Ember_ViewLikeOp<"log_softmax", "log of softmax along dim",
    "infer.along(adaptor.getX().getType(), adaptor.getDim(), types)", (ins I64Attr:$dim)>;

def Ember_LayerNormOp : Ember_Op<"layer_norm", "infer.layer_norm(adaptor.getInputs().getTypes(), adaptor.getNormalizedDims(), types)"> {
  let summary = "normalizes the last normalized_dims dims; operands x[, weight[, bias]]";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$normalized_dims, F64Attr:$eps);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
}

class Ember_LossOp<string mnemonic, string what>
    : Ember_Op<mnemonic, "infer.loss(adaptor.getInput().getType(), adaptor.getTargets().getType(), adaptor.getReduction(), types)"> {
  let summary = what;
  let description = "input [N, C], integer targets [N]; reduction 0 none, 1 mean (over rows whose target is not ignore_index), 2 sum.";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$targets, I64Attr:$reduction, I64Attr:$ignore_index);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `,` $targets attr-dict `:` type($input) `,` type($targets) `->` type($result)";
}
def Ember_CrossEntropyOp : Ember_LossOp<"cross_entropy", "cross-entropy of logits against class indices">;
def Ember_NllLossOp : Ember_LossOp<"nll_loss", "negative log-likelihood of log-probabilities">;

def Ember_EmbeddingOp : Ember_Op<"embedding", "infer.embedding(adaptor.getWeight().getType(), adaptor.getIndices().getType(), types)"> {
  let summary = "rows of weight [V, D] at integer indices";
  let arguments = (ins AnyRankedTensor:$weight, AnyRankedTensor:$indices);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$weight `,` $indices attr-dict `:` type($weight) `,` type($indices) `->` type($result)";
}

def Ember_EmbeddingBackwardOp : Ember_Op<"embedding_backward", "infer.embedding_backward(adaptor.getGrad().getType(), adaptor.getNumWeights(), types)"> {
  let summary = "the gradient of embedding: grad rows summed into [num_weights, D]";
  let arguments = (ins AnyRankedTensor:$grad, AnyRankedTensor:$indices, I64Attr:$num_weights);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$grad `,` $indices attr-dict `:` type($grad) `,` type($indices) `->` type($result)";
}

def Ember_CatOp : Ember_Op<"cat", "infer.cat(adaptor.getInputs().getTypes(), adaptor.getDim(), types)"> {
  let summary = "concatenation along dim";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$dim);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
}

// geometry = [stride h, stride w, padding h, padding w, dilation h, dilation w]
def Ember_Conv2dOp : Ember_Op<"conv2d", "infer.conv2d(adaptor.getInputs().getTypes(), adaptor.getGeometry(), types)"> {
  let summary = "2-D convolution; operands x [N, C, H, W], weight [O, C, kh, kw][, bias [O]]";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, DenseI64ArrayAttr:$geometry);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
}
def Ember_Conv2dBackwardInputOp : Ember_Op<"conv2d_backward_input", "infer.shaped_like(adaptor.getGrad().getType(), adaptor.getResultShape(), types)"> {
  let summary = "the gradient of conv2d w.r.t. its input";
  let arguments = (ins AnyRankedTensor:$grad, AnyRankedTensor:$weight, DenseI64ArrayAttr:$geometry, DenseI64ArrayAttr:$result_shape);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$grad `,` $weight attr-dict `:` type($grad) `,` type($weight) `->` type($result)";
}
def Ember_Conv2dBackwardWeightOp : Ember_Op<"conv2d_backward_weight", "infer.shaped_like(adaptor.getGrad().getType(), adaptor.getResultShape(), types)"> {
  let summary = "the gradient of conv2d w.r.t. its weight";
  let arguments = (ins AnyRankedTensor:$grad, AnyRankedTensor:$x, DenseI64ArrayAttr:$geometry, DenseI64ArrayAttr:$result_shape);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$grad `,` $x attr-dict `:` type($grad) `,` type($x) `->` type($result)";
}

// geometry = [kernel h, kernel w, stride h, stride w, padding h, padding w]
class Ember_PoolOp<string mnemonic, string what>
    : Ember_Op<mnemonic, "infer.pool(adaptor.getX().getType(), adaptor.getGeometry(), types)"> {
  let summary = what;
  let arguments = (ins AnyRankedTensor:$x, DenseI64ArrayAttr:$geometry);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}
def Ember_MaxPool2dOp : Ember_PoolOp<"max_pool2d", "2-D max pooling">;
def Ember_AvgPool2dOp : Ember_PoolOp<"avg_pool2d", "2-D average pooling (padding counts)">;
def Ember_MaxPool2dBackwardOp : Ember_Op<"max_pool2d_backward", "infer.shaped_like(adaptor.getGrad().getType(), ::mlir::cast<::mlir::RankedTensorType>(adaptor.getX().getType()).getShape(), types)"> {
  let summary = "the gradient of max_pool2d";
  let arguments = (ins AnyRankedTensor:$grad, AnyRankedTensor:$x, DenseI64ArrayAttr:$geometry);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$grad `,` $x attr-dict `:` type($grad) `,` type($x) `->` type($result)";
}
def Ember_AvgPool2dBackwardOp : Ember_Op<"avg_pool2d_backward", "infer.shaped_like(adaptor.getGrad().getType(), adaptor.getResultShape(), types)"> {
  let summary = "the gradient of avg_pool2d";
  let arguments = (ins AnyRankedTensor:$grad, DenseI64ArrayAttr:$geometry, DenseI64ArrayAttr:$result_shape);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Creation and constants
//===----------------------------------------------------------------------===//

class Ember_CreationOp<string mnemonic, string what, dag extra, list<Trait> traits = [Pure]>
    : Ember_Op<mnemonic, "infer.create(adaptor.getShape(), adaptor.getElementType(), types)", traits> {
  let summary = what;
  let arguments = !con((ins DenseI64ArrayAttr:$shape, TypeAttr:$element_type), extra);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}
def Ember_FullOp : Ember_CreationOp<"full", "every element `value`", (ins F64Attr:$value)>;
def Ember_ArangeOp : Ember_CreationOp<"arange", "start, start + step, ...", (ins F64Attr:$start, F64Attr:$step)>;
def Ember_LinspaceOp : Ember_CreationOp<"linspace", "evenly spaced from start to end", (ins F64Attr:$start, F64Attr:$end)>;
def Ember_EyeOp : Ember_CreationOp<"eye", "ones on the diagonal", (ins)>;
// Random draws have an effect: the global generator advances.
def Ember_RandOp : Ember_CreationOp<"rand", "uniform in [0, 1)", (ins), [MemoryEffects<[MemWrite]>]>;
def Ember_RandnOp : Ember_CreationOp<"randn", "standard normal", (ins), [MemoryEffects<[MemWrite]>]>;
def Ember_RandintOp : Ember_CreationOp<"randint", "integers in [low, high)", (ins F64Attr:$low, F64Attr:$high), [MemoryEffects<[MemWrite]>]>;

def Ember_ConstantOp : Ember_Op<"constant", "infer.constant(adaptor.getValue(), types)", [Pure, ConstantLike]> {
  let summary = "a constant tensor (a C++ number of the eager program, or a baked tensor)";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasVerifier = 1;
  // ConstantLike requires a folder: pattern drivers find a constant's value
  // through it, and without one they took two different constants for equal.
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Compiler-internal
//===----------------------------------------------------------------------===//

def Ember_CheckOp : Op<Ember_Dialect, "check", [MemoryEffects<[MemWrite]>]> {
  let summary = "the compiled call fails with `message` unless every element of `ok` is true";
  let description = [{
    Not an op of the op table: ember-decompose makes one where an eager kernel
    checks tensor values (a class index in range), and --ember-lower-checks
    turns each into a count of failing elements that the function returns;
    the runtime raises `message` (with the op's source line) when it is not
    zero, before any write-back, so bad input never becomes a silent wrong
    answer in compiled code.
  }];
  let arguments = (ins TensorOf<[I1]>:$ok, StrAttr:$message);
  let assemblyFormat = "$ok attr-dict `:` type($ok)";
}

#endif  // EMBER_OPS
