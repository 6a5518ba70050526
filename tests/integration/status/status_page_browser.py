#!/usr/bin/python3
"""The status page in a real browser: a server and three devices, the page loaded twice in
headless Chromium a few seconds apart. Each DOM (after its script ran) must list the three
devices, and the round shown must advance between the two. Skipped (ctest SKIP_RETURN_CODE 77)
when Debian's chromium-headless-shell is not installed.

usage: status_page_browser.py EDGEFL_SERVER EDGEFL_DEVICE
"""
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time

from status_support import Fleet, wait_for

SKIP = 77
BROWSERS = ("chromium-headless-shell", "chromium")


def dump_dom(browser, url, profile):
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
                           "--virtual-time-budget=5000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    return done.stdout


def shown(dom):
    """(round shown, device ids listed) of a dumped status page."""
    round_match = re.search(r'<span id="round">(\d+)</span>', dom)
    assert round_match, dom
    body = re.search(r'<tbody id="devices">(.*?)</tbody>', dom, re.S)
    assert body, dom
    ids = re.findall(r'<tr class="device[^"]*"><td>([^<]*)</td>', body.group(1))
    return int(round_match.group(1)), ids


def main():
    browser = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if browser is None:
        print("skipped: no headless Chromium (install chromium-headless-shell: scripts/bootstrap)")
        return SKIP
    server_bin, device_bin = sys.argv[1:3]
    with tempfile.TemporaryDirectory(prefix="edgefl-status-page-") as tmp:
        # Many rounds: the run must outlast both page loads.
        fleet = Fleet(server_bin, device_bin, tmp, rounds=100000)
        try:
            url = f"http://{fleet.address}/"
            wait_for(lambda: (lambda s: s["devices_connected"] == 3 and s["round"]["rounds_closed"] >= 1)(
                json.loads(fleet.get("/status")[1])), 60, "three devices and a closed round")
            first_round, first_ids = shown(dump_dom(browser, url, tmp + "/profile"))
            time.sleep(3)
            second_round, second_ids = shown(dump_dom(browser, url, tmp + "/profile"))
        finally:
            fleet.close()
    expected = ["device-0", "device-1", "device-2"]
    assert first_ids == expected and second_ids == expected, (first_ids, second_ids)
    assert second_round > first_round, (first_round, second_round)
    print(f"page showed round {first_round}, then {second_round}, devices {', '.join(expected)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
