"""What the digits examples share: the UCI 8x8 digits split 80/20 with a fixed seed, and a training loop."""

import time

import ember
import ember.nn.functional as F


def load_split(image_shape=(64,)):
    """(train_x, train_y, test_x, test_y): images in [0, 1] shaped [N, *image_shape], int64 labels."""
    images, labels = ember.data.load_digits()
    images = images.view(len(images), *image_shape)
    generator = __import__("random").Random(0)
    order = list(range(len(images)))
    generator.shuffle(order)
    cut = len(order) * 8 // 10
    pick = lambda rows: ember.stack([images[i] for i in rows])  # noqa: E731
    pick_labels = lambda rows: ember.tensor([int(labels[i]) for i in rows])  # noqa: E731
    return pick(order[:cut]), pick_labels(order[:cut]), pick(order[cut:]), pick_labels(order[cut:])


def accuracy(model, x, y):
    with ember.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def training_step(model, opt):
    """One optimizer step on a batch: what ember.jit.compile compiles in the examples."""

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def fit(step, model, split, epochs, label, batch_size=32):
    """Trains through `step` (eager or compiled) on shuffled batches; prints a line per epoch."""
    train_x, train_y, test_x, test_y = split
    loader = ember.data.DataLoader(ember.data.TensorDataset(train_x, train_y), batch_size=batch_size,
                                   shuffle=True, seed=0, drop_last=True)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        losses = [float(step(x, y)) for x, y in loader]
        print(f"{label:9s} epoch {epoch:2d}/{epochs}  loss {sum(losses) / len(losses):.4f}  "
              f"test accuracy {100 * accuracy(model, test_x, test_y):.2f}%")
    return time.perf_counter() - start
