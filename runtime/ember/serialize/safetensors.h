// safetensors.h - tensors and module weights in the safetensors format:
// an 8-byte little-endian header length, a JSON header giving each tensor's
// dtype, shape and byte offsets, then the raw data. Other safetensors readers
// (the Python package, numpy by hand) read what ember writes.
//
//   nn::save(*model, "mlp.safetensors");
//   nn::load(*model, "mlp.safetensors");   // checks every name, shape and dtype
//
// Writes go to a temporary file that is renamed into place, so a crash never
// leaves a half-written file under the real name.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ember/nn/module.h"

namespace ember {

void save_safetensors(const nn::NamedTensors& tensors, const std::string& path,
                      const std::map<std::string, std::string>& metadata = {},
                      const Loc& loc = Loc::current());
// Every tensor of the file, in header order. A corrupt or truncated file is
// an ember::Error naming the file and what is wrong with it.
nn::NamedTensors load_safetensors(const std::string& path, const Loc& loc = Loc::current());
// The same from the file's bytes; `name` names them in errors.
nn::NamedTensors parse_safetensors(std::string_view bytes, const std::string& name,
                                   const Loc& loc = Loc::current());

}  // namespace ember

namespace ember::nn {

// The module's parameters and buffers (Module::state()).
void save(const Module& module, const std::string& path, const Loc& loc = Loc::current());
// Copies the file's tensors into the module's parameters and buffers in
// place. Every entry is checked first: a missing, unexpected, mismatched or
// truncated entry is an error and the module is left unchanged.
void load(Module& module, const std::string& path, const Loc& loc = Loc::current());

}  // namespace ember::nn
