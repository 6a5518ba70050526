#!/usr/bin/env python3
"""vm scenario: the rpi-aarch64 .deb on a whole emulated board (scripts/vm: Debian arm64 with
systemd under qemu-system-aarch64), a power cut mid-round, and a clean stop.

Two native edgefl-servers on 127.0.0.1 (the guest reaches them at 10.0.2.2), 2 rounds each,
one device. First boot: `apt install ./edgefl-device_*.deb`, `systemctl enable edgefl-device`,
`sync` (the image mounts its root with commit=60: only what is synced survives the cut),
`systemctl start` with a test drop-in in /run whose simulated outage takes the link down right
after the first update leaves: server A applies it, the Ack never arrives, the update stays in
the outbox. When A has closed round 1 with it, qemu is killed (the power cut). Second boot of
the same disks: systemd starts the agent at boot, it resends the update from its outbox, A
answers Ack(duplicate) without applying it again, round 2 runs, the run finishes, and the
journal (its own file system) shows the agent's start in both boots. Then against server B: the
same outage, `systemctl stop` while the update waits unacknowledged, start again: the kept
update is resent, nothing is lost, the run finishes.

  power_cut.py --server S --deb-dir DIR --vm scripts/vm --work DIR
"""
import argparse
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "qemu", "cross_runs"))
import harness  # noqa: E402

ROUNDS = 2
TIME_SCALE = 20         # the server's heartbeats and deadlines, for the emulated board's sake
# The agent's own time-outs (send, linger, backoff): a send with no server blocks for 5 s times
# this, and `systemctl stop` must end within the unit's 90 s even then.
DEVICE_TIME_SCALE = 2
BOOT_S = 300             # one boot up to the guest's test script, generously (TCG, shared host)
FIRST_BOOT_S = 2 * BOOT_S  # the boot, the package install, the first round
SECOND_BOOT_S = 3 * BOOT_S  # the boot, the rest of A's run, all of B's
MODEL = "mlp:4-8-3:relu"


def fail(message):
    harness.log("FAILED: " + message)
    sys.exit(1)


def required_or_skip(message):
    required = os.environ.get("EDGEFL_VM_REQUIRED") == "1"
    harness.log("%s: %s" % ("FAILED" if required else "SKIPPED", message))
    sys.exit(1 if required else harness.SKIP)


def find_deb(deb_dir):
    debs = sorted(glob.glob(os.path.join(deb_dir, "edgefl-device_*_arm64.deb")))
    if not debs:
        required_or_skip("no edgefl-device_*_arm64.deb in %s; scripts/test makes it "
                         "(cmake --build --preset rpi-aarch64 && cd build/rpi-aarch64 && cpack)" % deb_dir)
    return debs[-1]


def check_vm(vm):
    if shutil.which("qemu-system-aarch64") is None:
        required_or_skip("qemu-system-aarch64 is missing (scripts/bootstrap --vm)")
    image_dir = os.environ.get("EDGEFL_VM_DIR", os.path.join(os.path.dirname(vm), "..", "build", "vm"))
    if not os.path.exists(os.path.join(image_dir, "image.key")):
        required_or_skip("no board image in %s: run scripts/vm build (as root) first" % os.path.abspath(image_dir))


def write_data(path, seed):
    """Three Gaussian blobs in 4 dimensions, 96 rows, label last."""
    rng = random.Random(seed)
    centres = [(0, 0, 0, 0), (3, 3, 0, 0), (0, 3, 3, 3)]
    with open(path, "w") as f:
        f.write("a,b,c,d,label\n")
        for row in range(96):
            label = row % 3
            f.write(",".join("%.4f" % (c + rng.gauss(0, 0.5)) for c in centres[label]) + ",%d\n" % label)


def device_toml(port, device_id):
    return ('endpoint = "tcp://10.0.2.2:%d"\n'
            'device_id = "%s"\n'
            'data = "csv:/etc/edgefl/vm-data.csv:label=label"\n'
            'memory_budget = "32M"\n'
            'threads = 1\n'
            'time_scale = %d\n'
            'quiet = false\n' % (port, device_id, DEVICE_TIME_SCALE))


def server_argv(server, state_dir):
    # Deadlines an hour long (times the scale): round 2 must wait through the power cut and a
    # boot; the test, not the server, bounds the time.
    return [server, "--model", MODEL, "--data", "none", "--rounds", str(ROUNDS),
            "--round-min-devices", "1", "--round-deadline-s", "3600", "--round-join-timeout-s", "3600",
            "--seed", "7", "--train-learning-rate", "0.1", "--train-batch-size", "16",
            "--train-local-epochs", "1", "--endpoint", "tcp://127.0.0.1:*", "--state-dir", state_dir,
            "--time-scale", str(TIME_SCALE), "--quiet"]


