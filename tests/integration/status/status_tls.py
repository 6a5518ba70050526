#!/usr/bin/python3
"""The status endpoint over HTTPS: a self-signed certificate (made with the openssl tool), a
bearer token, and a client that trusts only that certificate. /metrics answers over TLS with
the token and 401 without it; a plaintext request to the port gets no status page.

usage: status_tls.py EDGEFL_SERVER EDGEFL_DEVICE
"""
import os
import subprocess
import sys
import tempfile
import urllib.request

from status_support import Fleet, parse_exposition, value


def main():
    server_bin, device_bin = sys.argv[1:3]
    with tempfile.TemporaryDirectory(prefix="edgefl-status-tls-") as tmp:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        fleet = Fleet(server_bin, device_bin, tmp, rounds=5, devices=0, token="tls-test-token",
                      extra=["--status-tls-cert", cert, "--status-tls-key", key], tls_cert=cert)
        try:
            status, body, _ = fleet.get("/metrics")
            assert status == 200, (status, body)
            assert value(parse_exposition(body), "edgefl_devices_known") == 0
            assert fleet.get("/metrics", token=None)[0] == 401
            assert fleet.get("/status")[0] == 200
            try:
                urllib.request.urlopen(f"http://{fleet.address}/metrics", timeout=5).read()
                raise AssertionError("the TLS port answered plaintext HTTP")
            except (OSError, ValueError) as refused:
                print(f"plaintext refused: {type(refused).__name__}")
        finally:
            fleet.close()


if __name__ == "__main__":
    main()
