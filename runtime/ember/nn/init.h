// init.h - parameter initialization, in place and unrecorded, like torch.nn.init.
//
// Layers use PyTorch's default initializations (see layers.cpp), so a model
// starts from the same distribution as its PyTorch twin.
#pragma once

#include <string>

#include "ember/tensor.h"

namespace ember::nn::init {

enum class FanMode { FanIn, FanOut };

// The gain torch.nn.init.calculate_gain gives: "linear", "sigmoid", "tanh",
// "relu", "leaky_relu" (with slope `param`).
double calculate_gain(const std::string& nonlinearity, double param = 0.01);
// fan_in, fan_out of a weight: [out, in] or [out, in, k...].
std::pair<int64_t, int64_t> fans(const Tensor& weight);

void uniform_(Tensor& t, double low, double high);
void normal_(Tensor& t, double mean = 0.0, double std = 1.0);
void constant_(Tensor& t, double value);
void zeros_(Tensor& t);
void ones_(Tensor& t);
void kaiming_uniform_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                      const std::string& nonlinearity = "leaky_relu");
void kaiming_normal_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                     const std::string& nonlinearity = "leaky_relu");
void xavier_uniform_(Tensor& t, double gain = 1.0);
void xavier_normal_(Tensor& t, double gain = 1.0);

}  // namespace ember::nn::init
