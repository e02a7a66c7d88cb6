// atomic_file.cpp - see atomic_file.h.
#include "ember/serialize/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace ember {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           const std::string& who, const Loc& loc) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    EMBER_CHECK(out.good(), loc, who, ": cannot write ", tmp, ": ", std::strerror(errno));
    write(out);
    out.flush();
    if (!out.good()) {
      std::remove(tmp.c_str());
      throw_error(who + ": writing " + tmp + " failed (disk full?); " + path + " is unchanged", loc);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw_error(who + ": cannot rename " + tmp + " to " + path + ": " + reason, loc);
  }
}

}  // namespace ember