def make_share(path, files):
    """A tar file for the guest's share disk (/dev/vdc): {name in the tar: source path}."""
    with tarfile.open(path, "w") as tar:
        for name, source in files.items():
            tar.add(source, arcname=name)


def metrics(state_dir):
    path = os.path.join(state_dir, "metrics.jsonl")
    return harness.read_metrics(path) if os.path.exists(path) else []


def reports(path):
    """The guest's "report KEY VALUE" lines."""
    facts = {}
    with open(path, errors="replace") as f:
        for line in f:
            match = re.match(r"report (\S+) (.*)$", line.rstrip("\n"))
            if match:
                facts[match.group(1)] = match.group(2)
    return facts


def tail(path, lines=40):
    if not os.path.exists(path):
        return "(no %s)\n" % path
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])


class Board:
    """One qemu process booting the board's disks; kill() is the power cut. Every board is killed when
    the test ends, whichever way."""

    all = []

    def __init__(self, vm, disks, share, work, name):
        self.report = os.path.join(work, name + ".report")
        self.console = os.path.join(work, name + ".console")
        argv = [vm, "boot", disks, "--share", share, "--report", self.report, "--console", self.console]
        harness.log("boot %s: %s" % (name, " ".join(argv)))
        self.started = time.monotonic()
        self.process = subprocess.Popen(argv)
        self.name = name
        Board.all.append(self)

    def elapsed(self):
        return time.monotonic() - self.started

    def wait_for(self, what, condition, deadline_s):
        while not condition():
            log = tail(self.report, 1000)
            if "Failed with result" in log or re.search(r"^vm-share: run exited with status [1-9]", log, re.M):
                self.kill()
                self.dump()
                fail("%s: the agent or the guest's script failed before %s" % (self.name, what))
            if self.process.poll() is not None:
                self.dump()
                fail("%s: qemu exited (%s) before %s" % (self.name, self.process.returncode, what))
            if self.elapsed() > deadline_s:
                self.kill()
                self.dump()
                fail("%s: no %s after %.0f s" % (self.name, what, deadline_s))
            time.sleep(0.2)
        harness.log("%s: %s after %.1f s" % (self.name, what, self.elapsed()))

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def dump(self):
        harness.log("%s: the guest's report ends:\n%s\n%s: the console ends:\n%s"
                    % (self.name, tail(self.report), self.name, tail(self.console, 15)))


def expect(ok, what, failures):
    harness.log(("ok: " if ok else "WRONG: ") + what)
    if not ok:
        failures.append(what)


def check_run(name, rounds, failures):
    """Two rounds, each with the one device's update applied once; exactly one resend, acked as
    a duplicate; nothing refused."""
    expect(len(rounds) == ROUNDS, "%s: %d rounds closed (want %d)" % (name, len(rounds), ROUNDS), failures)
    for m in rounds:
        expect(m["answered"] == 1, "%s round %d: %d updates applied (want 1)" % (name, m["round"], m["answered"]),
               failures)
    duplicates = sum(m["duplicates"] for m in rounds)
    expect(duplicates == 1, "%s: %d resends acknowledged as duplicates (want 1: the kept update)"
           % (name, duplicates), failures)
    refused = sum(m["rejected"] + m["late"] for m in rounds)
    expect(refused == 0, "%s: %d updates refused or late (want 0)" % (name, refused), failures)


def check_end(who, key, facts, failures):
    """The agent did its part of the run and ended cleanly: systemd saw no failure and no
    restart; it exited 0 on the server's Bye, or was stopped (exit 130) after the Bye was lost
    with the server's exit, its outbox empty or, when the server was gone before the last Ack
    reached the agent, holding only the last update (which check_run saw applied)."""
    end = {name: facts.get("%s.%s" % (key, name))
           for name in ("ended", "result", "exit_status", "restarts", "outbox_ids")}
    kept = (end["outbox_ids"] or "").split()
    expected_exit = "0" if end["ended"] == "exited" else "130"
    allowed = [outbox_id(ROUNDS)] if end["ended"] == "server-gone" else []
    expect(end["result"] == "success" and end["restarts"] == "0" and end["exit_status"] == expected_exit
           and all(entry in allowed for entry in kept),
           "%s ended cleanly: %s" % (who, " ".join("%s=%s" % item for item in end.items())), failures)
    if end["ended"] != "exited":
        harness.log("note: %s did not hear the server's Bye (%s) and was stopped" % (who, end["ended"]))


def outbox_id(task_id):
    """The outbox file of an update (edgefl-device's UpstreamSession::outbox_id)."""
    return "u%020d.upd" % task_id


