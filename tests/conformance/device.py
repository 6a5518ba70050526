#!/usr/bin/python3
"""A second edgefl device, written from docs/protocol.md and the schemas alone: the device state
machine of §12 (join, resend, re-join, give up), an outbox (§6) and the training of §11.

  device.py --endpoint tcp://127.0.0.1:P --device-id py0 --state-dir DIR \
            [--partition-count K --partition-index I --partition-max-samples N] \
            [--save-updates DIR] [--max-tasks N] [--server-key F --secret-key F]

Exit 0 when the server says Bye(finished) (answered with Bye(finished)) (or after --max-tasks with an empty outbox), 3 when
the server refuses the device for good (§10 "stop"), 4 after --give-up-s without a Welcome,
1 on other errors."""
import argparse
import os
import sys
import time

import zmq

import training
import wire

# §10: Rejects of an update that may yet be accepted: keep it in the outbox (every other
# reason naming an update means it never will be: delete it).
KEEP_AND_RETRY = {"resource_exhausted", "unavailable", "timeout", "unknown_device"}
# §10: Rejects of a Join after which this device cannot take part in the run.
STOP = {"version_mismatch", "unauthenticated", "invalid_argument", "out_of_range",
        "resource_exhausted", "failed_precondition"}


class Refused(Exception):
    pass


class GaveUp(Exception):
    pass


