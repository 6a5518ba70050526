#!/usr/bin/env python3
"""PyTorch CPU baseline for bench/train_step: one training step (forward, softmax cross-entropy,
backward, SGD momentum 0.9) of mlp:784-256-128-10, one thread. Prints one JSON object per line
with the same shape as edgefl-bench-train-step ("backend":"pytorch"); a table on stderr."""
import argparse
import json
import sys
import time

import torch


def step_flops(widths, batch):
    flops = 0.0
    for i in range(len(widths) - 1):
        nk = widths[i] * widths[i + 1]
        flops += 2.0 * batch * nk * (2 if i == 0 else 3)
    return flops


def measure(batch, seconds):
    widths = [784, 256, 128, 10]
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, 784)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    steps = 0
    start = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
        for _ in range(10):
            step()
        steps += 10
    return steps * batch / elapsed, step_flops(widths, batch) * steps / elapsed / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for batch in (32, 128):
        samples, gflops = measure(batch, args.seconds)
        print(json.dumps({"bench": "train_step", "model": "mlp:784-256-128-10", "backend": "pytorch",
                          "batch": batch, "threads": 1, "samples_per_s": round(samples, 1),
                          "gflops": round(gflops, 2), "torch": torch.__version__}), flush=True)
        print(f"pytorch    {batch:5d} {samples:14.0f} {gflops:8.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
