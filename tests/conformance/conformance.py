#!/usr/bin/python3
"""Conformance suite: the Python device (device.py, written from docs/protocol.md) against the
real edgefl-server, on 127.0.0.1.

  conformance.py CASE --server S --device D --keygen K --generated DIR --work DIR

Cases:
  federation  2 reference devices + the Python device train FedAvg rounds: every update is
              accepted, the model improves; then the same federation with 3 reference devices:
              the Python device's update for the same task equals the reference one (1e-5 rel.)
  rejects     every documented Reject of an Update or Join, duplicates and resends, by hand
  codecs      a device that does not declare the run's upload codec is refused at Join
  curve       CURVE: the device's id is its key's; an unlisted key never gets a session
  restart     the server is killed mid-run and resumed: devices re-join, resend, finish
  peer_wire   1.6 dpsgd messages: the golden buffers read as §14 says; a FedAvg server refuses
              peer models and reports from a device, and a 1.6 Join with a peer endpoint joins
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = "mlp:784-16-10"
SAMPLES = 250         # not a multiple of the batch (32): every epoch ends in a partial batch
TOLERANCE = 1e-5
# AdamW divides each step by sqrt(v): parameters with small gradients carry the float
# summation-order differences of the two implementations at full relative size (6e-6 measured).
ADAMW_TOLERANCE = 5e-5
failures = []


def log(text):
    print(text, file=sys.stderr, flush=True)


def check(condition, text):
    log(("ok    " if condition else "FAIL  ") + text)
    if not condition:
        failures.append(text)
    return condition


class Processes:
    """Started processes with their logs; every one still running is killed at exit."""

    def __init__(self, work):
        self.work, self.running = work, {}

    def start(self, name, argv, env=None):
        out = open(os.path.join(self.work, name + ".log"), "w")
        self.running[name] = (subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env), out)

    def wait(self, name, deadline_s):
        process, out = self.running.pop(name)
        try:
            code = process.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = "killed after %.0f s" % deadline_s
        out.close()
        if code != 0:
            log("%s exited with %s; its log ends:\n%s" % (name, code, self.tail(name)))
        return code

    def kill(self, name):
        process, out = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()
        out.close()

    def tail(self, name, lines=20):
        with open(os.path.join(self.work, name + ".log")) as f:
            return "".join(f.readlines()[-lines:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for process, out in self.running.values():
            process.kill()
            process.wait()
            out.close()


def wait_for(predicate, deadline_s, what):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit("timed out after %.0f s waiting for %s" % (deadline_s, what))


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Run:
    def __init__(self, args, name):
        self.args = args
        self.dir = os.path.join(args.work, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.endpoint_file = os.path.join(self.dir, "endpoint")
        self.state = os.path.join(self.dir, "server")

    def server_argv(self, rounds, devices, extra=(), endpoint="tcp://127.0.0.1:*", resume=False, lr="0.05"):
        argv = [self.args.server, "--model", MODEL,
                "--data", "fashion-mnist", "--eval-samples", "1000", "--rounds", str(rounds),
                "--round-min-devices", str(devices), "--seed", "7", "--train-learning-rate", lr,
                "--train-batch-size", "32", "--train-local-epochs", "1", "--heartbeat-s", "0.2",
                "--endpoint", endpoint, "--endpoint-file", self.endpoint_file, "--state-dir", self.state,
                "--quiet"] + list(extra)
        return argv + (["--resume"] if resume else [])

    def endpoint(self):
        return wait_for(lambda: os.path.exists(self.endpoint_file) and open(self.endpoint_file).read().strip(),
                        20, "the server's endpoint file")

    def metrics(self):
        return read_lines(os.path.join(self.state, "metrics.jsonl"))

    def reference_device(self, name, index, endpoint, rounds):
        return [self.args.device, "--endpoint", endpoint,
                "--device-id", name, "--data", "fashion-mnist", "--partition-scheme", "iid",
                "--partition-count", "3", "--partition-index", str(index),
                "--partition-max-samples", str(SAMPLES), "--state-dir", os.path.join(self.dir, "state-" + name),
                "--save-updates", os.path.join(self.dir, "updates-" + name), "--memory-budget", self.args.device_memory_budget,
                "--max-tasks", str(rounds), "--quiet"]

    def python_device(self, name, index, endpoint, rounds, extra=()):
        return [sys.executable, os.path.join(HERE, "device.py"), "--endpoint", endpoint, "--device-id", name,
                "--partition-count", "3", "--partition-index", str(index),
                "--partition-max-samples", str(SAMPLES), "--state-dir", os.path.join(self.dir, "state-" + name),
                "--save-updates", os.path.join(self.dir, "updates-" + name), "--max-tasks", str(rounds),
                "--give-up-s", "30"] + list(extra)


def python_env(args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([args.generated, HERE])
    return env


def saved_updates(directory):
    import wire
    out = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".update"):
            with open(os.path.join(directory, name), "rb") as f:
                fields = wire.update_fields(f.read())
            out[fields["round"]] = fields
    return out


def federation(args, name, python_ids, rounds=3, extra=(), lr="0.05"):
    run = Run(args, name)
    with Processes(run.dir) as p:
        # A farewell longer than the wait below: the server ends only because every device,
        # Python or edgefl-device, confirms the end with its Bye.
        p.start("server", run.server_argv(rounds, 3, ["--farewell-s", "120"] + list(extra), lr=lr))
        endpoint = run.endpoint()
        for index, device in enumerate(("d0", "d1", "d2")):
            if device in python_ids:
                p.start(device, run.python_device(device, index, endpoint, rounds), env=python_env(args))
            else:
                p.start(device, run.reference_device(device, index, endpoint, rounds))
        codes = {d: p.wait(d, 90) for d in ("d0", "d1", "d2")}
        codes["server"] = p.wait("server", 30)
    check(all(c == 0 for c in codes.values()), "%s: every process exits 0 (%s)" % (name, codes))
    return run


def case_federation(args):
    mixed = federation(args, "mixed", {"d2"})
    metrics = mixed.metrics()
    check(len(metrics) == 3, "mixed: the server closed 3 rounds (%d)" % len(metrics))
    for m in metrics:
        check(m["answered"] == 3 and m["rejected"] == 0,
              "mixed round %d: 3 of 3 updates accepted, none rejected (%d answered, %d rejected)"
              % (m["round"], m["answered"], m["rejected"]))
    accuracy = [m["test_accuracy"] for m in metrics]
    check(len(accuracy) == 3 and accuracy[-1] > accuracy[0] and accuracy[-1] > 0.5,
          "mixed: the global model improves: accuracy %s" % accuracy)

    compare(mixed, federation(args, "reference", set()), "momentum, epochs", TOLERANCE)
    # AdamW state kept across tasks (the Task says so); local steps wrap around a reshuffle
    # (250 / 32 < 12); a cosine lr schedule over global steps and a gradient clip.
    adamw = ["--train-optimizer", "adamw", "--train-weight-decay", "0.01", "--train-local-steps", "12",
             "--train-keep-optimizer-state", "true", "--train-lr-schedule", "cosine",
             "--train-lr-warmup-steps", "5", "--train-lr-total-steps", "30", "--train-clip-norm", "1"]
    compare(federation(args, "mixed-adamw", {"d2"}, extra=adamw, lr="0.002"),
            federation(args, "reference-adamw", set(), extra=adamw, lr="0.002"), "adamw, local steps",
            ADAMW_TOLERANCE)
    # Synchronous data-parallel rounds: each update is one batch's mean gradient (§11.7).
    ddp = ["--strategy-name", "ddp", "--train-optimizer", "adamw"]
    compare(federation(args, "mixed-ddp", {"d2"}, extra=ddp, lr="0.002"),
            federation(args, "reference-ddp", set(), extra=ddp, lr="0.002"), "ddp gradient rounds",
            ADAMW_TOLERANCE)


def compare(mixed, reference, what, tolerance):
    """d2's updates of the two runs, round by round: the Python device's and edgefl-device's."""
    import numpy as np
    ours = saved_updates(os.path.join(mixed.dir, "updates-d2"))
    theirs = saved_updates(os.path.join(reference.dir, "updates-d2"))
    check(sorted(ours) == sorted(theirs) == [1, 2, 3], "both runs saved d2's updates of rounds 1-3")
    for round_ in sorted(set(ours) & set(theirs)):
        a, b = ours[round_]["payload"].astype(np.float64), theirs[round_]["payload"].astype(np.float64)
        relative = float(np.linalg.norm(a - b) / np.linalg.norm(b))
        loss = abs(ours[round_]["train_loss"] - theirs[round_]["train_loss"]) / abs(theirs[round_]["train_loss"])
        print(json.dumps({"training": what, "round": round_, "relative_difference": relative,
                          "norm": float(np.linalg.norm(b)), "train_loss_relative_difference": loss}), flush=True)
        # Round 1's Task is the same bytes in both runs; later ones differ by the aggregate's noise.
        check(relative <= tolerance, "%s, round %d: Python update equals the reference within %g (%.2e)"
              % (what, round_, tolerance, relative))
        check(loss <= tolerance, "%s, round %d: train_loss agrees (%.2e)" % (what, round_, loss))
        check(ours[round_]["steps"] == theirs[round_]["steps"]
              and ours[round_]["sample_count"] == theirs[round_]["sample_count"],
              "%s, round %d: steps and sample_count agree" % (what, round_))


