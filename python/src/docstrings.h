// docstrings.h - what help() shows for the hand-written bindings: the call,
// the shapes, an example. (The op table's generated bindings take theirs
// from the schema: python_ops.inc.) test_docstrings.py checks that every
// public function and Tensor member has one with an example.
#pragma once

namespace ember::python::doc {

// --- making tensors ---------------------------------------------------------------
inline constexpr const char* tensor = R"(tensor(data, dtype=None, requires_grad=False) -> Tensor

A new tensor holding a copy of data: nested lists, numbers or a numpy array.
Python floats become float32, ints int64 (as in PyTorch); an array keeps its dtype.

Example::

    >>> ember.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
)";
inline constexpr const char* sized = R"((*size, dtype=None, requires_grad=False) -> Tensor

A new tensor of the given size, taken as PyTorch takes it: f(2, 3) or f((2, 3)).
zeros and ones fill it; rand draws uniformly from [0, 1), randn from the
standard normal (both from ember's generator: ember.manual_seed).

Example::

    >>> ember.zeros(2, 3).shape
    (2, 3)
    >>> ember.randn((4,), dtype=ember.float64).dtype
    ember.float64
)";
inline constexpr const char* full = R"(full(size, fill_value, *, dtype=None, requires_grad=False) -> Tensor

A new tensor of size, every element fill_value (float32 unless dtype says).

Example::

    >>> ember.full((2, 2), 1.5)
)";
inline constexpr const char* arange = R"(arange(start, end=None, step=1, *, dtype=None) -> Tensor

The 1-D tensor start, start + step, ... < end (arange(n) is 0 .. n-1). Ints
give int64, floats float32, unless dtype says.

Example::

    >>> ember.arange(5).tolist()
    [0, 1, 2, 3, 4]
)";
inline constexpr const char* like = R"((input) -> Tensor

A new tensor of input's shape and dtype, filled with zeros (zeros_like) or ones (ones_like).

Example::

    >>> ember.zeros_like(ember.rand(2, 3)).shape
    (2, 3)
)";
inline constexpr const char* from_numpy = R"(from_numpy(array) -> Tensor

A tensor on the array's own memory, no copy (writes on either side are seen
by the other; the array lives as long as the tensor). The array must be
C-contiguous, of float32, float64, int32, int64 or bool.

Example::

    >>> a = numpy.zeros((2, 3), dtype=numpy.float32)
    >>> x = ember.from_numpy(a)
    >>> a[0, 0] = 1; x[0, 0].item()
    1.0
)";
inline constexpr const char* from_dlpack = R"(from_dlpack(tensor) -> Tensor

A tensor on the memory of any object with __dlpack__ (numpy arrays,
PyTorch tensors), no copy.

Example::

    >>> x = ember.from_dlpack(numpy.arange(6.0).reshape(2, 3))
)";
inline constexpr const char* cat = R"(cat(tensors, dim=0) -> Tensor

The tensors joined along dim; their other dims must agree.

Example::

    >>> ember.cat([ember.rand(2, 3), ember.rand(4, 3)]).shape
    (6, 3)
)";
inline constexpr const char* stack = R"(stack(tensors, dim=0) -> Tensor

The tensors (all of one shape) stacked along a new dim.

Example::

    >>> ember.stack([ember.rand(2, 3), ember.rand(2, 3)]).shape
    (2, 2, 3)
)";
inline constexpr const char* manual_seed = R"(manual_seed(seed)

Seeds ember's generator (rand, randn, randint, dropout, layer initialization).

Example::

    >>> ember.manual_seed(0); a = ember.rand(2)
    >>> ember.manual_seed(0); (ember.rand(2) == a).all()
)";
inline constexpr const char* set_num_threads = R"(set_num_threads(n)

The compute threads of ember's kernels and of OpenBLAS together (as
torch.set_num_threads); get_num_threads() reads it.

Example::

    >>> ember.set_num_threads(1); ember.get_num_threads()
    1
)";
inline constexpr const char* get_num_threads = R"(get_num_threads() -> int

The compute threads of ember's kernels and OpenBLAS (ember.set_num_threads).

Example::

    >>> ember.get_num_threads()
)";
inline constexpr const char* is_grad_enabled = R"(is_grad_enabled() -> bool

Whether ops record the graph for backward (False inside ember.no_grad()).

Example::

    >>> with ember.no_grad(): ember.is_grad_enabled()
    False
)";
inline constexpr const char* is_anomaly_enabled = R"(is_anomaly_enabled() -> bool

Whether anomaly mode is on (ember.detect_anomaly()): a NaN or inf in backward
is then an error naming the forward op and the line that called it.