def run(args, deb, work, disks):
    start = time.monotonic()
    share_dir = os.path.join(HERE, "share")
    with harness.Processes(work) as processes:
        servers = {}
        for name in ("a", "b"):
            state = os.path.join(work, "server-" + name)
            processes.start("server-" + name, server_argv(args.server, state))
            endpoint = harness.server_endpoint(processes, "server-" + name)
            port = int(endpoint.rsplit(":", 1)[1])
            with open(os.path.join(work, "device-%s.toml" % name), "w") as f:
                f.write(device_toml(port, "vm-board"))
            servers[name] = state
        common = {"common.sh": os.path.join(share_dir, "common.sh"),
                  "outage.conf": os.path.join(share_dir, "outage.conf"),
                  "data.csv": os.path.join(work, "data.csv")}
        first_share = os.path.join(work, "first.tar")
        make_share(first_share, dict(common, **{"run": os.path.join(share_dir, "first-boot"),
                                                os.path.basename(deb): deb,
                                                "device-a.toml": os.path.join(work, "device-a.toml")}))
        second_share = os.path.join(work, "second.tar")
        make_share(second_share, dict(common, **{"run": os.path.join(share_dir, "second-boot"),
                                                 "device-b.toml": os.path.join(work, "device-b.toml")}))

        # First boot: cut the power once A has applied the update whose Ack the outage swallows.
        first = Board(args.vm, disks, first_share, work, "first-boot")
        first.wait_for("round 1 closed on server A", lambda: len(metrics(servers["a"])) >= 1, FIRST_BOOT_S)
        first.kill()
        cut_s = first.elapsed()
        harness.log("power cut %.1f s after the first boot started" % cut_s)
        if processes.exited("server-a"):
            fail("server A ended before the power cut:\n" + processes.tail("server-a"))

        second = Board(args.vm, disks, second_share, work, "second-boot")
        second.wait_for("the guest's poweroff", lambda: second.process.poll() is not None, SECOND_BOOT_S)
        codes = processes.wait_all(60)
        if not harness.check_exit_codes(processes, codes):
            second.dump()
            fail("a server did not finish its run")
    harness.log("both boots and runs: %.0f s" % (time.monotonic() - start))

    facts = reports(second.report)
    if facts.get("restart.outbox") is None:
        second.dump()
        fail("the second boot's script did not finish")
    failures = []
    # The power cut.
    check_run("server A (power cut)", metrics(servers["a"]), failures)
    check_end("after the cut, the agent systemd started at boot", "cut", facts, failures)
    expect(facts.get("cut.boot_counter") == "2",
           "the agent's boot counter is %s (want 2: the start cut off and the one after)"
           % facts.get("cut.boot_counter"), failures)
    expect(facts.get("journal_fs") == "/dev/vdb",
           "the journal has its own file system (/var/log/journal on %s)" % facts.get("journal_fs"), failures)
    expect(facts.get("cut.journal_boots") == "2",
           "journalctl -u edgefl-device has lines from %s boots (want 2)" % facts.get("cut.journal_boots"),
           failures)
    # The clean stop.
    check_run("server B (clean stop)", metrics(servers["b"]), failures)
    expect(facts.get("stop.outbox_before") == "1",
           "before systemctl stop the outbox holds %s update(s) (want 1)" % facts.get("stop.outbox_before"), failures)
    expect(facts.get("stop.result") == "success",
           "systemctl stop: unit result %s, exit %s (want success)"
           % (facts.get("stop.result"), facts.get("stop.exit_status")), failures)
    expect(facts.get("stop.outbox") == "1",
           "after systemctl stop the outbox still holds %s update(s) (want 1)" % facts.get("stop.outbox"), failures)
    check_end("started again after the stop, the agent", "restart", facts, failures)
    if failures:
        second.dump()
        fail("%d check(s) failed" % len(failures))
    print('{"scenario":"vm_power_cut","power_cut_after_s":%.1f,"second_boot_s":%.1f,"total_s":%.1f}'
          % (cut_s, second.elapsed(), time.monotonic() - start), flush=True)


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--server", "--deb-dir", "--vm", "--work"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    deb = find_deb(args.deb_dir)
    check_vm(args.vm)
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    disks = os.path.join(work, "disks")
    subprocess.run([args.vm, "disks", disks], check=True)
    write_data(os.path.join(work, "data.csv"), seed=3)
    try:
        run(args, deb, work, disks)
    finally:
        for board in Board.all:
            board.kill()
    shutil.rmtree(work, ignore_errors=True)  # the root's overlay grows to hundreds of MB


if __name__ == "__main__":
    main()