class Client:
    """A hand-driven device connection for the scripted cases."""

    def __init__(self, context, endpoint):
        import zmq
        self.socket = context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)

    def send(self, data):
        self.socket.send(data)

    def next(self, kinds=None, deadline_s=10):
        """The next message, skipping Heartbeats (and Tasks unless asked for)."""
        import wire
        kinds = kinds or ("Welcome", "Ack", "Reject", "Bye")
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.socket.poll(50):
                kind, m = wire.decode(self.socket.recv())
                if kind in kinds:
                    return kind, m
        raise SystemExit("no %s within %.0f s" % ("/".join(kinds), deadline_s))


def expect_reject(client, message, code, update_id, what):
    client.send(message)
    kind, m = client.next()
    check(kind == "Reject" and m["reason"] == code and m["update_id"] == update_id,
          "%s -> Reject{%s, update_id=%s} (got %s %s)" % (what, code, update_id, kind, m))


def case_rejects(args):
    import numpy as np
    import zmq
    import wire
    run = Run(args, "rejects")
    context = zmq.Context()
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(3, 1, ["--round-deadline-s", "600", "--max-devices", "2",
                                                  "--round-max-sample-weight", "1000"]))
        endpoint = run.endpoint()
        c = Client(context, endpoint)
        hb = wire.heartbeat(1, 0)
        expect_reject(c, hb, "unknown_device", None, "Heartbeat before Join")
        task_like = {"task_id": 1, "round": 1, "model_version": 0, "run_id": 0, "base_hash": 0}
        zeros = np.zeros(12730, np.float32)
        early = wire.update(77, task_like, 10, zeros, 0.0, 1, [32])
        expect_reject(c, early, "unknown_device", 77, "Update before Join")
        expect_reject(c, wire.join(None, 1, 100), "invalid_argument", None, "Join without a device id")
        c.send(wire.join("h1", 1, 100, version=0x0200))
        kind, m = c.next()
        check(kind == "Reject" and m["reason"] == "version_mismatch" and "1." in m["message"],
              "Join of major 2 -> Reject{version_mismatch} in 1.x naming the server's version (%s)" % m)
        expect_reject(c, wire.join("h1", 1, 100, memory_budget=4096), "resource_exhausted", None,
                      "Join whose memory budget cannot fit the run")

        c.send(wire.join("h1", 1, 100))
        check(c.next()[0] == "Welcome", "Join -> Welcome")
        kind, task = c.next(("Task",))
        check(task["round"] == 1 and task["params"].size == 12730, "Task of round 1 with 12730 params")
        delta = np.full(task["params"].size, 1e-3, np.float32)
        update = lambda uid, **kw: wire.update(uid, task, kw.pop("samples", 100), kw.pop("delta", delta),
                                               0.5, 1, [32], **kw)
        expect_reject(c, update(10, delta=np.zeros(task["params"].size + 1, np.float32)), "shape_mismatch", 10,
                      "P+1 parameters")
        bad = delta.copy()
        bad[3] = np.nan
        expect_reject(c, update(11, delta=bad), "non_finite", 11, "a NaN in the payload")
        expect_reject(c, update(12, round_=2), "stale", 12, "a round not yet open")
        expect_reject(c, update(13, run_id=task["run_id"] ^ 1), "stale", 13, "another run's update")
        expect_reject(c, update(14, base_hash=task["base_hash"] ^ 1), "stale", 14, "an update on another model")
        expect_reject(c, update(15, base_version=5), "stale", 15, "a base version that is not current")
        expect_reject(c, update(16, samples=101), "out_of_range", 16, "more samples than the Join declared")
        wide = [0] * (task["params"].size + 1)
        expect_reject(c, update(17, partial_sum=(wide, wide, 100, 1)), "shape_mismatch", 17,
                      "a partial sum (1.7) of P+1 parameters")

        c.send(wire.reject("internal", "a device's Reject is only logged"))
        c.send(wire.heartbeat(2, 0))
        kind, m = c.next(("Heartbeat", "Reject"))
        check(kind == "Heartbeat", "a device's Reject gets no answer (next: %s %s)" % (kind, m))

        good = update(20)
        c.send(good)
        kind, m = c.next()
        check(kind == "Ack" and m["update_id"] == 20 and m["status"] == "accepted", "update -> Ack{accepted} (%s)" % m)
        c.send(good)
        kind, m = c.next()
        check(kind == "Ack" and m["update_id"] == 20 and m["status"] == "duplicate",
              "the same bytes again -> Ack{duplicate} of its id (%s)" % m)
        c.send(update(21))
        kind, m = c.next()
        check(kind == "Ack" and m["update_id"] == 21 and m["status"] == "duplicate",
              "another update id for the same round -> Ack{duplicate} naming that id (%s)" % m)

        second = Client(context, endpoint)
        second.send(wire.join("h2", 1, 100))
        check(second.next()[0] == "Welcome", "a second device joins (max_devices 2)")
        third = Client(context, endpoint)
        expect_reject(third, wire.join("h3", 1, 100), "unavailable", None, "a Join when the server is full")
        p.kill("server")
    context.destroy(0)


