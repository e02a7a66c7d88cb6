// digits.h - the UCI 8x8 handwritten digits that Debian's python3-sklearn
// ships (1797 images of 64 pixels in 0..16, label in the last column),
// read from the gzip file with zlib.
#pragma once

#include <string>

#include "ember/tensor.h"

namespace ember::data {

inline constexpr const char* kDigitsPath =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

struct Digits {
  Tensor images;  // [N, 64] float32, pixels scaled to [0, 1]
  Tensor labels;  // [N] int64 in 0..9
};

// Reads a digits CSV (gzip or plain). A missing file, a malformed line or a
// value out of range is an ember::Error naming the file and the line.
Digits load_digits(const std::string& path = kDigitsPath);

}  // namespace ember::data
