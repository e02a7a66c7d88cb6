// version.h - ember's version (the project() version in CMakeLists.txt),
// written into exports so that a loader can refuse files of another version.
#pragma once

namespace ember {
inline constexpr const char* kVersion = EMBER_VERSION;
}  // namespace ember