def case_standardize(args):
    import numpy as np
    import zmq
    import wire
    run = Run(args, "standardize")
    context = zmq.Context()
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(1, 1, ["--standardize-mode", "federated", "--round-deadline-s", "600"]))
        endpoint = run.endpoint()
        old = Client(context, endpoint)
        old.send(wire.join("old", 1, 100, version=0x0105))
        kind, m = old.next()
        check(kind == "Reject" and m["reason"] == "version_mismatch" and "1.6" in m["message"],
              "a 1.5 Join to a standardising run -> Reject{version_mismatch} naming 1.6 (%s %s)" % (kind, m))

        features = 784
        mean = np.linspace(-3.0, 20000.0, features)
        m2 = np.linspace(0.0, 400.0, features)  # feature 0 is constant: deviation 1
        liar = Client(context, endpoint)
        liar.send(wire.join("liar", 1, 100, version=0x0106))
        kind, m = liar.next()
        check(kind == "Welcome" and m["data_statistics_wanted"], "Welcome asks for data statistics (%s)" % m)
        expect_reject(liar, wire.data_statistics(101, mean, m2), "out_of_range", None,
                      "statistics of more samples than the Join declared")

        c = Client(context, endpoint)
        c.send(wire.join("h1", 1, 100, version=0x0106))
        kind, m = c.next()
        check(kind == "Welcome" and m["data_statistics_wanted"], "Welcome asks for data statistics (%s)" % m)
        c.send(wire.data_statistics(100, mean, m2))
        kind, task = c.next(("Task",))
        got = task["standardization"]
        check(got is not None and got[0].size == features and got[1].size == features,
              "the Task carries one mean and deviation per input")
        want = np.sqrt(m2 / 100.0)
        want[want < 1e-6] = 1.0
        check(np.allclose(got[0], mean, rtol=1e-12, atol=0) and np.allclose(got[1], want, rtol=1e-12, atol=0),
              "one device's statistics give its own mean and population deviation, 1 for a constant feature")
        p.kill("server")
    context.destroy(0)


