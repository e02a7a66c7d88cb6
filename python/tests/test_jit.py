"""ember.jit from Python: a compiled function and a compiled training step against eager."""

import numpy as np
import pytest

import ember
import ember.jit
import ember.nn.functional as F
from conftest import run_in_threads


def test_a_compiled_function_matches_eager_and_runs_native():
    def f(x, y):
        return (x * 1.5 + 0.5).tanh() * y.sigmoid() + x, x.sum()

    g = ember.jit.compile(f)
    x, y = ember.randn(64, 32), ember.randn(64, 32)
    for _ in range(4):
        got = g(x, y)
    want = f(x, y)
    assert isinstance(got, tuple) and len(got) == 2
    np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1].item(), want[1].item(), rtol=1e-5)
    stats = g.stats()
    assert stats["compiles"] == 1 and stats["hits"] == 2, g.explain()
    assert "ember.tanh" in g.stage("ember")


def test_a_compiled_training_step_follows_eager():
    def make():
        ember.manual_seed(3)
        return ember.nn.Sequential(ember.nn.Linear(20, 32), ember.nn.ReLU(), ember.nn.Linear(32, 10))

    eager_model, compiled_model = make(), make()
    eager_opt = ember.optim.SGD(eager_model.parameters(), lr=0.1, momentum=0.9)
    compiled_opt = ember.optim.SGD(compiled_model.parameters(), lr=0.1, momentum=0.9)

    def step_of(model, opt):
        def step(x, labels):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()
            return loss

        return step

    eager_step = step_of(eager_model, eager_opt)
    compiled_step = ember.jit.compile(step_of(compiled_model, compiled_opt))
    x, labels = ember.randn(16, 20), (ember.rand(16) * 10).long()
    for _ in range(20):
        want = eager_step(x, labels).item()
        got = compiled_step(x, labels).item()
        assert abs(got - want) <= 1e-5 * abs(want) + 1e-6
    assert compiled_step.stats()["hits"] == 18
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_threads_call_compiled_code_at_once():
    # Each thread its own compiled function; calls run without the GIL, traces take it back.
    results = {}

    def worker(k):
        ember.manual_seed(k)
        a, b = ember.randn(128, 64), ember.randn(64, 32)
        f = ember.jit.compile(lambda p, q: (p @ q).relu() * 2)
        for _ in range(4):
            y = f(a, b)
        results[k] = (np.maximum(a.numpy() @ b.numpy(), 0) * 2, y.numpy(), f.stats()["hits"])

    run_in_threads(worker, 3)
    assert len(results) == 3
    for want, got, hits in results.values():
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        assert hits == 2


def test_compiled_functions_take_keyword_tensors():
    f = ember.jit.compile(lambda x, scale: x * scale + 1)
    x, s = ember.randn(8, 4), ember.full((1,), 3.0)
    for _ in range(3):
        y = f(x, scale=s)
    np.testing.assert_allclose(y.numpy(), x.numpy() * 3 + 1, rtol=1e-6)
    assert f.stats()["hits"] == 1


def test_export_from_python_and_load_it_back(tmp_path):
    ember.manual_seed(6)
    model = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Linear(16, 3))
    model.eval()

    @ember.no_grad()
    def forward(x):
        return model(x).softmax(dim=-1)

    x = ember.randn(4, 8)
    paths = ember.jit.export(forward, [x], tmp_path)
    names = sorted(p.rsplit("/", 1)[-1] for p in paths)
    assert names == ["model.h", "model.json", "model.mlir", "model.o", "model.safetensors"]
    assert "model_run" in (tmp_path / "model.h").read_text()
    loaded = ember.jit.load_export(tmp_path)
    np.testing.assert_allclose(loaded(x).numpy(), forward(x).numpy(), rtol=1e-5, atol=1e-6)
    (tmp_path / "model.json").write_text("{")  # a damaged file is a clear error
    import pytest

    with pytest.raises(ember.Error, match="model.json"):
        ember.jit.load_export(tmp_path)


def test_an_export_with_named_dynamic_sizes_runs_at_any_of_each(tmp_path):
    def forward(x, z):
        return x.softmax(dim=1), z.relu()

    ember.jit.export(forward, [ember.randn(2, 5, 4), ember.randn(2, 3)], tmp_path,
                     dynamic_dims=[(0, 0, "batch"), (0, 1, "length"), (1, 0, "batch")])
    assert "int model_run(int64_t batch, int64_t length, const float* in0" in (tmp_path / "model.h").read_text()
    loaded = ember.jit.load_export(tmp_path)
    for batch, length in ((2, 5), (3, 1), (1, 9)):
        x, z = ember.randn(batch, length, 4), ember.randn(batch, 3)
        got, want = loaded(x, z), forward(x, z)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ember.Error, match="the dims of size batch are"):
        loaded(ember.randn(2, 5, 4), ember.randn(3, 3))
    with pytest.raises(TypeError, match="dynamic_dims"):
        ember.jit.export(forward, [ember.randn(2, 5, 4), ember.randn(2, 3)], tmp_path, dynamic_dims=[(0,)])


