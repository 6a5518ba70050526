#!/usr/bin/env python3
"""PyTorch CPU baseline for bench/train_step: one training step (forward, softmax cross-entropy,
backward, SGD momentum 0.9) of one of edgefl-bench-train-step's models (mlp:784-256-128-10,
fedavg_cnn, small_cnn: the same layers, NCHW as PyTorch prefers) on one pre-made batch held in
memory (as edgefl-bench-train-step does: no data loading on either side), `--threads` intra-op
threads.

    torch_train_step.py [--seconds 2] [--threads 1] [--model mlp]   median of 10 slices per batch (32, 128)
    torch_train_step.py --serve [--threads 1] [--model mlp]         slices on request, for bench/train_step/run

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

# Per model: the input shape (C, H, W) and the layers, ("conv", in_c, out_c, k) with "same"
# padding, ("pool",) 2x2, ("flatten",), ("relu",), ("dense", in, out).
MODELS = {
    "mlp:784-256-128-10": ((784,), [("dense", 784, 256), ("relu",), ("dense", 256, 128), ("relu",),
                                     ("dense", 128, 10)]),
    "fedavg_cnn": ((1, 28, 28), [("conv", 1, 32, 5), ("relu",), ("pool",), ("conv", 32, 64, 5), ("relu",), ("pool",),
                                 ("flatten",), ("dense", 3136, 512), ("relu",), ("dense", 512, 10)]),
    "small_cnn": ((1, 28, 28), [("conv", 1, 8, 3), ("relu",), ("pool",), ("conv", 8, 16, 3), ("relu",), ("pool",),
                                ("flatten",), ("dense", 784, 10)]),
}
ALIASES = {"mlp": "mlp:784-256-128-10"}


def build(model):
    """The torch module and the FLOPs of one step per sample (multiply-adds x2 of forward,
    weight gradient and input gradient; the first layer has no input gradient), counted as
    edgefl-bench-train-step counts them."""
    shape, layers = MODELS[model]
    modules, flops, first = [], 0.0, True
    h = shape[1] if len(shape) == 3 else 1
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, cin, cout, k = layer
            modules.append(torch.nn.Conv2d(cin, cout, k, padding=k // 2))
            f = 2.0 * h * h * cout * k * k * cin
        elif kind == "dense":
            modules.append(torch.nn.Linear(layer[1], layer[2]))
            f = 2.0 * layer[1] * layer[2]
        else:
            modules.append({"relu": torch.nn.ReLU, "pool": lambda: torch.nn.MaxPool2d(2),
                            "flatten": torch.nn.Flatten}[kind]())
            if kind == "pool":
                h //= 2
            continue
        flops += f * (2 if first else 3)
        first = False
    return torch.nn.Sequential(*modules), shape, flops


class TrainPoint:
    """The model, optimizer and one batch, warmed up; run_for times one slice."""

    def __init__(self, model, batch):
        torch.manual_seed(1)
        self.batch = batch
        self.model, shape, self.flops_per_sample = build(model)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x = torch.rand(batch, *shape)
        self.y = torch.randint(0, 10, (batch,))
        start = time.perf_counter()
        for _ in range(20):  # warm-up, fewer when steps are slow (as edgefl-bench-train-step)
            if time.perf_counter() - start >= 1.0:
                break
            self.step()

    def step(self):
        self.opt.zero_grad(set_to_none=False)
        self.loss_fn(self.model(self.x), self.y).backward()
        self.opt.step()

    def run_for(self, seconds):
        """samples/s and GFLOP/s of one slice, as edgefl-bench-train-step measures them."""
        steps = 0
        start = time.perf_counter()
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
            self.step()
            steps += 1
        return steps * self.batch / elapsed, self.flops_per_sample * self.batch * steps / elapsed / 1e9


def serve(model, threads):
    points = {}
    for line in sys.stdin:
        fields = line.split()
        try:
            name, batch, seconds = fields[0], int(fields[1]), float(fields[2])
            assert name == "pytorch" and 0 < batch <= 65536 and 0 < seconds < 600
        except (IndexError, ValueError, AssertionError):
            sys.exit("torch_train_step.py: bad request %r: expected 'pytorch BATCH SECONDS'" % line.strip())
        if batch not in points:
            points[batch] = TrainPoint(model, batch)
        samples, gflops = points[batch].run_for(seconds)
        print(json.dumps({"bench": "train_step_slice", "model": model, "backend": "pytorch", "batch": batch,
                          "threads": threads, "seconds": seconds, "samples_per_s": round(samples, 1),
                          "gflops": round(gflops, 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="per batch, in 10 slices")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--model", default="mlp", choices=sorted(MODELS) + sorted(ALIASES))
    args = parser.parse_args()
    model = ALIASES.get(args.model, args.model)
    torch.set_num_threads(args.threads)
    blas = torch_blas.blas_info()
    if args.serve:
        print(json.dumps({"bench": "train_step_baseline", "backend": "pytorch", "threads": args.threads, **blas}),
              flush=True)
        serve(model, args.threads)
        return
    for batch in (32, 128):
        point = TrainPoint(model, batch)
        slices = [point.run_for(args.seconds / 10) for _ in range(10)]
        samples = statistics.median_high([s for s, _ in slices])
        gflops = statistics.median_high([g for _, g in slices])
        print(json.dumps({"bench": "train_step", "model": model, "backend": "pytorch", "batch": batch,
                          "threads": args.threads, "samples_per_s": round(samples, 1), "gflops": round(gflops, 2),
                          **blas}), flush=True)
        print(f"{model:20s} pytorch    {batch:5d} {samples:14.0f} {gflops:8.2f}   ({blas['blas']})", file=sys.stderr)


if __name__ == "__main__":
    main()
