#!/usr/bin/env python3
"""qemu scenario: decentralised training (DPSGD) on a ring of a native edgefl-server's topology
service, two native edgefl-devices and one aarch64 edgefl-device under qemu-user, for STEPS
steps on small Fashion-MNIST shards. Each device persists its parameters every step; the
emulated device's parameters after the last step must equal, within TOLERANCE per parameter,
those of a native edgefl-device in its place (the same ring run again with native devices
only: same ids, shards, seeds and initial model). No neighbour may miss a step (a fold would
change the mixing), which the generous step deadline makes sure of.

  dpsgd_ring.py --server S --native-device D --state-diff T --aarch64 BUILD --work DIR [--model SPEC]
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

STEPS = 10
DEVICES = 3            # a ring of three: every device is next to the other two
SAMPLES = 128          # per device: emulated float math is ~400x slower
TIME_SCALE = 20        # heartbeats and deadlines, for the emulated device's sake
TOLERANCE = 1e-4       # per parameter; ARM and x86 XNNPACK kernels sum in different orders


def server_argv(server, state_dir, model):
    return [server, "--model", model, "--data", "fashion-mnist", "--eval-samples", "500",
            "--rounds", str(STEPS), "--round-min-devices", str(DEVICES), "--seed", "7",
            "--strategy-name", "dpsgd", "--dpsgd-topology", "ring", "--dpsgd-report-interval", "1",
            "--dpsgd-step-deadline-s", "5", "--train-optimizer", "momentum",
            "--train-learning-rate", "0.05", "--train-batch-size", "32",
            "--endpoint", "tcp://127.0.0.1:*", "--state-dir", state_dir,
            "--time-scale", str(TIME_SCALE), "--quiet"]


def device_argv(launch, endpoint, index, work, run):
    return launch + ["--endpoint", endpoint, "--device-id", "d%d" % index,
                     "--data", "fashion-mnist", "--partition-scheme", "iid",
                     "--partition-count", str(DEVICES), "--partition-index", str(index),
                     "--partition-max-samples", str(SAMPLES),
                     "--state-dir", state_dir(work, run, index),
                     "--peer-listen", "tcp://127.0.0.1:*", "--peer-persist-interval", "1",
                     "--memory-budget", "64M", "--time-scale", str(TIME_SCALE), "--quiet"]


def state_dir(work, run, index):
    return os.path.join(work, run, "state-d%d" % index)


def ring(args, run, launchers, deadline_s):
    """One run of the ring; returns the server's metrics lines."""
    return harness.run_fleet(args.work, run, lambda state: server_argv(args.server, state, args.model),
                             lambda index, endpoint: device_argv(launchers[index], endpoint, index, args.work, run),
                             len(launchers), deadline_s)


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--server", "--native-device", "--state-diff", "--aarch64", "--work"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--model", default="mlp:784-32-10")
    args = parser.parse_args()
    a64_launcher, a64_device = harness.cross_build(args.aarch64, "aarch64")
    shutil.rmtree(args.work, ignore_errors=True)
    for run in ("emulated", "native"):
        os.makedirs(os.path.join(args.work, run))

    emulated_index = DEVICES - 1
    launchers = [[args.native_device]] * (DEVICES - 1) + [[a64_launcher, a64_device]]
    emulated = ring(args, "emulated", launchers, deadline_s=400)
    native = ring(args, "native", [[args.native_device]] * DEVICES, deadline_s=60)

    ok = True
    for run, lines in (("emulated", emulated), ("native", native)):
        if len(lines) != STEPS:
            harness.log("%s: expected %d metrics lines (one per step), the server wrote %d"
                        % (run, STEPS, len(lines)))
            sys.exit(1)
        missed = sum(m["missed"] + m["one_sided_misses"] for m in lines)
        if missed != 0 or any(m["devices"] != DEVICES for m in lines):
            harness.log("%s: a neighbour missed a step or a device did not report: %s" % (run, lines))
            ok = False
    print('{"scenario":"dpsgd_ring","model":"%s","steps":%d,"train_loss":[%s]}'
          % (args.model, STEPS, ",".join("%.4f" % m["train_loss"] for m in emulated)), flush=True)
    for index in range(DEVICES):
        diff = subprocess.run([args.state_diff,
                               os.path.join(state_dir(args.work, "emulated", index), "dpsgd_state"),
                               os.path.join(state_dir(args.work, "native", index), "dpsgd_state"),
                               str(TOLERANCE)], capture_output=True, text=True)
        arch = "aarch64" if index == emulated_index else "x86_64"
        for line in diff.stdout.splitlines():
            print('{"device":"d%d","arch":"%s",%s' % (index, arch, line[1:]), flush=True)
        if diff.returncode != 0:
            harness.log("d%d (%s): parameters after %d steps differ from the native run's by more "
                        "than %g:\n%s%s" % (index, arch, STEPS, TOLERANCE, diff.stdout, diff.stderr))
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
