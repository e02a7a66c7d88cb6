// atomic_file.h - write a file through a temporary and a rename, so that a
// failure half-way (disk full, a crash) leaves the old file as it was.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "ember/error.h"

namespace ember {

// Calls `write` on a stream to `path`.tmp.<pid>.<n>, syncs it to disk, then
// renames it to `path`: a process killed at any point (kill -9) leaves
// `path` as it was or as written, never half-written.
// `who` names the caller in errors ("save_safetensors", "export_graph").
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           const std::string& who, const Loc& loc = Loc::current());

}  // namespace ember
