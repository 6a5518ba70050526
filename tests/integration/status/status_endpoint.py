#!/usr/bin/python3
"""The status endpoint of a live run: a server and three devices.

/metrics must parse as strict Prometheus text format 0.0.4, and its counters must equal the
sums of the metrics.jsonl lines of the rounds it says have closed. Without the bearer token
/metrics and /status answer 401 (the page shell, which holds no data, does not need it);
/status lists the three devices and pages them; a bad page is a 400 naming the value.

Every metric packaging/grafana-dashboard.json queries must be one the server exposes.

usage: status_endpoint.py EDGEFL_SERVER EDGEFL_DEVICE GRAFANA_DASHBOARD
"""
import json
import math
import re
import sys
import tempfile

from status_support import Fleet, parse_exposition, value, wait_for

ROUNDS = 1000  # more than the test waits for: the fleet is stopped at the end
TOKEN = "s3cret-token-for-the-test"

# metrics.jsonl field -> the counter that sums it
COUNTERS = {
    "answered": "edgefl_updates_accepted_total",
    "late": "edgefl_updates_late_total",
    "duplicates": "edgefl_updates_duplicate_total",
    "samples": "edgefl_samples_total",
    "tasks_sent": "edgefl_tasks_sent_total",
    "tasks_resent": "edgefl_tasks_resent_total",
    "bytes_in": "edgefl_received_bytes_total",
    "bytes_out": "edgefl_sent_bytes_total",
}


def scrape(fleet):
    status, body, content_type = fleet.get("/metrics")
    assert status == 200, (status, body)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8", content_type
    return parse_exposition(body)


def check_counters_match_lines(fleet, families):
    closed = int(value(families, "edgefl_rounds_closed_total"))
    lines = [json.loads(line) for line in open(fleet.metrics_path)][:closed]
    assert len(lines) == closed, f"{closed} rounds closed but {len(lines)} metrics lines"
    for field, counter in COUNTERS.items():
        assert value(families, counter) == sum(line[field] for line in lines), (counter, field)
    rejected = sum(v for _, _, v in families["edgefl_updates_rejected_total"]["samples"])
    assert rejected == sum(line["rejected"] for line in lines)
    assert value(families, "edgefl_round_duration_seconds_count") == closed
    wall = sum(line["wall_s"] for line in lines)
    assert math.isclose(value(families, "edgefl_round_duration_seconds_sum"), wall, rel_tol=1e-4, abs_tol=1e-5)
    for bound in ("0.5", "2.5", "+Inf"):
        limit = math.inf if bound == "+Inf" else float(bound)
        assert value(families, "edgefl_round_duration_seconds_bucket", le=bound) == sum(
            1 for line in lines if line["wall_s"] <= limit), bound
    last = lines[-1]
    assert math.isclose(value(families, "edgefl_test_accuracy_ratio"), last["test_accuracy"], rel_tol=1e-5)
    assert math.isclose(value(families, "edgefl_test_loss"), last["test_loss"], rel_tol=1e-5)
    assert value(families, "edgefl_model_version") >= last["version"]
    return closed


def main():
    server_bin, device_bin, dashboard = sys.argv[1:4]
    queried = set(re.findall(r"edgefl_[a-z_]+", open(dashboard).read()))
    assert len(queried) > 10, queried
    with tempfile.TemporaryDirectory(prefix="edgefl-status-") as tmp:
        fleet = Fleet(server_bin, device_bin, tmp, ROUNDS, token=TOKEN)
        try:
            for route in ("/metrics", "/status"):
                assert fleet.get(route, token=None)[0] == 401, route
                assert fleet.get(route, token="wrong")[0] == 401, route
                assert fleet.get(route, token=TOKEN + "x")[0] == 401, route
            status, page, content_type = fleet.get("/", token=None)
            assert status == 200 and content_type.startswith("text/html") and 'id="devices"' in page

            families = wait_for(lambda: (lambda f: f if value(f, "edgefl_rounds_closed_total") >= 3 else None)(
                scrape(fleet)), 60, "three closed rounds")
            for name in families:
                assert name.startswith("edgefl_"), name
                for _, labels, _ in families[name]["samples"]:
                    assert set(labels) <= {"le", "reason"}, (name, labels)  # no per-device labels
            closed = check_counters_match_lines(fleet, families)
            assert value(families, "edgefl_devices_connected") == 3
            assert value(families, "edgefl_updates_accepted_total") >= 3 * closed

            status, body, content_type = fleet.get("/status?per_page=2&page=2")
            assert status == 200 and content_type == "application/json", (status, body)
            report = json.loads(body)
            assert report["settings"]["model"] == "mlp:4-16-3:relu" and report["settings"]["rounds"] == ROUNDS
            assert report["devices"]["total"] == 3 and [d["id"] for d in report["devices"]["rows"]] == ["device-2"]
            everyone = json.loads(fleet.get("/status")[1])["devices"]["rows"]
            assert [d["id"] for d in everyone] == ["device-0", "device-1", "device-2"]
            for device in everyone:
                assert device["arch"] and device["memory_budget_bytes"] > 0 and device["rounds_taken_part"] >= 1
                assert device["last_loss"] >= 0 and device["last_batch"] > 0 and device["refusals"] == {}
            status, body, _ = fleet.get("/status?page=0")
            assert status == 400 and "page='0'" in body, (status, body)

            # Later scrapes keep matching the lines, and the counters only grow.
            later = wait_for(lambda: (lambda f: f if value(f, "edgefl_rounds_closed_total") > closed else None)(
                scrape(fleet)), 60, "another closed round")
            check_counters_match_lines(fleet, later)
            for name in ("edgefl_updates_accepted_total", "edgefl_sent_bytes_total"):
                assert value(later, name) >= value(families, name), name
            # Some gauges exist only at times (the open round's deadline): scrape until all were seen.
            seen = set()

            def dashboard_covered():
                for name, family in scrape(fleet).items():
                    seen.add(name)  # a family may have no samples yet (no rejection so far)
                    seen.update(sample for sample, _, _ in family["samples"])
                return queried <= seen
            try:
                wait_for(dashboard_covered, 30, "the dashboard's metrics")
            except AssertionError:
                raise AssertionError(f"the dashboard queries metrics the server never showed: {sorted(queried - seen)}")
            print(f"checked /metrics after {closed} and {int(value(later, 'edgefl_rounds_closed_total'))} rounds")
        finally:
            fleet.close()


if __name__ == "__main__":
    main()
