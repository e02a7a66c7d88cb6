// error.h - ember::Error and the checks every public entry point makes.
//
// Every message names the op, the shapes/dtypes involved and the caller's
// file:line, e.g.
//   matmul: shapes [128, 784] and [512, 10] cannot be multiplied (model.cpp:42)
// Public ops take a defaulted `Loc loc = Loc::current()` so that the location
// is the user's line, not ember's.
#pragma once

#include <source_location>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ember {

using Loc = std::source_location;

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request no machine can serve: a shape whose element count overflows
// int64, more bytes than the machine has, an allocation the system refuses.
// Thrown where the tensor is made, which knows the shape but not the op;
// dispatch adds the op's name and the caller's line (`located`).
class ResourceError : public Error {
 public:
  explicit ResourceError(const std::string& what, bool located = false) : Error(what), located(located) {}
  bool located;
};

// "file.cpp:42": the basename keeps messages short and stable across machines.
std::string format_loc(const Loc& loc);

[[noreturn]] void throw_error(const std::string& message, const Loc& loc);

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

// EMBER_CHECK(cond, loc, "matmul: shapes ", a, " and ", b, " cannot be multiplied")
// The message parts are only formatted when the check fails.
#define EMBER_CHECK(cond, loc, ...)                                    \
  do {                                                                 \
    if (!(cond)) [[unlikely]]                                          \
      ::ember::throw_error(::ember::detail::concat(__VA_ARGS__), loc); \
  } while (0)

}  // namespace ember
