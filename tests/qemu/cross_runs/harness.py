"""Shared pieces of the qemu scenario drivers: find the cross builds, start processes with
deadlines, read the server's metrics. Python 3 standard library only."""
import json
import os
import re
import subprocess
import sys
import time

SKIP = 77  # ctest SKIP_RETURN_CODE


def log(message):
    print(message, file=sys.stderr, flush=True)


def cross_build(path, arch):
    """The launcher and device binary of a cross build, or a loud skip/fail when missing.

    Missing cross builds fail when EDGEFL_QEMU_REQUIRED=1 (scripts/test and the `qemu` test
    preset set it after building them) and skip otherwise, so a plain native ctest run passes
    on a machine without the Raspberry Pi builds."""
    launcher = os.path.join(path, "run-under-qemu")
    device = os.path.join(path, "device", "app", "edgefl-device")
    missing = [p for p in (launcher, device) if not os.path.exists(p)]
    if missing:
        required = os.environ.get("EDGEFL_QEMU_REQUIRED") == "1"
        log("%s: the %s cross build is missing (%s). Build it first:\n"
            "    scripts/make-sysroot arm64 armhf && cmake --preset rpi-%s && cmake --build --preset rpi-%s"
            % ("FAILED" if required else "SKIPPED", arch, ", ".join(missing), arch, arch))
        sys.exit(1 if required else SKIP)
    return launcher, device


def server_endpoint(processes, name, deadline_s=30):
    """The endpoint a server started with tcp://127.0.0.1:* bound, read from its log."""
    end = time.monotonic() + deadline_s
    path = os.path.join(processes.work, name + ".log")
    while time.monotonic() < end:
        with open(path) as f:
            for line in f:
                match = re.search(r"listening on (tcp://\S+?),", line)
                if match:
                    return match.group(1)
        if processes.exited(name):
            break
        time.sleep(0.05)
    log("%s did not report its endpoint; its log ends:\n%s" % (name, processes.tail(name)))
    sys.exit(1)


class Processes:
    """Started processes, each with its log file; every one is killed on exit."""

    def __init__(self, work):
        self.work = work
        self.running = []

    def start(self, name, argv):
        out = open(os.path.join(self.work, name + ".log"), "w")
        log("start %s: %s" % (name, " ".join(argv)))
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.running.append((name, process, out))
        return process

    def exited(self, name):
        return any(n == name and p.poll() is not None for n, p, _ in self.running)

    def wait_all(self, deadline_s):
        """Waits for every process; returns {name: exit code}, killing any past the deadline."""
        end = time.monotonic() + deadline_s
        codes = {}
        for name, process, out in self.running:
            try:
                codes[name] = process.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = "killed after %.0f s" % deadline_s
            out.close()
        self.running = []
        return codes

    def tail(self, name, lines=15):
        with open(os.path.join(self.work, name + ".log")) as f:
            return "".join(f.readlines()[-lines:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for _, process, out in self.running:
            process.kill()
            process.wait()
            out.close()


def check_exit_codes(processes, codes):
    bad = {name: code for name, code in codes.items() if code != 0}
    for name in bad:
        log("%s exited with %s; its log ends:\n%s" % (name, bad[name], processes.tail(name)))
    return not bad


def read_metrics(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run_fleet(work, run, server_argv, device_argv, devices, deadline_s):
    """One run: the server (server_argv(state_dir)), then `devices` devices (device_argv(index,
    endpoint)); waits for every process, exits on a failure; returns the server's metrics lines."""
    state = os.path.join(work, run, "server")
    with Processes(os.path.join(work, run)) as processes:
        processes.start("server", server_argv(state))
        endpoint = server_endpoint(processes, "server")
        for index in range(devices):
            processes.start("d%d" % index, device_argv(index, endpoint))
        codes = processes.wait_all(deadline_s)
        if not check_exit_codes(processes, codes):
            sys.exit(1)
    return read_metrics(os.path.join(state, "metrics.jsonl"))
