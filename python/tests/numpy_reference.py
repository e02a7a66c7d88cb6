"""float64 numpy references of the ops numpy has no one function for.

The op schema's `python: numpy` expressions (runtime/ember/ops.yaml) call
these as `ref.name(...)`; test_op_sweep.py runs ember against them.
"""

import math

import numpy as np

erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def logsumexp(x, dims, keepdim):
    axes = tuple(dims)
    top = x.max(axis=axes, keepdims=True)
    out = np.log(np.exp(x - top).sum(axis=axes, keepdims=True)) + top
    return out if keepdim else out.squeeze(axes)


def softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax(x, dim):
    return np.log(softmax(x, dim))


def layer_norm(x, normalized_dims, weight, bias, eps):
    axes = tuple(range(x.ndim - normalized_dims, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def nll_loss(log_probs, targets, reduction, ignore_index):
    kept = targets != ignore_index
    losses = -log_probs[np.arange(len(targets)), np.where(kept, targets, 0)] * kept
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / kept.sum()


def cross_entropy(logits, targets, reduction, ignore_index):
    return nll_loss(log_softmax(logits, -1), targets, reduction, ignore_index)


def attention(q, k, v, scale, is_causal):
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        t, s = scores.shape[-2:]
        scores = np.where(np.tril(np.ones((t, s), dtype=bool)), scores, -np.inf)
    return softmax(scores, -1) @ v


def conv2d(x, w, b, geometry):
    """geometry = [stride h, stride w, padding h, padding w, dilation h, dilation w]."""
    sh, sw, ph, pw, dh, dw = geometry
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + b[None, :, None, None]


def pool2d(x, geometry, reduce):
    """geometry = [kernel h, kernel w, stride h, stride w, padding h, padding w]; no padding here."""
    kh, kw, sh, sw, ph, pw = geometry
    assert ph == 0 and pw == 0, "the reference pools without padding"
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(2, 3))
    return out


def lstm(x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None):
    """h and c of every step of PyTorch's LSTM (gates i, f, g, o), one step at a time."""
    hidden = w_hh.shape[1]
    h = np.zeros((x.shape[1], hidden)) if h0 is None else h0
    c = np.zeros((x.shape[1], hidden)) if c0 is None else c0
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    hs, cs = [], []
    for step in x:
        i, f, g, o = np.split(step @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def gru(x, w_ih, w_hh, b_ih, b_hh, h0=None):
    """h of every step of PyTorch's GRU (gates r, z, n), one step at a time."""
    h = np.zeros((x.shape[1], w_hh.shape[1])) if h0 is None else h0
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    hs = []
    for step in x:
        xr, xz, xn = np.split(step @ w_ih.T + b_ih, 3, axis=1)
        hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs)
