"""ember.data, save/load and anomaly mode from Python."""

import json
import os

import numpy as np
import pytest

import ember


class Squares(ember.data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return ember.tensor([float(i)]), i * i


def test_a_dataloader_over_a_python_dataset_batches_and_shuffles_by_seed():
    loader = ember.data.DataLoader(Squares(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    x, y = batches[0]
    assert x.shape == (4, 1) and y.tolist() == [0, 1, 4, 9]
    assert batches[2][1].tolist() == [64, 81]
    a = [b[1].tolist() for b in ember.data.DataLoader(Squares(), batch_size=4, shuffle=True, seed=3, drop_last=True)]
    b = [b[1].tolist() for b in ember.data.DataLoader(Squares(), batch_size=4, shuffle=True, seed=3, drop_last=True)]
    assert a == b and len(a) == 2  # the same seed, the same order
    assert sum(a, []) != [0, 1, 4, 9, 16, 25, 36, 49], "shuffled"


def test_the_bundled_digits_train_a_python_model():
    images, labels = ember.data.load_digits()
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(64, 32), ember.nn.ReLU(), ember.nn.Linear(32, 10))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    loader = ember.data.DataLoader(ember.data.TensorDataset(images, labels), batch_size=64, shuffle=True)
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            ember.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    with ember.no_grad():
        accuracy = (model(images).argmax(dim=1) == labels).float().mean().item()
    assert accuracy > 0.9
    assert "zebra" in ember.data.load_words() or len(ember.data.load_words()) > 1000


def test_save_and_load_safetensors(tmp_path):
    net = ember.nn.Linear(3, 2)
    path = tmp_path / "net.safetensors"
    ember.save(net, path)
    state = ember.load(path)
    assert sorted(state) == ["bias", "weight"]
    other = ember.nn.Linear(3, 2)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.weight.detach().numpy(), net.weight.detach().numpy())
    assert not [f for f in os.listdir(tmp_path) if f != "net.safetensors"], "no temporary left behind"
    with pytest.raises(ember.Error):
        ember.load(tmp_path / "missing.safetensors")


def test_safetensors_files_are_readable_by_numpy_alone(tmp_path):
    # The format: an 8-byte little-endian header size, a JSON header, the raw little-endian data.
    bn = ember.nn.BatchNorm1d(3)
    bn(ember.randn(8, 3))
    ember.save(bn, tmp_path / "bn.safetensors")
    raw = (tmp_path / "bn.safetensors").read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    data = raw[8 + size:]
    kinds = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    for name, want in bn.state_dict().items():
        entry = header[name]
        begin, end = entry["data_offsets"]
        got = np.frombuffer(data[begin:end], dtype=kinds[entry["dtype"]]).reshape(entry["shape"])
        np.testing.assert_array_equal(got, want.numpy(), err_msg=name)
    assert "running_var" in header, "buffers are saved with the parameters"


def test_anomaly_mode_names_the_forward_op():
    x = ember.tensor([-1.0, 1.0], requires_grad=True)
    with ember.detect_anomaly():
        assert ember.is_anomaly_enabled()
        y = x.sqrt()  # NaN at -1, and so its gradient
        with pytest.raises(ember.Error, match="sqrt"):
            y.sum().backward()
    assert not ember.is_anomaly_enabled()
