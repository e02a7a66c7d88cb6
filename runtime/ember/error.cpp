// error.cpp - formatting of ember::Error messages.
#include "ember/error.h"

#include <cstring>

namespace ember {

std::string format_loc(const Loc& loc) {
  const char* file = loc.file_name();
  if (const char* slash = std::strrchr(file, '/')) file = slash + 1;
  return std::string(file) + ":" + std::to_string(loc.line());
}

void throw_error(const std::string& message, const Loc& loc) {
  throw Error(message + " (" + format_loc(loc) + ")");
}

}  // namespace ember
