#!/usr/bin/env python3
"""PyTorch CPU baseline for bench/train_step: one training step (forward, softmax cross-entropy,
backward, SGD momentum 0.9) of mlp:784-256-128-10 on one pre-made batch held in memory (as
edgefl-bench-train-step does: no data loading on either side), `--threads` intra-op threads.

    torch_train_step.py [--seconds 2] [--threads 1]     median of 10 slices per batch (32, 128)
    torch_train_step.py --serve [--threads 1]           slices on request, for bench/train_step/run

--serve prints one info line (which BLAS torch calls, see bench/torch_blas.py), then answers
each stdin request "pytorch BATCH SECONDS" with one {"bench":"train_step_slice",...} line, the
protocol of edgefl-bench-train-step --serve, so the two can alternate slices while both live.
Without --serve: one JSON object per batch ("backend":"pytorch", with the BLAS fields); a table
on stderr."""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch_blas  # noqa: E402  (bench/torch_blas.py)

MODEL = "mlp:784-256-128-10"
WIDTHS = [784, 256, 128, 10]


def step_flops(batch):
    flops = 0.0
    for i in range(len(WIDTHS) - 1):
        nk = WIDTHS[i] * WIDTHS[i + 1]
        flops += 2.0 * batch * nk * (2 if i == 0 else 3)
    return flops


class TrainPoint:
    """The model, optimizer and one batch, warmed up; run_for times one slice."""

    def __init__(self, batch):
        torch.manual_seed(1)
        self.batch = batch
        self.model = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 10))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x = torch.rand(batch, 784)
        self.y = torch.randint(0, 10, (batch,))
        for _ in range(20):
            self.step()

    def step(self):
        self.opt.zero_grad(set_to_none=False)
        self.loss_fn(self.model(self.x), self.y).backward()
        self.opt.step()

    def run_for(self, seconds):
        """samples/s and GFLOP/s of one slice; steps in tens, as edgefl-bench-train-step."""
        steps = 0
        start = time.perf_counter()
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
            for _ in range(10):
                self.step()
            steps += 10
        return steps * self.batch / elapsed, step_flops(self.batch) * steps / elapsed / 1e9


def serve(threads):
    points = {}
    for line in sys.stdin:
        fields = line.split()
        try:
            name, batch, seconds = fields[0], int(fields[1]), float(fields[2])
            assert name == "pytorch" and 0 < batch <= 65536 and 0 < seconds < 600
        except (IndexError, ValueError, AssertionError):
            sys.exit("torch_train_step.py: bad request %r: expected 'pytorch BATCH SECONDS'" % line.strip())
        if batch not in points:
            points[batch] = TrainPoint(batch)
        samples, gflops = points[batch].run_for(seconds)
        print(json.dumps({"bench": "train_step_slice", "model": MODEL, "backend": "pytorch", "batch": batch,
                          "threads": threads, "seconds": seconds, "samples_per_s": round(samples, 1),
                          "gflops": round(gflops, 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="per batch, in 10 slices")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    blas = torch_blas.blas_info()
    if args.serve:
        print(json.dumps({"bench": "train_step_baseline", "backend": "pytorch", "threads": args.threads, **blas}),
              flush=True)
        serve(args.threads)
        return
    for batch in (32, 128):
        point = TrainPoint(batch)
        slices = [point.run_for(args.seconds / 10) for _ in range(10)]
        samples = statistics.median_high([s for s, _ in slices])
        gflops = statistics.median_high([g for _, g in slices])
        print(json.dumps({"bench": "train_step", "model": MODEL, "backend": "pytorch", "batch": batch,
                          "threads": args.threads, "samples_per_s": round(samples, 1), "gflops": round(gflops, 2),
                          **blas}), flush=True)
        print(f"pytorch    {batch:5d} {samples:14.0f} {gflops:8.2f}   ({blas['blas']})", file=sys.stderr)


if __name__ == "__main__":
    main()
