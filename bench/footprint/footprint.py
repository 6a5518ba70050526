#!/usr/bin/env python3
"""Footprint report of edgefl-device: one JSON object per line on stdout, a table on stderr.

  bench/footprint/footprint.py [--native build/native] [--cross build/rpi-aarch64 build/rpi-armhf]

For every build given (those that exist): the binary's size stripped (with the toolchain's
strip; system shared libraries are not part of it) against the 1.5 MB goal, and its shared
library dependencies (ELF NEEDED). For the native build also the peak resident memory of
edgefl-device while it trains mlp:784-256-128-10 at batch 32 on its Fashion-MNIST shard
(6000 samples, 1/10 of the training set) for one round of a local edgefl-server, against the
24 MB goal (VmHWM of the process, from wait4's ru_maxrss).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BINARY_GOAL = int(1.5 * 1024 * 1024)
RSS_GOAL = 24 * 1024 * 1024
STRIP = {"x86_64": "strip", "aarch64": "aarch64-linux-gnu-strip", "armv7l": "arm-linux-gnueabihf-strip"}


def elf_arch(path):
    header = subprocess.run(["readelf", "-h", path], capture_output=True, text=True, check=True).stdout
    machine = re.search(r"Machine:\s+(.*)", header).group(1)
    return {"AArch64": "aarch64", "ARM": "armv7l"}.get(machine, "x86_64")


def size_report(build):
    binary = os.path.join(build, "device", "app", "edgefl-device")
    arch = elf_arch(binary)
    with tempfile.TemporaryDirectory() as tmp:
        stripped = os.path.join(tmp, "edgefl-device")
        subprocess.run([STRIP[arch], "-o", stripped, binary], check=True)
        size = os.path.getsize(stripped)
        sections = subprocess.run(["size", "-A", stripped], capture_output=True, text=True).stdout
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic)
    biggest = {}
    for line in sections.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            biggest[parts[0]] = int(parts[1])
    top = dict(sorted(biggest.items(), key=lambda kv: -kv[1])[:3])
    return {"bench": "footprint", "metric": "binary", "arch": arch, "stripped_bytes": size,
            "goal_bytes": BINARY_GOAL, "ratio_to_goal": round(size / BINARY_GOAL, 3),
            "largest_sections": top, "needed": needed}


def rss_report(build):
    server = os.path.join(build, "server", "app", "edgefl-server")
    device = os.path.join(build, "device", "app", "edgefl-device")
    work = tempfile.mkdtemp(prefix="edgefl-footprint-")
    try:
        server_log = open(os.path.join(work, "server.log"), "w+")
        server_process = subprocess.Popen(
            [server, "--model", "mlp:784-256-128-10", "--data", "none", "--rounds", "1",
             "--round-min-devices", "1", "--train-batch-size", "32", "--train-local-epochs", "1",
             "--endpoint", "tcp://127.0.0.1:*", "--state-dir", os.path.join(work, "server"), "--quiet"],
            stdout=server_log, stderr=subprocess.STDOUT)
        endpoint = None
        deadline = time.monotonic() + 30
        while endpoint is None and time.monotonic() < deadline and server_process.poll() is None:
            server_log.seek(0)
            match = re.search(r"listening on (tcp://\S+?),", server_log.read())
            endpoint = match.group(1) if match else None
            time.sleep(0.05)
        if endpoint is None:
            server_process.kill()
            sys.exit("footprint: the server did not start: " + open(server_log.name).read())
        device_process = subprocess.Popen(
            [device, "--endpoint", endpoint, "--device-id", "footprint", "--data", "fashion-mnist",
             "--partition-scheme", "iid", "--partition-count", "10", "--partition-index", "0",
             "--max-tasks", "1", "--state-dir", os.path.join(work, "device"), "--quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(device_process.pid, 0)
        device_process.returncode = os.waitstatus_to_exitcode(status)
        server_process.wait(timeout=60)
        if device_process.returncode != 0:
            sys.exit("footprint: edgefl-device failed: " + device_process.stderr.read().decode())
        peak = usage.ru_maxrss * 1024  # kilobytes on Linux
        return {"bench": "footprint", "metric": "peak_rss", "arch": elf_arch(device),
                "model": "mlp:784-256-128-10", "batch": 32, "shard_samples": 6000,
                "peak_rss_bytes": peak, "goal_bytes": RSS_GOAL, "ratio_to_goal": round(peak / RSS_GOAL, 3)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--native", default="build/native")
    parser.add_argument("--cross", nargs="*", default=["build/rpi-aarch64", "build/rpi-armhf"])
    args = parser.parse_args()
    reports = []
    for build in [args.native] + args.cross:
        if os.path.exists(os.path.join(build, "device", "app", "edgefl-device")):
            reports.append(size_report(build))
        else:
            print("footprint: no edgefl-device in %s, skipped" % build, file=sys.stderr)
    if os.path.exists(os.path.join(args.native, "server", "app", "edgefl-server")):
        reports.append(rss_report(args.native))
    for report in reports:
        print(json.dumps(report), flush=True)
    print("%-8s %-9s %12s %10s  %s" % ("arch", "metric", "bytes", "x goal", "notes"), file=sys.stderr)
    for r in reports:
        value = r.get("stripped_bytes", r.get("peak_rss_bytes"))
        notes = " ".join(r["needed"]) if "needed" in r else "%s batch %d" % (r["model"], r["batch"])
        print("%-8s %-9s %12d %10.2f  %s" % (r["arch"], r["metric"], value, r["ratio_to_goal"], notes), file=sys.stderr)


if __name__ == "__main__":
    main()
