// grad_mode.h - whether ops record autograd history on this thread.
#pragma once

namespace ember {

// Out of line, one flag in libember_runtime: an inline thread_local in this
// header was one flag per shared object that hides its symbols (the Python
// module, built with -fvisibility=hidden, turned no_grad on in its own copy
// while the runtime kept recording).
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// Scope in which ops record no history (inference, optimizer updates).
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

}  // namespace ember
