"""Shared by the status endpoint tests: a server with a status endpoint and simulated devices,
and a strict parser of the Prometheus text exposition format 0.0.4."""
import math
import os
import re
import ssl
import subprocess
import time
import urllib.error
import urllib.request

MODEL = "mlp:4-16-3:relu"
DATA = "blobs:4:3"

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def wait_for(condition, timeout_s, what):
    """Polls `condition` until it returns a true value; fails naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class Fleet:
    """edgefl-server with its status endpoint on a free loopback port, and `devices` devices."""

    def __init__(self, server_bin, device_bin, tmp, rounds, devices=3, token=None, extra=(), tls_cert=None):
        self.tmp = tmp
        self.token = token
        self.scheme = "https" if tls_cert else "http"
        self.ssl_context = ssl.create_default_context(cafile=tls_cert) if tls_cert else None
        path = lambda name: os.path.join(tmp, name)
        args = [server_bin, "--model", MODEL, "--data", DATA, "--rounds", str(rounds), "--seed", "5",
                "--endpoint", "tcp://127.0.0.1:*", "--endpoint-file", path("endpoint"),
                "--state-dir", path("server"), "--round-min-devices", str(max(devices, 1)), "--quiet",
                "--status-listen", "127.0.0.1:0", "--status-listen-file", path("status-address"), *extra]
        if token is not None:
            with open(path("token"), "w") as f:
                f.write(token + "\n")
            args += ["--status-token-file", path("token")]
        self.server = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.devices = []
        try:
            wait_for(lambda: os.path.exists(path("status-address")) or self.server.poll() is not None, 30,
                     "the server to bind")
            assert self.server.poll() is None, self.server.communicate()
            endpoint = open(path("endpoint")).read()
            self.address = open(path("status-address")).read()
            for i in range(devices):
                self.devices.append(subprocess.Popen(
                    [device_bin, "--endpoint", endpoint, "--data", DATA, "--device-id", f"device-{i}",
                     "--state-dir", path(f"device-{i}"), "--quiet", "--give-up-s", "3"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        except BaseException:
            self.close()
            raise
        self.metrics_path = path("server/metrics.jsonl")

    def get(self, route, token="default"):
        """(HTTP status, body) of GET route."""
        token = self.token if token == "default" else token
        request = urllib.request.Request(f"{self.scheme}://{self.address}{route}")
        if token is not None:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as reply:
                return reply.status, reply.read().decode(), reply.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Content-Type")

    def close(self):
        for process in self.devices + [self.server]:
            if process.poll() is None:
                process.terminate()
        for process in self.devices + [self.server]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def parse_value(text):
    if text in ("NaN", "+Inf", "-Inf"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise AssertionError(f"not a sample value: {text!r}")
    return float(text)


def parse_labels(text):
    labels = {}
    rest = text
    while rest:
        match = LABEL.match(rest)
        assert match, f"bad label set near {rest!r}"
        name, value = match.group(1), match.group(2)
        assert name not in labels, f"label {name} twice"
        labels[name] = value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        rest = rest[match.end():]
        if rest:
            assert rest.startswith(","), f"labels not separated by ',' near {rest!r}"
            rest = rest[1:]
    return labels


def family_of(sample_name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name[:-len(suffix)] if sample_name.endswith(suffix) else None
        if base and types.get(base) == "histogram":
            return base
    return sample_name


def parse_exposition(text):
    """Strictly parses exposition format 0.0.4: {family: {"type", "help", "samples": [(name, labels, value)]}}.
    Fails on anything the format does not allow or a scraper would choke on: a sample before its
    TYPE, a family split in two, a repeated series, a histogram that is not cumulative."""
    assert text.endswith("\n"), "the exposition must end with a line feed"
    families, types, finished = {}, {}, set()
    current = None
    for number, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {number}: {line!r}"
        assert line, f"{where}: empty line"
        if line.startswith("#"):
            parts = line.split(" ", 3)
            assert len(parts) >= 3 and parts[0] == "#" and parts[1] in ("HELP", "TYPE"), f"{where}: bad comment"
            name = parts[2]
            assert NAME.fullmatch(name), f"{where}: bad metric name"
            family = families.setdefault(name, {"type": None, "help": None, "samples": []})
            assert name not in finished, f"{where}: family {name} appears twice"
            if current != name and current is not None:
                finished.add(current)
            current = name
            if parts[1] == "HELP":
                assert family["help"] is None, f"{where}: second HELP"
                assert len(parts) == 4 and parts[3], f"{where}: empty HELP"
                family["help"] = parts[3]
            else:
                assert family["type"] is None and not family["samples"], f"{where}: TYPE repeated or after samples"
                assert len(parts) == 4 and parts[3] in TYPES, f"{where}: unknown type"
                family["type"] = types[name] = parts[3]
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?", line)
        assert match, f"{where}: not a sample line"
        sample_name, labels, value = match.group(1), parse_labels(match.group(2) or ""), parse_value(match.group(3))
        name = family_of(sample_name, types)
        assert name in families and families[name]["type"], f"{where}: sample before its TYPE"
        assert name == current, f"{where}: sample of {name} inside family {current}"
        families[name]["samples"].append((sample_name, labels, value))
    series = set()
    for name, family in families.items():
        assert family["help"] and family["type"], f"{name}: HELP and TYPE are both needed"
        for sample_name, labels, value in family["samples"]:
            key = (sample_name, tuple(sorted(labels.items())))
            assert key not in series, f"{name}: series {key} twice"
            series.add(key)
            if family["type"] == "counter":
                assert name.endswith("_total") and value >= 0 and math.isfinite(value), f"{name}: bad counter"
        if family["type"] == "histogram":
            check_histogram(name, family["samples"])
    return families


def check_histogram(name, samples):
    buckets = [(labels["le"], value) for sample, labels, value in samples if sample == name + "_bucket"]
    bounds = [parse_value(le) for le, _ in buckets]
    assert bounds and bounds[-1] == math.inf, f"{name}: needs a +Inf bucket last"
    assert bounds == sorted(bounds), f"{name}: buckets out of order"
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), f"{name}: buckets not cumulative {counts}"
    single = {sample: value for sample, labels, value in samples if sample != name + "_bucket"}
    assert set(single) == {name + "_sum", name + "_count"}, f"{name}: needs _sum and _count"
    assert single[name + "_count"] == counts[-1], f"{name}: _count is not the +Inf bucket"


def value(families, name, **labels):
    """The value of sample `name` (a histogram's _bucket, _sum or _count too) with exactly `labels`."""
    for family in families.values():
        for sample_name, sample_labels, sample_value in family["samples"]:
            if sample_name == name and sample_labels == labels:
                return sample_value
    raise AssertionError(f"no sample {name}{labels}")
