#!/usr/bin/env python3
"""qemu scenario: a native edgefl-server with two aarch64 devices and one armhf device under
qemu-user completes FedAvg rounds on small Fashion-MNIST shards; the global model's accuracy
rises; and each emulated device's update equals, within a relative tolerance, the update a
native edgefl-device computes for the same shard, seed and global model (the same federation
run again with native devices; updates captured with --save-updates). --model picks the model
(default the MLP; the small CNN of examples/models runs as its own ctest).

  federated.py --server S --native-device D --update-diff U --aarch64 BUILD --armhf BUILD --work DIR
               [--model SPEC] [--min-accuracy A]
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROUNDS = 2
SAMPLES = 128          # per device: emulated float math is ~400x slower
TIME_SCALE = 20        # heartbeats and deadlines, for the emulated devices' sake
TOLERANCE = 1e-4       # ARM and x86 XNNPACK kernels sum in different orders


def server_argv(server, state_dir, model):
    return [server, "--model", model, "--data", "fashion-mnist", "--eval-samples", "2000",
            "--rounds", str(ROUNDS), "--round-min-devices", "3", "--seed", "7",
            "--train-learning-rate", "0.05", "--train-batch-size", "32", "--train-local-epochs", "2",
            "--endpoint", "tcp://127.0.0.1:*", "--state-dir", state_dir,
            "--time-scale", str(TIME_SCALE), "--quiet"]


def device_argv(launch, endpoint, index, work, run):
    return launch + ["--endpoint", endpoint, "--device-id", "d%d" % index,
                     "--data", "fashion-mnist", "--partition-scheme", "iid", "--partition-count", "3",
                     "--partition-index", str(index), "--partition-max-samples", str(SAMPLES),
                     "--state-dir", os.path.join(work, run, "state-d%d" % index),
                     "--save-updates", os.path.join(work, run, "updates-d%d" % index),
                     "--memory-budget", "64M", "--max-tasks", str(ROUNDS),
                     "--time-scale", str(TIME_SCALE), "--quiet"]


def federation(args, run, launchers, deadline_s):
    """One run of the federation; returns the server's metrics lines."""
    return harness.run_fleet(args.work, run, lambda state: server_argv(args.server, state, args.model),
                             lambda index, endpoint: device_argv(launchers[index], endpoint, index, args.work, run),
                             len(launchers), deadline_s)


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--server", "--native-device", "--update-diff", "--aarch64", "--armhf", "--work"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--model", default="mlp:784-32-10")
    parser.add_argument("--min-accuracy", type=float, default=0.2,
                        help="the last round's accuracy must exceed this (and the first round's)")
    args = parser.parse_args()
    a64_launcher, a64_device = harness.cross_build(args.aarch64, "aarch64")
    hf_launcher, hf_device = harness.cross_build(args.armhf, "armhf")
    shutil.rmtree(args.work, ignore_errors=True)
    for run in ("emulated", "native"):
        os.makedirs(os.path.join(args.work, run))

    emulated = federation(args, "emulated", [[a64_launcher, a64_device], [a64_launcher, a64_device],
                                             [hf_launcher, hf_device]], deadline_s=400)
    native = federation(args, "native", [[args.native_device]] * 3, deadline_s=60)

    ok = True
    if len(emulated) != ROUNDS or len(native) != ROUNDS:
        harness.log("expected %d rounds, the server logged %d (emulated) and %d (native)"
                    % (ROUNDS, len(emulated), len(native)))
        sys.exit(1)
    accuracy = [m["test_accuracy"] for m in emulated]
    print('{"scenario":"federated","model":"%s","rounds":%d,"accuracy":[%s],"round_wall_s":[%s]}'
          % (args.model, ROUNDS, ",".join("%.4f" % a for a in accuracy),
             ",".join("%.2f" % m["wall_s"] for m in emulated)), flush=True)
    if not (accuracy[-1] > accuracy[0] and accuracy[-1] > args.min_accuracy):
        harness.log("the global model's accuracy did not rise: %s" % accuracy)
        ok = False
    for m in emulated:
        if m["answered"] != 3 or m["rejected"] != 0:
            harness.log("round %d: %d of 3 devices answered, %d rejected" % (m["round"], m["answered"], m["rejected"]))
            ok = False
    for index, arch in enumerate(("aarch64", "aarch64", "armhf")):
        diff = subprocess.run([args.update_diff, os.path.join(args.work, "emulated", "updates-d%d" % index),
                               os.path.join(args.work, "native", "updates-d%d" % index), str(TOLERANCE)],
                              capture_output=True, text=True)
        for line in diff.stdout.splitlines():
            print('{"device":"d%d","arch":"%s",%s' % (index, arch, line[1:]), flush=True)
        if diff.returncode != 0:
            harness.log("d%d (%s): update differs from the native one by more than %g relative:\n%s%s"
                        % (index, arch, TOLERANCE, diff.stdout, diff.stderr))
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