def test_a_causal_mask_buffer_sliced_to_the_length_compiles_once():
    # nanoGPT's attention: a tril buffer cut to each batch's length T.
    bias = ember.tril(ember.ones(16, 16))

    def attend(x):
        t = x.shape[1]
        scores = (x @ x.transpose(1, 2)).masked_fill(bias[:t, :t] == 0, float("-inf"))
        return scores.softmax(-1)

    f = ember.jit.compile(attend)
    for _ in range(2):  # the second round runs the dynamic code at every length
        for t in (5, 5, 7, 9, 3, 12):
            x = ember.randn(2, t, 8)
            np.testing.assert_allclose(f(x).numpy(), attend(x).numpy(), rtol=1e-5, atol=1e-6)
    assert f.stats()["compiles"] == 2, f.explain()


def test_traced_ops_and_compiled_errors_name_the_python_line():
    import inspect

    import pytest

    model = ember.nn.Linear(4, 3)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)

    def step(x, labels):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)  # the line every message must name
        loss.backward()
        opt.step()
        return loss

    loss_line = inspect.getsourcelines(step)[1] + 2
    here = f"test_jit.py:{loss_line}"
    compiled = ember.jit.compile(step)
    x = ember.randn(5, 4)
    for _ in range(3):
        compiled(x, ember.tensor([0, 1, 2, 1, 0]))
    assert compiled.stats()["hits"] == 1
    graph = compiled.graph()
    assert f"cross_entropy" in graph and here in graph, graph
    assert "tensor.cpp" not in graph and "nn.cpp" not in graph, "binding lines leaked into the graph"
    with pytest.raises(ember.Error) as info:  # a target out of range, caught by the compiled code's check
        compiled(x, ember.tensor([0, 1, 7, 1, 0]))
    assert "outside [0, 3)" in str(info.value) and here in str(info.value), str(info.value)


def test_an_eager_fallback_names_the_python_line():
    import inspect

    def data_dependent(x):
        if x.sum().item() > 0:  # reads a value into Python: the graph would depend on it
            return x * 2
        return x

    line = inspect.getsourcelines(data_dependent)[1] + 1
    f = ember.jit.compile(data_dependent)
    x = ember.ones(3)
    for _ in range(3):
        np.testing.assert_allclose(f(x).numpy(), [2.0, 2.0, 2.0])
    assert f.stats()["compiles"] == 0
    assert f"test_jit.py:{line}" in f.explain(), f.explain()


def test_a_changing_batch_compiles_once_for_every_size():
    ember.manual_seed(4)
    model = ember.nn.Sequential(ember.nn.Linear(12, 16), ember.nn.ReLU(), ember.nn.Linear(16, 3))
    forward = ember.jit.compile(lambda x: F.softmax(model(x), dim=1))
    for n in (32, 32, 32, 7, 7, 1, 20):
        x = ember.randn(n, 12)
        with ember.no_grad():
            want = F.softmax(model(x), dim=1).numpy()
            got = forward(x).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    stats = forward.stats()
    assert stats["compiles"] == 2, forward.explain()
    assert "input 0 dim 0 became dynamic (32 -> 7)" in stats["recompile_reasons"], forward.explain()


def test_marked_dims_are_dynamic_from_the_first_compile():
    @ember.jit.compile(dynamic_dims=[(0, 0)])
    def scaled(x):
        return (x * 2.0).tanh().sum(dim=1)

    for n in (9, 9, 4, 1):
        x = ember.randn(n, 5)
        np.testing.assert_allclose(scaled(x).numpy(), (x * 2.0).tanh().sum(dim=1).numpy(), rtol=1e-5, atol=1e-6)
    assert scaled.stats()["compiles"] == 1, scaled.explain()
    assert scaled.stats()["recompile_reasons"] == ["dims marked dynamic"]


@pytest.mark.parametrize("recurrent", ["LSTM", "GRU"])
def test_a_recurrent_model_trains_over_changing_lengths_in_two_compiles(recurrent):
    # nn.LSTM (nn.GRU) is one lstm (gru) op per layer, so a new length is a
    # new size of dim 0.
    def make():
        ember.manual_seed(5)
        return ember.nn.Embedding(11, 6), getattr(ember.nn, recurrent)(6, 8), ember.nn.Linear(8, 11)

    def step_of(layers):
        embed, lstm, head = layers
        params = list(embed.parameters()) + list(lstm.parameters()) + list(head.parameters())
        opt = ember.optim.Adam(params, lr=1e-2)

        def step(tokens, targets):
            opt.zero_grad()
            out, _ = lstm(embed(tokens))
            loss = F.cross_entropy(head(out).view(-1, 11), targets.view(-1))
            loss.backward()
            opt.step()
            return loss

        return step

    eager_step, compiled_step = step_of(make()), ember.jit.compile(step_of(make()))
    for length in (7, 7, 7, 4, 9, 12, 4):
        tokens, targets = (ember.rand(length, 5) * 11).long(), (ember.rand(length, 5) * 11).long()
        want, got = eager_step(tokens, targets).item(), compiled_step(tokens, targets).item()
        assert abs(got - want) <= 1e-5 * abs(want) + 1e-6, (length, got, want)
    stats = compiled_step.stats()
    assert stats["compiles"] == 2, compiled_step.explain()
    assert stats["recompile_reasons"][0].startswith("input 0 dim 0 became dynamic (7 -> 4)"), compiled_step.explain()
