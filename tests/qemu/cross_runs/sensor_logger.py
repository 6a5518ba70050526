#!/usr/bin/env python3
"""qemu scenario: firmware_examples/sensor-logger, built for both Raspberry Pi targets against
the installed edgefl package (scripts/test: <cross build>/sensor-logger), runs under qemu-user
against a native edgefl-server: each logger replays a CSV of temperature readings, keeps a
bounded history and trains linear:8-1 (next reading from the last 8) for every round; the
round's mean training loss falls.

  sensor_logger.py --server S --aarch64 BUILD --armhf BUILD --work DIR
"""
import argparse
import json
import math
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROUNDS = 3
TIME_SCALE = 20


def logger_binary(build, arch):
    launcher, _ = harness.cross_build(build, arch)
    logger = os.path.join(build, "sensor-logger", "edgefl-sensor-logger")
    if not os.path.exists(logger):
        required = os.environ.get("EDGEFL_QEMU_REQUIRED") == "1"
        harness.log("%s: %s is missing; scripts/test builds it against `cmake --install %s` "
                    "(see firmware_examples/sensor-logger/CMakeLists.txt)"
                    % ("FAILED" if required else "SKIPPED", logger, build))
        sys.exit(1 if required else harness.SKIP)
    return [launcher, logger]


def write_readings(path, phase, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("seconds,celsius\n")
        for t in range(400):
            f.write("%d,%.3f\n" % (t, 50 + 6 * math.sin(t / 12 + phase) + rng.gauss(0, 0.2)))


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--server", "--aarch64", "--armhf", "--work"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    loggers = [("aarch64", logger_binary(args.aarch64, "aarch64")), ("armhf", logger_binary(args.armhf, "armhf"))]
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)

    state = os.path.join(args.work, "server")
    with harness.Processes(args.work) as processes:
        processes.start("server", [args.server, "--model", "linear:8-1", "--data", "none", "--rounds", str(ROUNDS),
                                   "--round-min-devices", "2", "--train-learning-rate", "0.05",
                                   "--endpoint", "tcp://127.0.0.1:*", "--state-dir", state,
                                   "--time-scale", str(TIME_SCALE), "--quiet"])
        endpoint = harness.server_endpoint(processes, "server")
        for index, (arch, launch) in enumerate(loggers):
            readings = os.path.join(args.work, "readings-%s.csv" % arch)
            write_readings(readings, phase=index, seed=index + 1)
            processes.start(arch, launch + ["--endpoint", endpoint, "--device-id", "logger-" + arch,
                                            "--sensor-source", "csv:" + readings, "--sensor-readings", "0",
                                            "--sensor-capacity", "256", "--max-tasks", str(ROUNDS),
                                            "--state-dir", os.path.join(args.work, "state-" + arch),
                                            "--time-scale", str(TIME_SCALE), "--quiet"])
        codes = processes.wait_all(300)
        if not harness.check_exit_codes(processes, codes):
            sys.exit(1)
        reports = {}
        for arch, _ in loggers:
            lines = [l for l in processes.tail(arch, 5).splitlines() if l.startswith("{")]
            reports[arch] = json.loads(lines[-1]) if lines else {}

    ok = True
    for arch, report in reports.items():
        print(json.dumps({"scenario": "sensor_logger", "arch": arch, **report}), flush=True)
        # The history keeps 256 readings: 248 windows of 8 with the next reading as target.
        if report.get("samples") != 248 or report.get("updates_acked") != ROUNDS:
            harness.log("%s: expected 248 samples and %d acknowledged updates, got %s" % (arch, ROUNDS, report))
            ok = False
    metrics = harness.read_metrics(os.path.join(state, "metrics.jsonl"))
    losses = [m["train_loss"] for m in metrics]
    print(json.dumps({"scenario": "sensor_logger", "rounds": len(metrics), "train_loss": losses}), flush=True)
    if len(metrics) != ROUNDS or not losses[-1] < losses[0]:
        harness.log("expected %d rounds with a falling training loss, got %s" % (ROUNDS, losses))
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
