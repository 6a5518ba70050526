#!/usr/bin/python3
"""A hostile peer: a raw ZeroMQ DEALER that sends small seeded junk (1-32 random bytes) to the
server as fast as the link takes it and never reads. Bounded: stops after --seconds or when
--stop-file appears (the server has exited). Prints {"flood_messages_sent": N, "flood_s": S}
on stdout. With --no-send it runs the same loop without a socket: a control that takes the
flooder's CPU and leaves the network alone.

  flooder.py --endpoint tcp://127.0.0.1:P --seconds 30 --seed 1 [--stop-file F] [--no-send]
             [--reconnect]"""
import argparse
import json
import os
import random
import time

import zmq


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--stop-file")
    p.add_argument("--no-send", action="store_true")
    p.add_argument("--reconnect", action="store_true",
                   help="a fresh connection whenever the current one stops taking messages")
    args = p.parse_args()
    rng = random.Random(args.seed)
    # A pool of junk drawn once: generating bytes per message would slow the flood to Python's pace.
    pool = [rng.randbytes(rng.randint(1, 32)) for _ in range(4096)]
    context = zmq.Context()

    def connect():
        dealer = context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.SNDHWM, 100000)
        dealer.setsockopt(zmq.RCVHWM, 1)      # replies pile up unread...
        dealer.setsockopt(zmq.RCVBUF, 4096)   # ...and fill the server's queue to this peer soon
        dealer.setsockopt(zmq.LINGER, 0)
        if args.reconnect:
            dealer.setsockopt(zmq.SNDHWM, 1000)  # a cut connection is noticed within a second
            dealer.setsockopt(zmq.IMMEDIATE, 1)  # queue only to a live connection
        if not args.no_send:
            dealer.connect(args.endpoint)
        return dealer

    dealer = connect()
    connections = 1
    sent = 0
    sent_here = 0  # on the current connection
    start = time.monotonic()
    until = start + args.seconds
    index = 0
    while True:
        now = time.monotonic()
        if now >= until or (args.stop_file and os.path.exists(args.stop_file)):
            break
        for _ in range(1000):  # check the clock once per thousand sends
            try:
                if args.no_send:
                    len(pool[index])  # the same loop, nothing sent
                else:
                    dealer.send(pool[index], zmq.NOBLOCK)
                    sent += 1
                    sent_here += 1
            except zmq.Again:
                if args.reconnect and sent_here > 0:  # it was connected and is cut now
                    dealer.close(0)
                    dealer = connect()
                    connections += 1
                    sent_here = 0
                else:
                    time.sleep(0.001)
                break
            index = (index + 1) & 4095
    elapsed = time.monotonic() - start
    dealer.close(0)
    context.term()
    print(json.dumps({"flood_messages_sent": sent, "flood_s": round(elapsed, 3), "connections": connections}),
          flush=True)


if __name__ == "__main__":
    main()
