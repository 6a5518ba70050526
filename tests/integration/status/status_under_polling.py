#!/usr/bin/python3
"""Polling the status endpoint does not slow training: four clients reading /status twenty
times a second each keep the median round wall time within 1.2x of a run nobody polls.

Runs alternate (quiet, polled, quiet, polled: a busy machine slows both alike); each is a
server and three devices for ROUNDS rounds; the statistic is the median of every round's
`wall_s` of the quiet runs against that of the polled runs.

usage: status_under_polling.py EDGEFL_SERVER EDGEFL_DEVICE
"""
import json
import os
import statistics
import sys
import tempfile
import threading
import time

from status_support import Fleet, wait_for

ROUNDS = 12
POLLERS = 4
POLL_HZ = 20
LIMIT = 1.2


def poll(fleet, stop, counts, i):
    period = 1.0 / POLL_HZ
    next_at = time.monotonic()
    while not stop.is_set():
        status, _, _ = fleet.get("/status")
        assert status == 200, status
        counts[i] += 1
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))


def round_walls(server_bin, device_bin, pollers):
    with tempfile.TemporaryDirectory(prefix="edgefl-polled-") as tmp:
        fleet = Fleet(server_bin, device_bin, tmp, ROUNDS)
        stop = threading.Event()
        counts = [0] * pollers
        threads = [threading.Thread(target=poll, args=(fleet, stop, counts, i)) for i in range(pollers)]
        try:
            for thread in threads:
                thread.start()
            wait_for(lambda: fleet.server.poll() is not None, 120, f"{ROUNDS} rounds")
            assert fleet.server.returncode == 0, fleet.server.communicate()
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            fleet.close()
        lines = [json.loads(line) for line in open(os.path.join(tmp, "server", "metrics.jsonl"))]
        assert len(lines) == ROUNDS, len(lines)
        for count in counts:  # every client really polled at about its rate, the whole run
            elapsed = lines[-1]["elapsed_s"]
            assert count >= 0.5 * POLL_HZ * elapsed, (count, elapsed)
        # Round 1 waits for the devices to join: not a round's work.
        return [line["wall_s"] for line in lines[1:]]


def main():
    server_bin, device_bin = sys.argv[1:3]
    quiet, polled = [], []
    for _ in range(2):
        quiet += round_walls(server_bin, device_bin, 0)
        polled += round_walls(server_bin, device_bin, POLLERS)
    ratio = statistics.median(polled) / statistics.median(quiet)
    print(f"median round wall: {statistics.median(quiet) * 1e3:.1f} ms quiet, "
          f"{statistics.median(polled) * 1e3:.1f} ms with {POLLERS} clients at {POLL_HZ} Hz: ratio {ratio:.3f}")
    assert ratio <= LIMIT, f"polling slowed rounds {ratio:.2f}x (limit {LIMIT}x)"


if __name__ == "__main__":
    main()
