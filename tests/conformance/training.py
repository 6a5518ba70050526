"""Local training as docs/protocol.md §11 specifies it, in NumPy: the flat parameter layout, the
seeded generator and shuffle, losses, optimizers and the step/epoch loop. Written from the
document; a device that follows it computes the reference device's update up to float
summation order."""
import gzip
import math
import os

import numpy as np

MASK64 = (1 << 64) - 1


def splitmix64(value):
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def hash_text(text):
    """FNV-1a 64 over the UTF-8 bytes, then splitmix64 (§11.3: the device seed)."""
    h = 1469598103934665603
    for byte in text.encode():
        h = ((h ^ byte) * 1099511628211) & MASK64
    return splitmix64(h)


class Rng:
    """PCG32 seeded through SplitMix64 (§11.3)."""

    def __init__(self, seed, stream=0):
        self.state = splitmix64(seed & MASK64)
        self.increment = ((splitmix64((stream ^ 0xDA3E39CB94B95BDB) & MASK64) << 1) | 1) & MASK64
        self.next_u32()

    def next_u32(self):
        old = self.state
        self.state = (old * 6364136223846793005 + self.increment) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rotation = old >> 59
        return ((xorshifted >> rotation) | (xorshifted << ((32 - rotation) & 31))) & 0xFFFFFFFF

    def below(self, bound):
        product = self.next_u32() * bound
        low = product & 0xFFFFFFFF
        if low < bound:
            threshold = ((1 << 32) - bound) % bound
            while low < threshold:
                product = self.next_u32() * bound
                low = product & 0xFFFFFFFF
        return product >> 32

    def shuffle(self, values):
        """Fisher-Yates from the end: for i = n..2, swap [i-1] with [below(i)]."""
        for i in range(len(values), 1, -1):
            j = self.below(i)
            values[i - 1], values[j] = values[j], values[i - 1]


# ---- Model specs and the flat parameter layout (§11.1) ----

class Spec:
    def __init__(self, text):
        parts = text.split(":")
        if len(parts) not in (2, 3) or parts[0] not in ("mlp", "linear"):
            raise ValueError("model spec '%s' is not kind:widths[:option]" % text)
        self.kind = parts[0]
        self.widths = [int(w) for w in parts[1].split("-")]
        option = parts[2] if len(parts) == 3 else ""
        if self.kind == "mlp":
            if option not in ("", "relu") or len(self.widths) < 2:
                raise ValueError("model spec '%s': an mlp has 2+ widths and relu" % text)
            self.loss = "softmax_cross_entropy"
        else:
            if option not in ("", "squared", "logistic") or len(self.widths) != 2 or self.widths[1] != 1:
                raise ValueError("model spec '%s': a linear model is D-1 with squared or logistic" % text)
            self.loss = option or "squared"
        self.bias = self.kind == "mlp"

    def layers(self):
        """(weight offset, bias offset or None, inputs, outputs) per Dense layer, in order."""
        offset, out = 0, []
        for inputs, outputs in zip(self.widths[:-1], self.widths[1:]):
            weight = offset
            offset += inputs * outputs
            bias = None
            if self.bias:
                bias = offset
                offset += outputs
            out.append((weight, bias, inputs, outputs))
        return out

    def parameter_count(self):
        return sum(i * o + (o if b is not None else 0) for _, b, i, o in self.layers())

    def table(self):
        """The 1.5 Model table of this spec, as wire.decode reads it."""
        layers = []
        for width in self.widths[1:]:
            if layers:
                layers.append((1, 0, None))  # relu
            layers.append((0, width, self.bias))  # dense
        return {"input": (1, 1, self.widths[0]), "layers": layers, "loss": self.loss}


