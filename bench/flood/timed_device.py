#!/usr/bin/python3
"""An honest device that times its acknowledgements: the conformance suite's Python device
(tests/conformance/device.py, written from docs/protocol.md), its socket wrapped so that each
Update's first send and the Ack naming it are timestamped. Takes device.py's flags plus
--latency-file F, where it writes one JSON line per acknowledged update:
{"update_id": U, "ack_latency_s": S}. Needs the conformance suite's directory and its
generated FlatBuffers code on PYTHONPATH."""
import json
import sys
import time

import device
import wire
from edgefl.fb import Envelope, Message


class TimedSocket:
    """A DEALER socket that notes when each Update first left and, when its Ack comes back,
    appends the wait to the latency file."""

    def __init__(self, socket, sent_at, latency_file):
        self.socket = socket
        self.sent_at = sent_at
        self.latency_file = latency_file

    def send(self, data):
        envelope = Envelope.Envelope.GetRootAs(data, 4)
        if envelope.MessageType() == Message.Message.Update:
            # Resends keep the first time: the latency is the device's whole wait.
            self.sent_at.setdefault(wire.update_fields(data)["update_id"], time.monotonic())
        self.socket.send(data)

    def recv(self):
        data = self.socket.recv()
        at = time.monotonic()
        try:
            kind, message = wire.decode(data)
        except wire.WireError:
            return data  # the device reports it
        if kind == "Ack" and message["update_id"] in self.sent_at:
            sent = self.sent_at.pop(message["update_id"])  # a repeated Ack is not a new wait
            self.latency_file.write(json.dumps({"update_id": message["update_id"],
                                                "ack_latency_s": round(at - sent, 6)}) + "\n")
            self.latency_file.flush()
        return data

    def poll(self, timeout_ms):
        return self.socket.poll(timeout_ms)

    def close(self, linger=None):
        self.socket.close(linger)


class TimedDevice(device.Device):
    latency_path = None  # set by main() on a subclass

    def __init__(self, args, x, y):
        super().__init__(args, x, y)
        self.sent_at = {}
        self.latency_file = open(self.latency_path, "w")

    def connect(self):
        return TimedSocket(super().connect(), self.sent_at, self.latency_file)


def main():
    latency_path = None
    argv = []
    flags = iter(sys.argv[1:])
    for flag in flags:
        if flag == "--latency-file":
            latency_path = next(flags, None)
        else:
            argv.append(flag)
    if not latency_path:
        sys.exit("timed_device.py: --latency-file F is required")
    sys.argv[1:] = argv

    class Device(TimedDevice):
        pass

    Device.latency_path = latency_path
    device.Device = Device  # device.main() builds its device by this name
    device.main()


if __name__ == "__main__":
    main()
