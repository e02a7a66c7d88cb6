// anomaly.h - anomaly mode: backward checks every gradient for NaN/Inf.
//
// The error names the forward op whose backward produced the bad value and
// the user's source line that called it:
//   anomaly: the backward of log produced NaN in the gradient of input 0;
//   the forward op was called at model.cpp:42
#pragma once

namespace ember {

// On this thread (like grad mode).
void set_detect_anomaly(bool enabled);
bool is_anomaly_enabled();

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : previous_(is_anomaly_enabled()) { set_detect_anomaly(true); }
  ~DetectAnomalyGuard() { set_detect_anomaly(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ember
