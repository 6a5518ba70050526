"""A real edgefl-device on a board that reads 80 C (a faked /sys under --system-root):
`edgefl-device status` shows it connected and ineligible, the server's /status and /metrics
show why, and no round opens; once the board cools to 60 C the device trains the run to its
end and its status says so.

usage: device_status.py EDGEFL_SERVER EDGEFL_DEVICE"""
import json
import os
import subprocess
import sys
import tempfile

from status_support import DATA, MODEL, Fleet, parse_exposition, wait_for


def device_status(device_bin, state_dir):
    done = subprocess.run([device_bin, "status", "--state-dir", state_dir], capture_output=True, text=True,
                          timeout=10)
    return done.returncode, done.stdout, done.stderr


def set_temperature(root, millidegrees):
    zone = os.path.join(root, "sys/class/thermal/thermal_zone0")
    os.makedirs(zone, exist_ok=True)
    with open(os.path.join(zone, "temp.tmp"), "w") as f:
        f.write(f"{millidegrees}\n")
    os.replace(os.path.join(zone, "temp.tmp"), os.path.join(zone, "temp"))


def main():
    server_bin, device_bin = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        code, _, err = device_status(device_bin, os.path.join(tmp, "nothing"))
        assert code == 1 and "no status file" in err, (code, err)

        root = os.path.join(tmp, "board")
        set_temperature(root, 80000)
        fleet = Fleet(server_bin, device_bin, tmp, rounds=2, devices=0,
                      extra=["--eligibility-max-temperature-c", "75", "--heartbeat-s", "0.2"])
        state = os.path.join(tmp, "hot-state")
        try:
            endpoint = open(os.path.join(tmp, "endpoint")).read()
            fleet.devices.append(subprocess.Popen(
                [device_bin, "--endpoint", endpoint, "--data", DATA, "--device-id", "hot", "--state-dir", state,
                 "--system-root", root, "--quiet", "--give-up-s", "10"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

            def hot_and_connected():
                code, out, _ = device_status(device_bin, state)
                ok = code == 0 and "(connected)" in out and "eligibility: ineligible (temperature)" in out
                return out if ok else None
            out = wait_for(hot_and_connected, 30, "edgefl-device status to show the device connected and too hot")
            assert "temperature 80.0 C, limit 75.0 C, eligible again below 70.0 C" in out, out
            assert "readings: temperature 80.0 C;" in out, out
            assert "device: hot (pid " in out and "state: running" in out and "training: idle" in out, out
            assert "outbox: 0 update(s)" in out, out

            def server_sees_it():
                rows = json.loads(fleet.get("/status")[1])["devices"]["rows"]
                return rows if rows and rows[0]["ineligible"] == "temperature" else None
            rows = wait_for(server_sees_it, 10, "/status to show the device ineligible")
            assert rows[0]["id"] == "hot" and rows[0]["eligible"] is False, rows
            families = parse_exposition(fleet.get("/metrics")[1])
            samples = {(name, labels.get("reason")): value
                       for name, labels, value in families["edgefl_devices_ineligible"]["samples"]}
            assert samples[("edgefl_devices_ineligible", "temperature")] == 1, samples
            assert families["edgefl_devices_eligible"]["samples"][0][2] == 0
            assert families["edgefl_rounds_closed_total"]["samples"][0][2] == 0
            assert not os.path.exists(fleet.metrics_path) or os.path.getsize(fleet.metrics_path) == 0

            set_temperature(root, 60000)
            code = fleet.devices[0].wait(timeout=60)
            assert code == 0, f"the device exited {code}"
            code, out, _ = device_status(device_bin, state)
            assert code == 0 and "state: finished" in out and "eligibility: eligible" in out, out
            assert "trained: 2 task(s), 2 update(s) acked" in out, out
            assert "readings: temperature 60.0 C;" in out, out
            print(out)
        finally:
            fleet.close()


if __name__ == "__main__":
    main()
