#!/usr/bin/env python3
"""edgefl against PyTorch, interleaved, per model: starts `edgefl-bench-train-step --serve` and
`torch_train_step.py --serve` (the same --model), both pinned to the same CPUs (taskset) with the same number of
compute threads, and alternates timed slices between them (edgefl direct, edgefl xnnpack,
pytorch, rotating who goes first) so a busy machine slows both sides alike. Reports the median
slice per side and the ratios. Run by bench/train_step/run; stdout: JSON lines.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the baseline's environment only: a
machine may set them to work around bugs of an old OpenBLAS, and a forced core type would
time PyTorch on other kernels than it picks itself. edgefl does not use OpenBLAS."""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import torch_blas  # noqa: E402  (bench/torch_blas.py)


def parse_cpus(text):
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return sorted(cpus)


class Server:
    """One --serve process: a request line in, one JSON line out."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            sys.exit("compare: %s exited (status %s)" % (self.name, self.proc.wait()))
        return json.loads(line)

    def slice(self, backend, batch, seconds):
        self.proc.stdin.write("%s %d %g\n" % (backend, batch, seconds))
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", required=True, help="edgefl-bench-train-step")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--threads", type=int, default=1, help="edgefl compute threads = torch intra-op threads")
    ap.add_argument("--cpus", help="CPU list for both (taskset -c); default: the first --threads allowed CPUs")
    ap.add_argument("--slices", type=int, default=15, help="timed slices per side and batch")
    ap.add_argument("--slice-seconds", type=float, default=0.2)
    ap.add_argument("--backends", default="direct,xnnpack")
    ap.add_argument("--models", default="mlp,fedavg_cnn,small_cnn", help="comma-separated, as --model of both")
    ap.add_argument("--table", help="edgefl-bench-train-step's output, for fraction_of_peak and speedup_vs_reference")
    args = ap.parse_args()
    allowed = sorted(os.sched_getaffinity(0))
    cpus = parse_cpus(args.cpus) if args.cpus else allowed[:args.threads]
    if args.threads < 1 or len(cpus) < args.threads:
        sys.exit("compare: %d threads need at least as many CPUs (have %s)" % (args.threads, cpus))
    pin = ["taskset", "-c", ",".join(map(str, cpus))]
    baseline_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    backends = args.backends.split(",")
    rates, refusal, blas = {}, None, None
    for model in args.models.split(","):
        edgefl = Server("edgefl-bench-train-step", pin + [args.bin, "--serve", "--threads", str(args.threads),
                                                         "--model", model])
        baseline = Server("torch_train_step.py", pin + [args.python, os.path.join(HERE, "torch_train_step.py"),
                                                     "--serve", "--threads", str(args.threads), "--model", model],
                          env=baseline_env)
        blas = baseline.read()
        refusal = torch_blas.ratio_refusal(blas)
        if model == args.models.split(",")[0]:
            print(json.dumps(blas))
        sides = [(edgefl, b) for b in backends] + [(baseline, "pytorch")]
        for batch in (32, 128):
            for r in range(args.slices):
                k = r % len(sides)
                for server, backend in sides[k:] + sides[:k]:
                    m = server.slice(backend, batch, args.slice_seconds)
                    # Both sides name the model alike ("mlp" answers as "mlp:784-256-128-10").
                    rates.setdefault((m["model"], backend, batch), []).append(m["samples_per_s"])
        edgefl.close()
        baseline.close()

    table = {}
    if args.table:
        rows = [json.loads(l) for l in open(args.table) if l.startswith("{")]
        table = {(r["model"], r["backend"], r["batch"]): r for r in rows
                 if r["bench"] == "train_step" and r.get("fused", True)}
    cpu_text = ",".join(map(str, cpus))
    for (model, backend, batch), values in sorted(rates.items()):
        print(json.dumps({"bench": "train_step_interleaved", "model": model, "backend": backend, "batch": batch,
                          "threads": args.threads, "cpus": cpu_text, "slices": len(values),
                          "slice_s": args.slice_seconds, "median_samples_per_s": round(statistics.median(values), 1),
                          "min": round(min(values), 1), "max": round(max(values), 1)}))
    for model, backend, batch in sorted(k for k in rates if k[1] != "pytorch"):
        mine = statistics.median(rates[(model, backend, batch)])
        theirs = statistics.median(rates[(model, "pytorch", batch)])
        out = {"bench": "train_step_ratio", "model": model, "backend": backend, "batch": batch, "threads": args.threads,
               "cpus": cpu_text, "samples_per_s": round(mine, 1), "pytorch_samples_per_s": round(theirs, 1),
               "pytorch_blas": blas["blas"]}
        if refusal:
            out["no_ratio"] = refusal
        else:
            out["speedup_vs_pytorch"] = round(mine / theirs, 3)
        point = table.get((model, backend, batch))
        if point and args.threads == 1:
            out["fraction_of_peak"] = point["fraction_of_peak"]
            if (model, "reference", batch) in table:
                out["speedup_vs_reference"] = round(
                    point["samples_per_s"] / table[(model, "reference", batch)]["samples_per_s"], 3)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