Example::

    >>> with ember.detect_anomaly(): ember.is_anomaly_enabled()
    True
)";

// --- Tensor: what it is --------------------------------------------------------------
inline constexpr const char* shape = R"(The sizes of the dims, as a tuple.

Example::

    >>> ember.rand(2, 3).shape
    (2, 3)
)";
inline constexpr const char* size = R"(size(dim=None) -> tuple or int

The sizes of the dims (a tuple), or the size of one dim.

Example::

    >>> ember.rand(2, 3).size(1)
    3
)";
inline constexpr const char* dtype = R"(The element type: ember.float32, float64, int32, int64 or bool.

Example::

    >>> ember.rand(2).dtype
    ember.float32
)";
inline constexpr const char* ndim = R"(The number of dims (x.dim() as well).

Example::

    >>> ember.rand(2, 3).ndim
    2
)";
inline constexpr const char* numel = R"(numel() -> int

The number of elements: the product of the sizes.

Example::

    >>> ember.rand(2, 3).numel()
    6
)";
inline constexpr const char* is_contiguous = R"(is_contiguous() -> bool

Whether the elements lie in row-major order without gaps (views such as x.t() are not).

Example::

    >>> ember.rand(2, 3).t().is_contiguous()
    False
)";
inline constexpr const char* item = R"(item() -> number

The value of a one-element tensor as a Python bool, int or float.

Example::

    >>> ember.tensor([2.5]).item()
    2.5
)";
inline constexpr const char* tolist = R"(tolist() -> list

The elements as nested Python lists (a number for a 0-d tensor).

Example::

    >>> ember.arange(3).tolist()
    [0, 1, 2]
)";
inline constexpr const char* numpy = R"(numpy() -> numpy.ndarray

A numpy array on the tensor's memory, no copy; it keeps the tensor alive. A
tensor that requires grad must be detached first (x.detach().numpy()).

Example::

    >>> x = ember.zeros(3); a = x.numpy(); a[0] = 1; x[0].item()
    1.0
)";

// --- Tensor: shapes and copies --------------------------------------------------------
inline constexpr const char* reshape = R"(reshape(*shape) -> Tensor

The same elements in another shape (a view when the layout allows, a copy
otherwise); one size may be -1.

Example::

    >>> ember.rand(2, 6).reshape(3, -1).shape
    (3, 4)
)";
inline constexpr const char* view = R"(view(*shape) -> Tensor

The same memory in another shape, no copy; one size may be -1. An error if
the layout does not allow it (use reshape).

Example::

    >>> ember.rand(2, 6).view(4, 3).shape
    (4, 3)
)";
inline constexpr const char* permute = R"(permute(*dims) -> Tensor

A view with the dims reordered: result dim i is dim dims[i].

Example::

    >>> ember.rand(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
)";
inline constexpr const char* transpose = R"(transpose(dim0, dim1) -> Tensor

A view with two dims swapped.

Example::

    >>> ember.rand(2, 3, 4).transpose(0, 2).shape
    (4, 3, 2)
)";
inline constexpr const char* t = R"(t() -> Tensor

A 2-D tensor's transpose, as a view.

Example::

    >>> ember.rand(2, 3).t().shape
    (3, 2)
)";
inline constexpr const char* T =
    R"(The transpose of a 2-D tensor (a tensor of fewer dims as it is), as a view.

Example::

    >>> ember.rand(2, 3).T.shape
    (3, 2)
)";
inline constexpr const char* unsqueeze = R"(unsqueeze(dim) -> Tensor

A view with a size-1 dim inserted at dim.

Example::

    >>> ember.rand(2, 3).unsqueeze(1).shape
    (2, 1, 3)
)";
inline constexpr const char* squeeze = R"(squeeze(dim=None) -> Tensor

A view without size-1 dims (only dim, if given).

Example::

    >>> ember.rand(2, 1, 3).squeeze().shape
    (2, 3)
)";
inline constexpr const char* flatten = R"(flatten(start_dim=0, end_dim=-1) -> Tensor

The dims start_dim..end_dim merged into one.

Example::

    >>> ember.rand(2, 3, 4).flatten(1).shape
    (2, 12)
)";
inline constexpr const char* contiguous = R"(contiguous() -> Tensor

The tensor itself if it is contiguous, else a contiguous copy.

Example::

    >>> ember.rand(2, 3).t().contiguous().is_contiguous()
    True
)";
inline constexpr const char* clone = R"(clone() -> Tensor

A copy with its own memory (gradients flow through it).

