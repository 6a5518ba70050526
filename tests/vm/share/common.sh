# Shared by the guest scripts of power_cut.py (sourced; POSIX sh).
state=/var/lib/private/edgefl-device  # StateDirectory= of a DynamicUser= unit

say() { echo "vm: $*"; }
# One fact for the host, "report KEY VALUE".
report() { echo "report $1 $2"; }
unit() { systemctl show edgefl-device -p "$1" --value; }
outbox_entries() { find "$state/outbox" -name '*.upd' 2>/dev/null | wc -l; }

# Waits (at most $1 s) until the agent has run and exited; fails the script otherwise.
wait_agent_exit() {
  waited=0
  while [ "$waited" -lt "$1" ]; do
    if [ "$(unit ExecMainStartTimestampMonotonic)" != 0 ]; then
      case "$(unit ActiveState)" in inactive | failed) return 0 ;; esac
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "edgefl-device still $(unit ActiveState) after $1 s"
  journalctl -u edgefl-device -b --no-pager -o cat | tail -20
  exit 1
}

# Waits (at most $2 s) until this boot's journal of the agent has a line containing $1.
wait_journal() {
  waited=0
  until journalctl -u edgefl-device -b --no-pager -o cat | grep -q -- "$1"; do
    if [ "$waited" -ge "$2" ]; then
      say "no '$1' in the agent's journal after $2 s"
      journalctl -u edgefl-device -b --no-pager -o cat | tail -20
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# The agent's end: how systemd saw it and what its state dir holds.
report_end() {
  report "$1.result" "$(unit Result)"
  report "$1.exit_status" "$(unit ExecMainStatus)"
  report "$1.restarts" "$(unit NRestarts)"
  report "$1.outbox" "$(outbox_entries)"
}

use_outage() {
  mkdir -p /run/systemd/system/edgefl-device.service.d
  install -m 644 outage.conf /run/systemd/system/edgefl-device.service.d/vm-outage.conf
  systemctl daemon-reload
}

drop_outage() {
  rm -f /run/systemd/system/edgefl-device.service.d/vm-outage.conf
  systemctl daemon-reload
}