def case_eligibility(args):
    import numpy as np
    import zmq
    import wire
    run = Run(args, "eligibility")
    context = zmq.Context()
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(2, 2, ["--round-deadline-s", "600", "--eligibility-max-temperature-c", "75",
                                                  "--eligibility-temperature-hysteresis-c", "4"]))
        endpoint = run.endpoint()
        hot = Client(context, endpoint)
        hot.send(wire.join("hot", 1, 100, version=0x0106))
        kind, welcome = hot.next()
        rule = welcome.get("eligibility") or {}
        check(kind == "Welcome" and rule.get("max_temperature_c") == 75 and rule.get("temperature_hysteresis_c") == 4
              and rule.get("max_load_per_core") == 0, "the Welcome carries the eligibility rule (%s)" % rule)
        hot.send(wire.heartbeat(1, 0, ineligible=1))
        check(hot.next(("Heartbeat",))[0] == "Heartbeat", "a heartbeat saying 'too hot' is answered")
        cool = Client(context, endpoint)
        cool.send(wire.join("cool", 1, 100))  # a 1.2 device: eligible from its Join on
        check(cool.next()[0] == "Welcome", "a second device joins")
        # For five heartbeat intervals the first says it is too hot: no round may open, since
        # only one of the two devices it needs may train.
        seen = []
        for sequence in range(2, 12):
            hot.send(wire.heartbeat(sequence, 0, ineligible=1))
            cool.send(wire.heartbeat(sequence, 0))
            end = time.monotonic() + 0.1
            while time.monotonic() < end:
                for client in (hot, cool):
                    if client.socket.poll(10):
                        seen.append(wire.decode(client.socket.recv())[0])
        check("Heartbeat" in seen and "Task" not in seen,
              "no Task while one of two devices heartbeats ineligible (temperature) (%s)" % sorted(set(seen)))
        # An old (1.5) heartbeat has no ineligible field: the device counts as eligible again.
        hot.send(wire.heartbeat(12, 0))
        kind, task = hot.next(("Task",))
        check(task["round"] == 1, "the device, eligible again, is asked in round 1")
        kind, task_cool = cool.next(("Task",))
        check(task_cool["round"] == 1, "and so is the other one")
        # Mid-round the first turns ineligible and says it is idle: the round closes without it.
        hot.send(wire.heartbeat(13, 0, ineligible=4))
        delta = np.full(task_cool["params"].size, 1e-3, np.float32)
        cool.send(wire.update(100, task_cool, 100, delta, 0.5, 1, [32]))
        kind, m = cool.next()
        check(kind == "Ack" and m["status"] == "accepted", "the eligible device's update is accepted (%s)" % m)
        wait_for(lambda: len(run.metrics()) >= 1, 10, "round 1 closing without the ineligible device")
        line = run.metrics()[0]
        check(line["answered"] == 1 and line["asked"] == 2, "round 1: asked 2, answered 1 (%s)" % line)
        p.kill("server")
    context.destroy(0)


