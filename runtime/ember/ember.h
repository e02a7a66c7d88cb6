// ember.h - everything a user of the eager runtime needs.
//
//   #include <ember/ember.h>
//   using namespace ember;
//
//   manual_seed(0);
//   Tensor x = randn({64, 10});
//   Tensor w = (randn({10, 1}) * 0.1).requires_grad_();
//   Tensor y = x.matmul(w).tanh();          // runs at once, records history
//   Tensor loss = (y - 1).pow(2).mean();
//   loss.backward();                        // w.grad() is d loss / d w
//   {
//     NoGradGuard no_grad;                  // the update is not recorded
//     w.sub_(w.grad() * 0.1);
//   }
//   std::cout << loss << "\n";              // tensor(0.8123, shape=[], dtype=float32,
//   grad_fn=<mean_backward>)
//
// Bad arguments throw ember::Error naming the op, the shapes/dtypes and the
// caller's file:line. The op table (ops.def) lists every op.
#pragma once

#include "ember/allocator.h"
#include "ember/autograd/anomaly.h"
#include "ember/autograd/function.h"
#include "ember/autograd/gradcheck.h"
#include "ember/dtype.h"
#include "ember/error.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"
#include "ember/random.h"
#include "ember/tensor.h"
// nn, optimizers, data and weights.
#include "ember/data/dataset.h"
#include "ember/data/digits.h"
#include "ember/data/words.h"
#include "ember/nn/attention.h"
#include "ember/nn/debug.h"
#include "ember/nn/init.h"
#include "ember/nn/layers.h"
#include "ember/nn/loss.h"
#include "ember/nn/module.h"
#include "ember/nn/rnn.h"
#include "ember/optim/optimizer.h"
#include "ember/serialize/safetensors.h"
