"""ember.nn and ember.optim from Python: modules subclassed as in PyTorch, training against a reference."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F


class Net(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = ember.nn.Linear(4, 8)
        self.act = ember.nn.Tanh()
        self.fc2 = ember.nn.Linear(8, 3)
        self.scale = ember.nn.Parameter(ember.ones(1))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_modules_register_parameters_and_children():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(p.requires_grad and p.is_leaf for p in net.parameters())
    assert net.num_parameters() == 1 + 4 * 8 + 8 + 8 * 3 + 3
    assert "Linear(in_features=4, out_features=8, bias=True)" in repr(net)
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    net.eval()
    assert not net.fc1.training
    state = net.state_dict()
    other = Net()
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.fc1.weight.detach().numpy(), net.fc1.weight.detach().numpy())
    with pytest.raises(ember.Error, match="missing"):
        other.load_state_dict({})


def test_a_python_module_trains_like_the_same_model_in_numpy():
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Linear(3, 1, bias=False))
    w = net[0].weight.detach().numpy().copy()
    x = ember.randn(16, 3)
    y = ember.randn(16, 1)
    opt = ember.optim.SGD(net.parameters(), lr=0.1)
    xs, ys = x.numpy(), y.numpy()
    for _ in range(5):
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        grad = 2 * (xs @ w.T - ys).T @ xs / len(xs)  # d/dw of mean((x w^T - y)^2)
        w = w - 0.1 * grad
    np.testing.assert_allclose(net[0].weight.detach().numpy(), w, rtol=1e-5, atol=1e-6)


def test_classifier_with_adam_and_cross_entropy_learns():
    ember.manual_seed(1)
    x = ember.randn(64, 4)
    labels = (x[:, 0] > 0).long()
    net = Net()
    opt = ember.optim.Adam(net.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = ember.nn.CrossEntropyLoss()(net(x), labels)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.3 * first
    with ember.no_grad():
        accuracy = (net(x).argmax(dim=1) == labels).float().mean().item()
    assert accuracy > 0.9


def test_a_convnet_and_embedding_train_and_schedules_set_the_rate():
    ember.manual_seed(2)
    net = ember.nn.Sequential(ember.nn.Conv2d(1, 4, 3, padding=1), ember.nn.ReLU(), ember.nn.MaxPool2d(2),
                              ember.nn.Flatten(), ember.nn.Linear(4 * 4 * 4, 2))
    x = ember.randn(8, 1, 8, 8)
    assert net(x).shape == (8, 2)
    labels = (x.sum(dim=(1, 2, 3)) > 0).long()
    opt = ember.optim.SGD(net.parameters(), lr=0.1)
    schedule = ember.optim.StepLR(opt, step_size=10, gamma=0.5)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        opt.step()
        schedule.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first
    assert abs(opt.lr - 0.1 * 0.5**3) < 1e-12
    cosine = ember.optim.CosineAnnealingLR(ember.optim.SGD(net.parameters(), lr=1.0), T_max=4)
    for _ in range(2):
        cosine.step()
    assert abs(cosine.optimizer.lr - 0.5) < 1e-12
    emb = ember.nn.Embedding(10, 3)
    out = emb(ember.tensor([[1, 2], [9, 0]]))
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[1, 0].detach().numpy(), emb.weight[9].detach().numpy())


def test_cpp_layers_inside_python_models():
    ember.manual_seed(4)

    class Tagger(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = ember.nn.LSTM(3, 5, num_layers=2)
            self.attn = ember.nn.MultiheadAttention(5, 1, causal=True)
            self.head = ember.nn.Linear(5, 2)

        def forward(self, x):  # x [T, B, 3]
            out, (h, c) = self.lstm(x)
            assert h.shape == (2, 4, 5) and c.shape == (2, 4, 5)
            return self.head(self.attn(out.permute(1, 0, 2)))  # [B, T, 2]

    net = Tagger()
    names = [n for n, _ in net.named_parameters()]
    assert "lstm.layer0.weight_ih" in names and "attn.in_proj_weight" in names
    x = ember.randn(6, 4, 3)
    loss = net(x).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())
    # The Python Parameter is the C++ layer's own tensor: a change through either is seen by both.
    w = dict(net.named_parameters())["lstm.layer0.weight_ih"]
    before = net(x).detach().numpy()
    with ember.no_grad():
        w.zero_()
    assert not np.allclose(net(x).detach().numpy(), before)
    cell = ember.nn.GRUCell(3, 4)
    assert cell(ember.randn(2, 3)).shape == (2, 4)


def test_watch_layers_prints_each_layers_statistics():
    import io

    net = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    out = io.StringIO()
    with ember.nn.watch_layers(net, file=out) as watch:
        net(ember.randn(16, 4))
    text = out.getvalue()
    assert "mean" in text.splitlines()[0]
    assert len(watch.rows) == 4  # three layers and the model
    assert "Linear" in watch.rows[0] and "[16, 8]" in watch.rows[0]
    assert "ReLU" in watch.rows[1]
    net(ember.randn(16, 4))  # removed: nothing more printed
    assert len(watch.rows) == 4