def case_codecs(args):
    run = Run(args, "codecs")
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(1, 1, ["--codec-name", "int8", "--round-join-timeout-s", "60"]))
        endpoint = run.endpoint()
        p.start("py", run.python_device("py", 0, endpoint, 1), env=python_env(args))
        code = p.wait("py", 30)
        check(code == 3, "a device declaring only f32 stops when the run uploads int8 (exit %s)" % code)
        check("failed_precondition" in open(os.path.join(run.dir, "py.log")).read(),
              "... because its Join was refused with failed_precondition")
        p.kill("server")


def case_curve(args):
    import zmq
    import zmq.utils.monitor
    run = Run(args, "curve")
    keygen = args.keygen
    keys = os.path.join(run.dir, "keys")
    for name in ("server", "py", "stranger"):
        subprocess.run([keygen, name, "--dir", keys], check=True, capture_output=True)
    allowed = os.path.join(keys, "allowed")
    with open(allowed, "w") as f:
        f.write(open(os.path.join(keys, "py.pub")).read().strip() + "\n")
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(2, 1, ["--secret-key", os.path.join(keys, "server.key"),
                                                  "--allowed-keys", allowed]))
        endpoint = run.endpoint()
        # An unlisted key: ZAP refuses the handshake, no message ever reaches the protocol.
        context = zmq.Context()
        stranger = context.socket(zmq.DEALER)
        stranger.setsockopt(zmq.LINGER, 0)
        stranger.curve_secretkey = open(os.path.join(keys, "stranger.key"), "rb").read().strip()
        stranger.curve_publickey = open(os.path.join(keys, "stranger.pub"), "rb").read().strip()
        stranger.curve_serverkey = open(os.path.join(keys, "server.pub"), "rb").read().strip()
        monitor = stranger.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_SUCCEEDED)
        stranger.connect(endpoint)
        event = zmq.utils.monitor.recv_monitor_message(monitor) if monitor.poll(10000) else {"event": None}
        check(event["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH, "an unlisted key fails the CURVE handshake (%s)"
              % event["event"])
        context.destroy(0)
        p.start("py", run.python_device("py", 0, endpoint, 2, ["--secret-key", os.path.join(keys, "py.key"),
                                                               "--server-key", os.path.join(keys, "server.pub")]),
                env=python_env(args))
        check(p.wait("py", 60) == 0, "the Python device trains 2 rounds over CURVE")
        public = open(os.path.join(keys, "py.pub")).read().strip()
        check("welcomed as %s" % public in open(os.path.join(run.dir, "py.log")).read(),
              "the server names the device by its public key (the ZAP User-Id), not the id it sent")
        check(p.wait("server", 30) == 0, "the server finishes")
    metrics = run.metrics()
    check(len(metrics) == 2 and all(m["answered"] == 1 for m in metrics), "2 rounds, each with the update")


def case_restart(args):
    run = Run(args, "restart")
    rounds = 4
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(rounds, 2))
        endpoint = run.endpoint()
        # More tasks allowed than rounds: the devices stay until the resumed server's Bye, however
        # far the first server got before the kill (rounds take milliseconds here).
        for index, name in enumerate(("p0", "p1")):
            p.start(name, run.python_device(name, index, endpoint, rounds + 2), env=python_env(args))
        wait_for(lambda: len(run.metrics()) >= 2, 60, "round 2 to close")
        p.kill("server")
        os.remove(run.endpoint_file)
        p.start("server2", run.server_argv(rounds, 2, endpoint=endpoint, resume=True))
        codes = [p.wait(name, 90) for name in ("p0", "p1", "server2")]
    check(codes == [0, 0, 0], "after a kill and --resume every process finishes (%s)" % codes)
    for name in ("p0", "p1"):
        welcomes = open(os.path.join(run.dir, name + ".log")).read().count("welcomed as")
        check(welcomes >= 2, "%s joined again after the restart (%d Welcomes)" % (name, welcomes))
    metrics = run.metrics()
    check([m["round"] for m in metrics] == list(range(1, rounds + 1)),
          "one metrics line per round across the restart (%s)" % [m["round"] for m in metrics])
    check(all(m["rejected"] == 0 for m in metrics), "no update counted as rejected (%s)"
          % [m["rejected"] for m in metrics])
    check(all(m["answered"] == 2 for m in metrics), "every round has both updates, once (%s)"
          % [m["answered"] for m in metrics])