def forward_backward(spec, params, x, y):
    """Sum of per-sample losses over the batch and the gradient of the MEAN loss."""
    views = []
    for weight, bias, inputs, outputs in spec.layers():
        w = params[weight:weight + inputs * outputs].reshape(outputs, inputs)
        b = params[bias:bias + outputs] if bias is not None else None
        views.append((w, b))
    activations, pre = [x], []
    for index, (w, b) in enumerate(views):
        z = activations[-1] @ w.T
        if b is not None:
            z = z + b
        pre.append(z)
        activations.append(np.maximum(z, 0) if index + 1 < len(views) else z)
    z = pre[-1].astype(np.float64)
    batch = x.shape[0]
    if spec.loss == "softmax_cross_entropy":
        labels = y.astype(np.int64)
        shifted = z - z.max(axis=1, keepdims=True)
        log_denominator = np.log(np.exp(shifted).sum(axis=1))
        loss_sum = float((log_denominator - shifted[np.arange(batch), labels]).sum())
        grad = np.exp(shifted - log_denominator[:, None])
        grad[np.arange(batch), labels] -= 1.0
    elif spec.loss == "logistic":
        zs, t = z[:, 0], y.astype(np.float64)
        loss_sum = float((np.logaddexp(0, zs) - t * zs).sum())
        grad = (1.0 / (1.0 + np.exp(-zs)) - t)[:, None]
    else:
        r = z[:, 0] - y.astype(np.float64)
        loss_sum = float((0.5 * r * r).sum())
        grad = r[:, None]
    dz = (grad * (1.0 / batch)).astype(np.float32)
    grads = np.zeros_like(params)
    for index in range(len(views) - 1, -1, -1):
        weight, bias, inputs, outputs = spec.layers()[index]
        w, b = views[index]
        grads[weight:weight + inputs * outputs] = (dz.T @ activations[index]).ravel()
        if b is not None:
            grads[bias:bias + outputs] = dz.sum(axis=0)
        if index > 0:
            dz = (dz @ w) * (pre[index - 1] > 0)
    return loss_sum, grads


# ---- Optimizers (§11.5) ----