class Outbox:
    """Encoded Updates, durable before their first send (§6: temp, fsync, rename, fsync dir)."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)

    def path(self, task_id):
        return os.path.join(self.dir, "task-%020d.update" % task_id)

    def put(self, task_id, data):
        temp = self.path(task_id) + ".tmp"
        with open(temp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(temp, self.path(task_id))
        fd = os.open(self.dir, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def get(self, task_id):
        try:
            with open(self.path(task_id), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def entries(self):
        """(file name, bytes, update id), oldest task first."""
        out = []
        for name in sorted(n for n in os.listdir(self.dir) if n.endswith(".update")):
            with open(os.path.join(self.dir, name), "rb") as f:
                data = f.read()
            out.append((name, data, wire.update_fields(data)["update_id"]))
        return out

    def remove_update(self, update_id):
        for name, _, uid in self.entries():
            if uid == update_id:
                os.remove(os.path.join(self.dir, name))
                return True
        return False


class Device:
    def __init__(self, args, x, y):
        self.args = args
        self.trainer = training.Trainer(x, y, args.device_id)
        self.samples = x.shape[0]
        os.makedirs(args.state_dir, exist_ok=True)
        self.outbox = Outbox(os.path.join(args.state_dir, "outbox"))
        self.boot_counter = self.bump("boot_counter")
        self.trained = 0
        self.context = zmq.Context()

    def bump(self, name):
        """A persisted counter: returns its next value (boot counter, update ids)."""
        path = os.path.join(self.args.state_dir, name)
        value = int(open(path).read()) + 1 if os.path.exists(path) else 1
        with open(path + ".tmp", "w") as f:
            f.write(str(value))
            f.flush()
            os.fsync(f.fileno())
        os.rename(path + ".tmp", path)
        return value

    def log(self, text):
        print("%s: %s" % (self.args.device_id, text), file=sys.stderr, flush=True)

    def connect(self):
        socket = self.context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        if self.args.server_key:
            public, secret = load_keypair(self.args.secret_key)
            socket.curve_publickey = public
            socket.curve_secretkey = secret
            socket.curve_serverkey = open(self.args.server_key, "rb").read().strip()
        socket.connect(self.args.endpoint)
        return socket

    def run(self):
        """Sessions until the run ends; §12.1: a silent server means a new connection. With
        --give-up-s, stops after that long without a Welcome (a Bye can be lost)."""
        backoff = 0.2
        self.welcomed_at = time.monotonic()
        while True:
            socket = self.connect()
            try:
                ended = self.session(socket)
            finally:
                socket.close(0)
            if ended:
                return
            if self.args.give_up_s and time.monotonic() - self.welcomed_at > self.args.give_up_s:
                raise GaveUp("no Welcome for %.0f s; %d update(s) unacknowledged"
                             % (self.args.give_up_s, len(self.outbox.entries())))
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def session(self, socket):
        """True when the run is over for this device; False to reconnect."""
        interval = 1.0 * self.args.time_scale   # until the Welcome says otherwise
        timeout = 3 * interval
        joined = False
        sequence = 0
        now = time.monotonic()
        last_join = last_heard = last_heartbeat = last_resend = now
        socket.send(wire.join(self.args.device_id, self.boot_counter, self.samples))
        while True:
            if self.args.max_tasks and self.trained >= self.args.max_tasks and not self.outbox.entries():
                socket.send(wire.bye())
                return True
            if socket.poll(50):
                data = socket.recv()
                last_heard = time.monotonic()
                try:
                    kind, m = wire.decode(data)
                except wire.WireError as error:
                    self.log("dropped a message from the server: %s" % error)
                    continue
                if kind == "Welcome":
                    joined = True
                    self.welcomed_at = time.monotonic()
                    self.log("welcomed as %s" % m["device_id"])
                    interval = m["heartbeat_interval_ms"] / 1000.0
                    timeout = m["peer_timeout_ms"] / 1000.0
                    self.resend_outbox(socket)
                    last_resend = time.monotonic()
                elif kind == "Task":
                    self.on_task(socket, m)
                    # Training blocks this loop: the server's silence meanwhile was not heard,
                    # not missing. Waiting for its answers starts now.
                    last_heard = time.monotonic()
                elif kind == "Ack":
                    self.outbox.remove_update(m["update_id"])
                elif kind == "Reject":
                    self.log("rejected %s: %s: %s" % ("update %d" % m["update_id"] if m["update_id"] is not None
                                                      else "a message", m["reason"], m["message"]))
                    if m["update_id"] is not None and m["reason"] not in KEEP_AND_RETRY:
                        self.outbox.remove_update(m["update_id"])
                    if m["reason"] == "unknown_device":
                        # The server lost this connection (a restart): join again, then resend.
                        joined = False
                        socket.send(wire.join(self.args.device_id, self.boot_counter, self.samples))
                        last_join = time.monotonic()
                    elif m["update_id"] is None and m["reason"] in STOP and not joined:
                        raise Refused("the server refused the join: %s: %s" % (m["reason"], m["message"]))
                elif kind == "Bye":
                    if m["reason"] == 1:  # finished: confirm, so the server's farewell ends now
                        socket.send(wire.bye(1, "device heard the end of the run"))
                        return True
                    if m["reason"] == 3:  # evicted
                        return True
                    return False
            now = time.monotonic()
            if not joined and now - last_join >= interval:
                socket.send(wire.join(self.args.device_id, self.boot_counter, self.samples))
                last_join = now
            if joined and now - last_heartbeat >= interval:
                sequence += 1
                socket.send(wire.heartbeat(sequence, 0))
                last_heartbeat = now
            if joined and now - last_resend >= 3 * interval:
                self.resend_outbox(socket)
                last_resend = now
            if now - last_heard >= timeout:
                self.log("no word from the server for %.1f s; reconnecting" % (now - last_heard))
                return False

    def resend_outbox(self, socket):
        for _, data, _ in self.outbox.entries():
            socket.send(data)

    def on_task(self, socket, task):
        stored = self.outbox.get(task["task_id"])
        if stored is not None:
            socket.send(stored)  # trained before: never train twice
            return
        if self.args.max_tasks and self.trained >= self.args.max_tasks:
            return
        if task["upload_codec"] != wire.CODEC_F32:
            self.log("task %d asks for codec %d, which this device did not declare; ignored"
                     % (task["task_id"], task["upload_codec"]))
            return
        try:
            delta, loss, steps = self.trainer.train(task)
        except ValueError as error:
            self.log("task %d cannot be trained here: %s; ignored" % (task["task_id"], error))
            return
        data = wire.update(self.bump("update_id"), task, self.samples, delta, loss, steps,
                           [task["batch_size"]])
        self.outbox.put(task["task_id"], data)
        if self.args.save_updates:
            os.makedirs(self.args.save_updates, exist_ok=True)
            with open(os.path.join(self.args.save_updates, "round-%d.update" % task["round"]), "wb") as f:
                f.write(data)
        self.trained += 1
        self.log("task %d trained: loss %.4f, %d steps" % (task["task_id"], loss, steps))
        socket.send(data)


def load_keypair(secret_path):
    """edgefl-keygen's files: <name>.key holds the Z85 secret key, <name>.pub the public one."""
    secret = open(secret_path, "rb").read().strip()
    public = open(secret_path[:-len(".key")] + ".pub", "rb").read().strip()
    return public, secret


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--device-id", required=True)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--partition-count", type=int, default=1)
    p.add_argument("--partition-index", type=int, default=0)
    p.add_argument("--partition-seed", type=int, default=1)
    p.add_argument("--partition-max-samples", type=int, default=0)
    p.add_argument("--save-updates")
    p.add_argument("--max-tasks", type=int, default=0)
    p.add_argument("--time-scale", type=float, default=1.0)
    p.add_argument("--give-up-s", type=float, default=0, help="stop after this long without a Welcome (0: never)")
    p.add_argument("--server-key")
    p.add_argument("--secret-key")
    args = p.parse_args()
    x, y = training.fashion_mnist_shard(args.data_dir, args.partition_count, args.partition_index,
                                        args.partition_seed, args.partition_max_samples)
    device = Device(args, x, y)
    try:
        device.run()
    except Refused as error:
        device.log(str(error))
        sys.exit(3)
    except GaveUp as error:
        device.log(str(error))
        sys.exit(4)


if __name__ == "__main__":
    main()