def case_relay(args):
    import numpy as np
    import zmq
    import wire
    context = zmq.Context()
    run = Run(args, "relay-async")
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(3, 1, ["--strategy-name", "fedasync"]))
        c = Client(context, run.endpoint())
        c.send(wire.join("relay-a", 1, 0, version=wire.RELAY_VERSION, relay=True))
        kind, m = c.next()
        check(kind == "Reject" and m["reason"] == "failed_precondition" and "relay" in m["message"],
              "an asynchronous server refuses a relay's Join naming why (%s %s)" % (kind, m))
        p.kill("server")
    run = Run(args, "relay")
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(1, 1, ["--round-deadline-s", "600"]))
        c = Client(context, run.endpoint())
        c.send(wire.join("relay-a", 1, 0, version=wire.RELAY_VERSION, relay=True))
        check(c.next()[0] == "Welcome", "a relay's Join -> Welcome")
        kind, task = c.next(("Task",))
        size = task["params"].size
        # A sum of two devices' updates of 60 and 40 samples: weighed by samples, its weight is 100.
        high, low = [0] * size, [1 << 40] * size
        update = lambda uid, weight: wire.update(uid, task, 100, np.zeros(0, np.float32), 0.5, 20, [32],
                                                 partial_sum=(high, low, weight, 2))
        expect_reject(c, update(1, 2), "invalid_argument", 1, "a partial sum weighed uniformly in a run weighed by samples")
        c.send(update(task["task_id"], 100))
        kind, m = c.next(("Ack",))
        check(m["update_id"] == task["task_id"] and m["status"] == "accepted", "a partial sum -> Ack (%s)" % m)
        line = wait_for(lambda: run.metrics(), 20, "the round's metrics line")[0]
        check(line["answered"] == 1 and line["device_updates"] == 2 and line["samples"] == 100,
              "the round counts one relay update holding two device updates (%s)" % line)
        p.kill("server")
    context.destroy(0)


