// atomic_file.cpp - see atomic_file.h.
#include "ember/serialize/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace ember {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           const std::string& who, const Loc& loc) {
  // One temporary per call: two threads saving the same path never share one.
  static std::atomic<uint64_t> calls{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(calls++);
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
  // On disk before it takes the name: after a power cut the file is the old
  // one or the new one, never a new name over unwritten blocks.
  if (const int fd = ::open(tmp.c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw_error(who + ": cannot rename " + tmp + " to " + path + ": " + reason, loc);
  }
}

}  // namespace ember