def scheduled_lr(task, step):
    """The Task's lr at global step `step` (§11.6): constant, linear warm-up, cosine."""
    kind, warmup, total, floor = task["lr_schedule"]
    lr = float(task["lr"])
    if kind == 0:
        return np.float32(lr)
    if step < warmup:
        return np.float32(lr * (step + 1) / warmup)
    if kind == 1:
        return np.float32(lr)
    if step >= total:
        return np.float32(floor)
    progress = (step - warmup) / (total - warmup)
    floor = float(np.float32(floor))
    return np.float32(floor + (lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def clipped(grads, max_norm):
    """grads scaled to global L2 norm max_norm when larger (factor max_norm / (norm + 1e-6))."""
    if max_norm <= 0:
        return grads
    norm = math.sqrt(float(np.dot(grads.astype(np.float64), grads.astype(np.float64))))
    if norm <= max_norm:
        return grads
    return grads * np.float32(max_norm / (norm + 1e-6))


class Optimizer:
    def __init__(self, kind, count):
        self.kind = kind
        self.steps = 0
        self.v = np.zeros(count, np.float32)
        self.m = np.zeros(count, np.float32)

    def step(self, task, w, g, lr):
        wd, mu = np.float32(task["weight_decay"]), np.float32(task["momentum"])
        self.steps += 1
        if self.kind == 0:    # sgd
            w -= lr * (g + wd * w)
        elif self.kind in (1, 2):  # momentum, nesterov
            gi = g + wd * w
            self.v = mu * self.v + gi
            w -= lr * (self.v if self.kind == 1 else gi + mu * self.v)
        else:                 # adamw
            b1, b2, eps = np.float32(task["beta1"]), np.float32(task["beta2"]), np.float32(task["eps"])
            c1 = np.float32(1.0 / (1.0 - float(task["beta1"]) ** self.steps))
            c2 = np.float32(1.0 / (1.0 - float(task["beta2"]) ** self.steps))
            self.m = b1 * self.m + (np.float32(1) - b1) * g
            self.v = b2 * self.v + (np.float32(1) - b2) * g * g
            w[:] = w * (np.float32(1) - lr * wd) - lr * (self.m * c1) / (np.sqrt(self.v * c2) + eps)


class Trainer:
    """Trains Tasks on one device's data; keeps the optimizer state across tasks of one model
    when the Task says so (§11.5)."""

    def __init__(self, x, y, device_id):
        self.x, self.y = x, y
        self.device_seed = hash_text(device_id)
        self.optimizer = None
        self.spec_text = None

    def train(self, task):
        """-> (delta, or the batch gradient of a gradient_only Task; mean loss; steps).
        Raises ValueError for a Task it cannot use."""
        if task["palsgd"] or task["adaptive_batch"]:
            raise ValueError("this device implements neither PALSGD nor adaptive batches")
        if task["trainable_layers"]:
            raise ValueError("this device does not implement frozen layers")
        spec = Spec(task["model_spec"])
        if task["model"] is not None and task["model"] != spec.table():
            raise ValueError("the Task's model table %r is not its model_spec '%s'" % (task["model"], task["model_spec"]))
        if spec.widths[0] != self.x.shape[1]:
            raise ValueError("model takes %d inputs, the data has %d" % (spec.widths[0], self.x.shape[1]))
        if spec.parameter_count() != task["params"].size:
            raise ValueError("params hold %d values, the spec %d" % (task["params"].size, spec.parameter_count()))
        if (self.optimizer is None or self.spec_text != task["model_spec"]
                or self.optimizer.kind != task["optimizer"] or not task["keep_optimizer_state"]):
            self.optimizer = Optimizer(task["optimizer"], spec.parameter_count())
        self.spec_text = task["model_spec"]
        n = self.x.shape[0]
        rng = Rng(splitmix64(task["seed"] ^ self.device_seed))
        order = list(range(n))
        params = task["params"].copy()
        batch = min(task["batch_size"], n)
        loss_sum, samples, steps = 0.0, 0, 0

        def run(positions):
            nonlocal loss_sum, samples, steps
            rows = np.array(positions, dtype=np.int64)
            loss, grads = forward_backward(spec, params, self.x[rows], self.y[rows])
            lr = scheduled_lr(task, task["start_step"] + steps)
            self.optimizer.step(task, params, clipped(grads, task["clip_norm"]), lr)
            loss_sum += loss
            samples += len(positions)
            steps += 1

        def reshuffle():
            order[:] = range(n)
            rng.shuffle(order)

        if task["gradient_only"]:
            # A synchronous data-parallel step (§11.7): the first batch's mean gradient, no step.
            reshuffle()
            rows = np.array(order[:batch], dtype=np.int64)
            loss, grads = forward_backward(spec, params, self.x[rows], self.y[rows])
            return grads, loss / batch, 1
        if task["local_steps"] > 0:
            cursor = n
            for _ in range(task["local_steps"]):
                if cursor + batch > n:
                    reshuffle()
                    cursor = 0
                run(order[cursor:cursor + batch])
                cursor += batch
        else:
            for _ in range(task["local_epochs"]):
                reshuffle()
                for begin in range(0, n, batch):
                    run(order[begin:begin + batch])
        return params - task["params"], (loss_sum / samples if samples else 0.0), steps


# ---- Local data: Fashion-MNIST, an IID partition (the reference device's data, for comparison) ----

MEAN, DEVIATION = 0.2860, 0.3530


def read_idx(path, rank):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def fashion_mnist_shard(directory, count, index, seed, max_samples):
    """Rows index*N/count .. (index+1)*N/count of a seeded shuffle of 0..N-1, sorted, capped."""
    labels = read_idx(os.path.join(directory, "train-labels-idx1-ubyte.gz"), 1)
    rows = list(range(labels.size))
    Rng(seed).shuffle(rows)
    mine = sorted(rows[index * len(rows) // count:(index + 1) * len(rows) // count])
    if max_samples:
        mine = mine[:max_samples]
    images = read_idx(os.path.join(directory, "train-images-idx3-ubyte.gz"), 3)
    pixels = images[mine].reshape(len(mine), -1).astype(np.float32)
    scale = np.float32(1.0) / (np.float32(255.0) * np.float32(DEVIATION))
    offset = np.float32(-MEAN) / np.float32(DEVIATION)
    return pixels * scale + offset, labels[mine].astype(np.float32)
