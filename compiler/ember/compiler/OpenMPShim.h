// OpenMPShim.h - the OpenMP runtime entry points LLVM's OpenMP lowering
// calls (libomp's __kmpc_* ABI), implemented on libgomp, the runtime that
// ember's kernels and OpenBLAS already use: one thread pool in the process.
// The JIT resolves __kmpc_* to these (Pipeline.cpp); exports are compiled
// without OpenMP and need none of them.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ember::compiler {

// The (name, address) of each entry point, for the JIT's symbol table.
std::vector<std::pair<std::string, void*>> openmp_shim_symbols();

}  // namespace ember::compiler
