// LLVMOptimize.h - LLVM's -O3 for compiled graphs, loop nests as functions.
#pragma once

#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

namespace ember::compiler {

// Note [Loops as functions]
// A compiled graph is one function of many loop nests (a GPT training step:
// a few hundred). LLVM's IndVarSimplify asks, for each loop, which
// conditions guard its entry by walking back through every block before it
// (ScalarEvolution::isBasicBlockEntryGuardedByCond): quadratic in the
// function's length. It took 4.2 of the 5 s that -O3 spent on the GPT
// step. So each top-level loop nest first becomes its own function
// (LLVM's loop extractor), marked noinline so the inliner does not undo
// it: -O3 then took 0.55 s, and grows linearly with the model's depth. A
// call per loop nest costs nanoseconds against loops of thousands of
// iterations; constants stay constants inside the extracted loop.
//
// Note [No loop unrolling]
// Loops reach LLVM already vectorized at the vector width (MLIR's affine
// vectorizer and row fusion), often with constant trip counts: LLVM's full
// unroll then copied, e.g., a bias gradient's 64-vector inner loop 64 times
// (8,000 instructions for one loop), and machine scheduling of such blocks
// was most of the GPT training step's compile (3.4 s of -O3 and machine
// code). Without LLVM's unrolling it is 1.45 s; the mlp_train, ew_chain,
// norm_softmax and GPT steps run at the same speed within noise (AMD Zen 5,
// ember-bench, 1 thread). The loop vectorizer still interleaves.
llvm::Error optimize_llvm_module(llvm::Module& module, llvm::TargetMachine& machine);

}  // namespace ember::compiler
