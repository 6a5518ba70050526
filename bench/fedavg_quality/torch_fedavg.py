#!/usr/bin/env python3
"""PyTorch baseline for bench/fedavg_quality: FedAvg in one process. Fashion-MNIST, clients
holding exactly the rows edgefl-sim gave its devices (--split, written by edgefl-sim
--write-split: one JSON line per device with its training-set rows), each held in memory as
edgefl's devices hold theirs; each round every client trains `--epochs` local epochs from the
global model (batch 32, shuffled, fresh optimizer), the server takes the sample-weighted mean of
the deltas. Pixels standardised and weights He-uniform with zero biases, as edgefl does.
`--threads` intra-op threads. Prints one JSON object per round and a summary line
("bench":"fedavg_quality","backend":"pytorch", with the BLAS torch calls: bench/torch_blas.py);
a table on stderr."""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch_blas  # noqa: E402  (bench/torch_blas.py)


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_split(path, rows):
    """Per device, its training-set rows, from edgefl-sim --write-split."""
    shards = []
    with open(path) as f:
        for n, line in enumerate(f):
            entry = json.loads(line)
            if entry["device"] != n:
                sys.exit("torch_fedavg.py: %s: line %d is device %s, expected %d" % (path, n + 1, entry["device"], n))
            ix = np.array(entry["rows"], dtype=np.int64)
            if len(ix) and (ix.min() < 0 or ix.max() >= rows):
                sys.exit("torch_fedavg.py: %s: device %d has rows outside 0..%d" % (path, n, rows - 1))
            shards.append(ix)
    if not shards:
        sys.exit("torch_fedavg.py: %s holds no devices" % path)
    return shards


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
    ap.add_argument("--split", required=True, help="edgefl-sim --write-split output")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--widths", default="784-256-128-10")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    blas = torch_blas.blas_info()
    d = args.data_dir
    # edgefl's kFashionMnistStandardised: (pixel / 255 - 0.2860) / 0.3530
    def standardise(images):
        return torch.from_numpy((images.reshape(-1, 784).astype(np.float32) / 255 - 0.2860) / 0.3530)
    x_train = standardise(load_idx(d + "/train-images-idx3-ubyte.gz"))
    y_train = load_idx(d + "/train-labels-idx1-ubyte.gz").astype(np.int64)
    x_test = standardise(load_idx(d + "/t10k-images-idx3-ubyte.gz"))
    y_test = torch.from_numpy(load_idx(d + "/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    y_train = torch.from_numpy(y_train)
    clients = [(x_train[ix], y_train[ix]) for ix in read_split(args.split, len(y_train)) if len(ix)]

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
        for xs, ys in clients:
            with torch.no_grad():
                for p, g in zip(local.parameters(), global_state):
                    p.copy_(g)
            opt = torch.optim.SGD(local.parameters(), lr=args.lr, momentum=args.momentum)
            for _ in range(args.epochs):
                order = torch.randperm(len(ys))
                for b in range(0, len(ys), args.batch):
                    sel = order[b:b + args.batch]
                    opt.zero_grad(set_to_none=False)
                    loss_fn(local(xs[sel]), ys[sel]).backward()
                    opt.step()
            with torch.no_grad():
                for s, p, g in zip(sums, local.parameters(), global_state):
                    s += (p - g) * len(ys)
            total += len(ys)
        with torch.no_grad():
            for p, s in zip(global_model.parameters(), sums):
                p += s / total
            accuracy = (global_model(x_test).argmax(1) == y_test).float().mean().item()
        print(json.dumps({"bench": "fedavg_round", "backend": "pytorch", "round": r, "test_accuracy": round(accuracy, 4),
                          "wall_s": round(time.perf_counter() - round_start, 3)}))
        print(f"pytorch round {r:3d}  acc {100 * accuracy:.2f}%", file=sys.stderr)
    print(json.dumps({"bench": "fedavg_quality", "backend": "pytorch", "rounds": args.rounds, "clients": len(clients),
                      "split": args.split, "lr": args.lr, "momentum": args.momentum, "batch": args.batch,
                      "threads": args.threads, "test_accuracy": round(accuracy, 4),
                      "train_s": round(time.perf_counter() - started, 2), **blas}))


if __name__ == "__main__":
    main()