def case_peer_wire(args):
    import numpy as np
    import zmq
    import wire
    golden = os.path.join(HERE, "..", "golden", "v1_6")
    params = (np.arange(23, dtype=np.float32) - 13.0) * 0.125  # the samples' mlp:4-3-2 parameters

    def read(name):
        with open(os.path.join(golden, name + ".bin"), "rb") as f:
            return wire.decode(f.read())

    kind, a = read("peer_assignment")
    weights = a["self_weight"] + sum(n["weight"] for n in a["neighbours"])
    check(kind == "PeerAssignment" and a["epoch"] == 2 and a["topology"] == 0 and abs(weights - 1.0) < 1e-6
          and [n["device_id"] for n in a["neighbours"]] == ["device-B", "device-C"]
          and len(a["neighbours"][0]["public_key"]) == 40 and a["neighbours"][1]["public_key"] == ""
          and a["step_deadline_ms"] == 2000 and a["staleness_bound"] == 4 and a["report_interval"] == 10
          and a["snapshot_interval"] == 50 and a["model_spec"] == "mlp:4-3-2:relu"
          and np.array_equal(a["params"], params),
          "golden peer_assignment: ring of three, weights sum to 1, keys, timing, start model (%s)"
          % {k: v for k, v in a.items() if k != "params"})
    kind, m = read("peer_model")
    check(kind == "PeerModel" and m["sender"] == "device-B" and m["epoch"] == 2 and m["step"] == 41
          and m["missed_previous"] and np.array_equal(m["params"], params),
          "golden peer_model: sender, epoch, step, missed_previous, f16 parameters")
    kind, r = read("peer_report")
    check(kind == "PeerReport" and r["step"] == 50 and r["distances"] == {"device-B": 0.015625, "device-C": 0.25}
          and (r["missed"], r["one_sided_misses"], r["refused"]) == (3, 1, 2)
          and (r["bytes_sent"], r["bytes_received"]) == (1840, 1748) and np.array_equal(r["snapshot"], params),
          "golden peer_report: distances per neighbour, counters, snapshot")

    run = Run(args, "peer_wire")
    context = zmq.Context()
    with Processes(run.dir) as p:
        p.start("server", run.server_argv(3, 1, ["--round-deadline-s", "600"]))
        c = Client(context, run.endpoint())
        c.send(wire.join("peer-1", 1, 100, version=wire.PEER_VERSION, peer_endpoint="tcp://127.0.0.1:6001"))
        check(c.next()[0] == "Welcome", "a 1.6 Join with a peer endpoint -> Welcome")
        kind, task = c.next(("Task",))
        check(kind == "Task", "and a FedAvg Task")
        for what, message in (("peer_model", wire.peer_model("peer-1", 1, 0, False, task["params"], task["run_id"])),
                              ("peer_report", wire.peer_report(1, 0, 0.5, {"peer-2": 0.1}))):
            c.send(message)
            kind, m = c.next()
            check(kind == "Reject" and m["reason"] == "invalid_argument" and what in m["message"]
                  and m["update_id"] is None,
                  "a %s to a FedAvg server -> Reject{invalid_argument} naming it (got %s %s)" % (what, kind, m))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["federation", "rejects", "codecs", "curve", "restart", "standardize",
                                         "eligibility", "peer_wire", "relay"])
    for flag in ("--server", "--device", "--keygen"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--generated", required=True)
    parser.add_argument("--work", required=True)
    # edgefl-device's own memory plan: 64M is what a small board gives it; sanitised builds
    # need more for the same work (shadow memory, redzones).
    parser.add_argument("--device-memory-budget", default="64M")
    args = parser.parse_args()
    sys.path[:0] = [args.generated, HERE]
    os.makedirs(args.work, exist_ok=True)
    globals()["case_" + args.case](args)
    if failures:
        log("%d check(s) failed" % len(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
