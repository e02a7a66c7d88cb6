//===- EmberOps.td - ember dialect ops ---------------------*- tablegen -*-===//
//
// One op per row of the op schema (runtime/ember/ops.yaml), defined in the
// generated EmberOpsGen.td by tools/opgen, plus ember.constant for the
// constants of a trace and the compiler's ember.check. Every schema op's
// result types come from the runtime's shape rules (meta.h, Note [One set of
// shape rules]): inferReturnTypes hands its operand types and attributes to
// ir::infer_result_types, and InferTypeOpInterface's verifier checks the
// written result types against them. A GoogleTest walks the op table and
// fails for any row without an op here (tests/ir/dialect_test.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef EMBER_OPS
#define EMBER_OPS

include "ember/ir/EmberDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// An op of the schema: `kOpId` and `op_attrs` (the attributes as the runtime
// holds them) come from its generated def.
class Ember_Op<string mnemonic, list<Trait> traits = [Pure]>
    : Op<Ember_Dialect, mnemonic, !listconcat(traits, [InferTypeOpAdaptor])> {
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location> location, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::ember::ir::infer_result_types(kOpId, context, location, adaptor.getOperands(),
                                             [&] { return op_attrs(adaptor); }, types);
    }
  }];
}

include "ember/EmberOpsGen.td"

//===----------------------------------------------------------------------===//
// Constants and compiler-internal ops (not rows of the schema)
//===----------------------------------------------------------------------===//

def Ember_ConstantOp : Op<Ember_Dialect, "constant", [Pure, ConstantLike, InferTypeOpAdaptor]> {
  let summary = "a constant tensor (a C++ number of the eager program, or a baked tensor)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location> location, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::ember::ir::infer_constant_type(location, adaptor.getValue(), types);
    }
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasVerifier = 1;
  // ConstantLike requires a folder: pattern drivers find a constant's value
  // through it, and without one they took two different constants for equal.
  let hasFolder = 1;
}

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