Example::

    >>> x = ember.zeros(2); y = x.clone(); y += 1; x.tolist()
    [0.0, 0.0]
)";
inline constexpr const char* to = R"(to(dtype) -> Tensor

The elements converted to dtype (the tensor itself if it has it already).
float(), double() and long() are to(float32), to(float64), to(int64).

Example::

    >>> ember.tensor([1.7, -1.7]).to(ember.int64).tolist()
    [1, -1]
)";
inline constexpr const char* masked_fill = R"(masked_fill(mask, value) -> Tensor

A copy with value where mask (bool, broadcast to this shape) is true.

Example::

    >>> x = ember.zeros(2, 2)
    >>> x.masked_fill(ember.tensor([True, False]), -1.0).tolist()
    [[-1.0, 0.0], [-1.0, 0.0]]
)";
inline constexpr const char* zero_ = R"(zero_() -> Tensor

Sets every element to 0, in place; returns the tensor.

Example::

    >>> ember.ones(3).zero_().tolist()
    [0.0, 0.0, 0.0]
)";
inline constexpr const char* fill_ = R"(fill_(value) -> Tensor

Sets every element to value, in place; returns the tensor.

Example::

    >>> ember.zeros(2).fill_(3).tolist()
    [3.0, 3.0]
)";

// --- Tensor: autograd ------------------------------------------------------------------
inline constexpr const char* requires_grad =
    R"(Whether backward computes a gradient for this tensor (settable on leaves).

Example::

    >>> w = ember.zeros(3); w.requires_grad = True
)";
inline constexpr const char* requires_grad_ = R"(requires_grad_(requires_grad=True) -> Tensor

Sets requires_grad in place; returns the tensor.

Example::

    >>> w = ember.randn(3).requires_grad_()
)";
inline constexpr const char* grad = R"(The gradient backward accumulated into this leaf (None until then);
assignable, e.g. p.grad = None.

Example::

    >>> w = ember.ones(2, requires_grad=True); (w * 3).sum().backward(); w.grad.tolist()
    [3.0, 3.0]
)";
inline constexpr const char* is_leaf =
    R"(Whether the tensor was made by the user rather than by an op that recorded the graph.

Example::

    >>> w = ember.ones(2, requires_grad=True); w.is_leaf, (w * 2).is_leaf
    (True, False)
)";
inline constexpr const char* grad_fn =
    R"(The name of the backward node that made this tensor, or None for a leaf.

Example::

    >>> (ember.ones(2, requires_grad=True) * 2).grad_fn
    'MulBackward'
)";
inline constexpr const char* detach = R"(detach() -> Tensor

The same memory without the graph: no gradient flows through the result.

Example::

    >>> w = ember.ones(2, requires_grad=True); w.detach().requires_grad
    False
)";
inline constexpr const char* backward = R"(backward(gradient=None, retain_graph=False, create_graph=False)

Accumulates the gradient of this tensor (a scalar, or seeded by gradient of
its shape) into the .grad of every leaf that requires grad. create_graph
records the backward itself, for second derivatives.

Example::

    >>> w = ember.ones(2, requires_grad=True); (w * w).sum().backward(); w.grad.tolist()
    [2.0, 2.0]
)";
inline constexpr const char* register_hook = R"(register_hook(hook)

Calls hook(grad) when backward computes this tensor's gradient; a tensor it
returns replaces the gradient.

Example::

    >>> w = ember.ones(2, requires_grad=True)
    >>> w.register_hook(lambda g: g * 10); (w * 1).sum().backward(); w.grad.tolist()
    [10.0, 10.0]
)";

// --- ember.nn.functional -------------------------------------------------------------------
inline constexpr const char* linear = R"(linear(input, weight, bias=None) -> Tensor

input [..., in] @ weight[out, in]^T + bias [out] -> [..., out] (torch.nn.functional.linear).

Example::

    >>> F.linear(ember.rand(8, 4), ember.rand(3, 4), ember.rand(3)).shape
    (8, 3)
)";
inline constexpr const char* activation = R"((input) -> Tensor

The activation, elementwise (relu, gelu (erf form), tanh, sigmoid): the result has input's shape.

Example::

    >>> F.relu(ember.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
)";
inline constexpr const char* softmax = R"((input, dim) -> Tensor

softmax (or log_softmax) along dim; the result has input's shape.

Example::

    >>> F.softmax(ember.rand(2, 5), dim=-1).sum(dim=-1).tolist()
    [1.0, 1.0]
)";
inline constexpr const char* layer_norm =
    R"(layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor

Normalizes over the last len(normalized_shape) dims, then scales by weight and shifts by bias (of that shape).

