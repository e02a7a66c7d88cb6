"""ember.nn.functional: the C++ ops behind the layers, callable on tensors."""

from .._ember import _functional as _f

linear = _f.linear
relu = _f.relu
gelu = _f.gelu
tanh = _f.tanh
sigmoid = _f.sigmoid
softmax = _f.softmax
log_softmax = _f.log_softmax
layer_norm = _f.layer_norm
dropout = _f.dropout
cross_entropy = _f.cross_entropy
mse_loss = _f.mse_loss
conv2d = _f.conv2d
max_pool2d = _f.max_pool2d
avg_pool2d = _f.avg_pool2d
scaled_dot_product_attention = _f.scaled_dot_product_attention
nll_loss = _f.nll_loss
embedding = _f.embedding
lstm = _f.lstm
gru = _f.gru
