"""Every C++ layer as a module of Python models: BatchNorm's state, LSTMCell, pooling, containers."""

import numpy as np

import ember
import ember.nn.functional as F
import numpy_reference as ref
from ember import nn


def test_batch_norm_trains_on_batch_statistics_and_evaluates_on_running_ones():
    bn = nn.BatchNorm2d(3, momentum=0.1)
    x = np.random.default_rng(0).normal(2.0, 3.0, (4, 3, 5, 5)).astype(np.float32)
    out = bn(ember.tensor(x)).detach().numpy()
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
    # Running statistics, updated in the C++ layer's own tensors that the Python module holds:
    state = bn.state_dict()
    assert [n for n in state] == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    np.testing.assert_allclose(state["running_mean"].numpy(), 0.1 * mean.ravel(), rtol=1e-4)
    unbiased = x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(state["running_var"].numpy(), 0.9 + 0.1 * unbiased, rtol=1e-4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]

    bn.eval()  # reaches the C++ layer: the running statistics now
    running = state["running_mean"].numpy().reshape(1, 3, 1, 1), state["running_var"].numpy().reshape(1, 3, 1, 1)
    out = bn(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, (x - running[0]) / np.sqrt(running[1] + 1e-5), rtol=1e-4, atol=1e-4)


def test_buffers_are_saved_and_loaded_with_the_parameters():
    trained, fresh = nn.BatchNorm1d(4), nn.BatchNorm1d(4)
    trained(ember.randn(16, 4) * 3 + 1)
    fresh.load_state_dict(trained.state_dict())
    for (name, a), (_, b) in zip(trained.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", ember.full((2,), 3.0))

        def forward(self, x):
            return x * self.scale

    m = Scaled()
    assert m.parameters() == [] and list(m.state_dict()) == ["scale"]


def test_lstm_cell_steps_and_trains():
    ember.manual_seed(1)
    cell = nn.LSTMCell(3, 5)
    x = ember.randn(2, 3)
    h, c = cell(x)
    assert h.shape == (2, 5) and c.shape == (2, 5)
    h2, _ = cell(x, (h, c))
    assert not np.allclose(h2.detach().numpy(), h.detach().numpy())
    h2.sum().backward()
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert all(p.grad is not None for p in cell.parameters())


def test_gru_layers_follow_numpys_recurrence_and_train():
    ember.manual_seed(2)
    gru = nn.GRU(3, 4, num_layers=2)
    x, h0 = ember.randn(5, 2, 3), ember.randn(2, 2, 4)
    out, h = gru(x, h0)
    assert out.shape == (5, 2, 4) and h.shape == (2, 2, 4)
    # Layer by layer against numpy's float64 recurrence (float32: within 2e-6).
    layer_input = x
    for layer in range(2):
        params = dict(gru.named_parameters())
        w = [params[f"layer{layer}.{n}"].detach().numpy().astype(np.float64)
             for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        want = ref.gru(layer_input.detach().numpy().astype(np.float64), *w, h0.numpy()[layer].astype(np.float64))
        np.testing.assert_allclose(h.detach().numpy()[layer], want[-1], rtol=2e-6, atol=2e-6)
        layer_input = ember.tensor(want.astype(np.float32))
    np.testing.assert_allclose(out.detach().numpy(), layer_input.numpy(), rtol=2e-6, atol=2e-6)
    out.sum().backward()
    assert [n for n, _ in gru.named_parameters()][:4] == [
        "layer0.weight_ih", "layer0.weight_hh", "layer0.bias_ih", "layer0.bias_hh"]
    assert all(p.grad is not None for p in gru.parameters())
    assert repr(gru).startswith("GRU(3, 4, num_layers=2\n  (layer0): GRUCell(3, 4)")


def test_avg_pool_sigmoid_and_module_list():
    x = ember.rand(1, 2, 4, 4)
    want = x.numpy().reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(nn.AvgPool2d(2)(x).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)

    layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    assert len(layers) == 3 and len(layers.parameters()) == 6
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    y = ember.rand(2, 4)
    for layer in layers:
        y = F.relu(layer(y))
    assert y.shape == (2, 4)
