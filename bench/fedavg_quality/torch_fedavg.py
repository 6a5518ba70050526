#!/usr/bin/env python3
"""PyTorch baseline for bench/fedavg_quality: FedAvg in one process, one thread. Fashion-MNIST,
clients with a per-class Dirichlet(alpha) split (the same scheme as edgefl's partition, drawn
with numpy: statistically the same, not the same rows), each round every client trains
`--epochs` local epochs from the global model (batch 32, shuffled, fresh optimizer), the server
takes the sample-weighted mean of the deltas. Pixels standardised and weights He-uniform with
zero biases, as edgefl does. Prints one JSON object per round and a summary
line ("bench":"fedavg_quality","backend":"pytorch"); a table on stderr."""
import argparse
import gzip
import json
import sys
import time

import numpy as np
import torch


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def dirichlet_split(labels, clients, alpha, rng):
    out = [[] for _ in range(clients)]
    for c in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == c)
        rng.shuffle(members)
        p = rng.gamma(alpha, size=clients)
        cuts = np.round(np.cumsum(p / p.sum()) * len(members)).astype(int)
        cuts[-1] = len(members)
        begin = 0
        for k in range(clients):
            end = max(begin, min(len(members), cuts[k]))
            out[k].extend(members[begin:end])
            begin = end
    return [np.array(sorted(ix), dtype=np.int64) for ix in out]


def build(widths):
    layers = []
    for i in range(len(widths) - 1):
        layer = torch.nn.Linear(widths[i], widths[i + 1])
        torch.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")  # bound sqrt(6 / fan_in)
        torch.nn.init.zeros_(layer.bias)
        layers.append(layer)
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--widths", default="784-256-128-10")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    d = args.data_dir
    # edgefl's kFashionMnistStandardised: (pixel / 255 - 0.2860) / 0.3530
    def standardise(images):
        return torch.from_numpy((images.reshape(-1, 784).astype(np.float32) / 255 - 0.2860) / 0.3530)
    x_train = standardise(load_idx(d + "/train-images-idx3-ubyte.gz"))
    y_train = load_idx(d + "/train-labels-idx1-ubyte.gz").astype(np.int64)
    x_test = standardise(load_idx(d + "/t10k-images-idx3-ubyte.gz"))
    y_test = torch.from_numpy(load_idx(d + "/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    shards = dirichlet_split(y_train, args.clients, args.alpha, rng)
    y_train = torch.from_numpy(y_train)

    widths = [int(w) for w in args.widths.split("-")]
    global_model = build(widths)
    local = build(widths)
    loss_fn = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    accuracy = 0.0
    for r in range(1, args.rounds + 1):
        round_start = time.perf_counter()
        global_state = [p.detach().clone() for p in global_model.parameters()]
        sums = [torch.zeros_like(p) for p in global_state]
        total = 0
        for ix in shards:
            if len(ix) == 0:
                continue
            with torch.no_grad():
                for p, g in zip(local.parameters(), global_state):
                    p.copy_(g)
            opt = torch.optim.SGD(local.parameters(), lr=args.lr, momentum=args.momentum)
            xs, ys = x_train[ix], y_train[ix]
            for _ in range(args.epochs):
                order = torch.randperm(len(ix))
                for b in range(0, len(ix), args.batch):
                    sel = order[b:b + args.batch]
                    opt.zero_grad(set_to_none=False)
                    loss_fn(local(xs[sel]), ys[sel]).backward()
                    opt.step()
            with torch.no_grad():
                for s, p, g in zip(sums, local.parameters(), global_state):
                    s += (p - g) * len(ix)
            total += len(ix)
        with torch.no_grad():
            for p, s in zip(global_model.parameters(), sums):
                p += s / total
            accuracy = (global_model(x_test).argmax(1) == y_test).float().mean().item()
        print(json.dumps({"bench": "fedavg_round", "backend": "pytorch", "round": r, "test_accuracy": round(accuracy, 4),
                          "wall_s": round(time.perf_counter() - round_start, 3)}))
        print(f"pytorch round {r:3d}  acc {100 * accuracy:.2f}%", file=sys.stderr)
    print(json.dumps({"bench": "fedavg_quality", "backend": "pytorch", "rounds": args.rounds, "clients": args.clients,
                      "alpha": args.alpha, "lr": args.lr, "momentum": args.momentum, "batch": args.batch,
                      "threads": 1, "test_accuracy": round(accuracy, 4),
                      "wall_s": round(time.perf_counter() - started, 2)}))


if __name__ == "__main__":
    main()