Example::

    >>> F.layer_norm(ember.rand(8, 16), (16,)).shape
    (8, 16)
)";
inline constexpr const char* dropout = R"(dropout(input, p=0.5, training=True) -> Tensor

Zeroes each element with probability p when training and scales the rest by 1/(1-p); the input itself otherwise.

Example::

    >>> F.dropout(ember.ones(4), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0, 1.0]
)";
inline constexpr const char* conv2d =
    R"(conv2d(input, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)) -> Tensor

input [N, C, H, W], weight [O, C, kh, kw], bias [O] -> [N, O, H', W'] (oneDNN).

Example::

    >>> F.conv2d(ember.rand(2, 3, 8, 8), ember.rand(4, 3, 3, 3), padding=(1, 1)).shape
    (2, 4, 8, 8)
)";
inline constexpr const char* pool2d = R"((input, kernel_size, stride=None, padding=(0, 0)) -> Tensor

Max (max_pool2d) or average (avg_pool2d) over kernel_size windows of input
[N, C, H, W]; stride defaults to the kernel size.

Example::

    >>> F.max_pool2d(ember.rand(1, 2, 4, 4), (2, 2)).shape
    (1, 2, 2, 2)
)";
inline constexpr const char* scaled_dot_product_attention =
    R"(scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False, *, scale=None) -> Tensor

softmax(query key^T * scale + mask) value, tiled (the [T, S] scores are never
stored whole): query [..., T, D], key [..., S, D], value [..., S, Dv] ->
[..., T, Dv]; scale 1/sqrt(D) by default; attn_mask bool (True: may attend) or
float (added).

Example::

    >>> q = ember.rand(2, 4, 16, 8)
    >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
    (2, 4, 16, 8)
)";
inline constexpr const char* lstm =
    R"(lstm(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, hx=None) -> (Tensor, Tensor)

The whole-sequence LSTM with PyTorch's gates (i, f, g, o), one op whose
kernel runs the time loop (compiled, a changing length is a dynamic dim):
input [T, B, I], weight_ih [4H, I], weight_hh [4H, H], biases [4H], hx =
(h0, c0) of [B, H] (zeros when None) -> (h, c) of every step, each
[T, B, H]; the final state is h[-1], c[-1]. nn.LSTM calls it per layer.

Example::

    >>> h, c = F.lstm(ember.rand(5, 2, 3), ember.rand(16, 3), ember.rand(16, 4))
    >>> h.shape, c[-1].shape
    ((5, 2, 4), (2, 4))
)";
inline constexpr const char* gru =
    R"(gru(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, hx=None) -> Tensor

The whole-sequence GRU with PyTorch's gates (r, z, n), one op whose kernel
runs the time loop (compiled, a changing length is a dynamic dim): input
[T, B, I], weight_ih [3H, I], weight_hh [3H, H], biases [3H], hx = h0
[B, H] (zeros when None) -> h of every step [T, B, H]; the final state is
h[-1]. nn.GRU calls it per layer.

Example::

    >>> h = F.gru(ember.rand(5, 2, 3), ember.rand(12, 3), ember.rand(12, 4))
    >>> h.shape, h[-1].shape
    ((5, 2, 4), (2, 4))
)";
inline constexpr const char* embedding = R"(embedding(input, weight) -> Tensor

The rows of weight [V, D] at the integer indices input [...] -> [..., D].

Example::

    >>> F.embedding(ember.tensor([0, 2]), ember.rand(5, 3)).shape
    (2, 3)
)";
inline constexpr const char* cross_entropy =
    R"(cross_entropy(input, target, reduction='mean', ignore_index=-100, label_smoothing=0.0) -> Tensor

Cross-entropy of logits input [N, C] against integer classes target [N];
targets equal to ignore_index count for nothing. reduction: 'mean', 'sum' or 'none'.

Example::

    >>> F.cross_entropy(ember.rand(4, 10), ember.tensor([1, 0, 9, 3])).shape
    ()
)";
inline constexpr const char* nll_loss =
    R"(nll_loss(input, target, reduction='mean', ignore_index=-100) -> Tensor

Negative log-likelihood of log-probabilities input [N, C] at integer classes target [N].

Example::

    >>> F.nll_loss(F.log_softmax(ember.rand(4, 10), dim=1), ember.tensor([1, 0, 9, 3])).shape
    ()
)";
inline constexpr const char* mse_loss = R"(mse_loss(input, target, reduction='mean') -> Tensor

The squared differences of input and target (same shape), averaged, summed or ('none') as they are.

Example::

    >>> F.mse_loss(ember.ones(3), ember.zeros(3)).item()
    1.0
)";

}  // namespace ember::python::doc
