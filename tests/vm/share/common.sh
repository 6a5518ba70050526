# Shared by the guest scripts of power_cut.py (sourced; POSIX sh).
state=/var/lib/private/edgefl-device  # StateDirectory= of a DynamicUser= unit

say() { echo "vm: $*"; }
# One fact for the host, "report KEY VALUE".
report() { echo "report $1 $2"; }
unit() { systemctl show edgefl-device -p "$1" --value; }
journal_fs() { findmnt -n -o SOURCE /var/log/journal || echo none; }
outbox_entries() { find "$state/outbox" -name '*.upd' 2>/dev/null | wc -l; }

# Waits (at most $1 s) until the agent has finished the run: it exited, or it trained task $2
# and its outbox is empty (the server acknowledged everything; its Bye, sent as it exits, can
# be lost with its connection, and then the agent waits for it to come back). Reports
# $3.ended: "exited", or "running" (then stopped). Fails the script after $1 s.
wait_agent_done() {
  end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do
    if [ "$(unit ExecMainStartTimestampMonotonic)" != 0 ]; then
      case "$(unit ActiveState)" in
        inactive | failed) report "$3.ended" exited; return 0 ;;
      esac
      if [ "$(outbox_entries)" = 0 ] &&
        journalctl -b "_SYSTEMD_INVOCATION_ID=$(unit InvocationID)" -o cat | grep -q "task $2 trained"; then
        sleep 5  # the Bye's moment
        case "$(unit ActiveState)" in
          inactive | failed) report "$3.ended" exited ;;
          *) report "$3.ended" running; systemctl stop edgefl-device ;;
        esac
        return 0
      fi
    fi
    sleep 1
  done
  say "edgefl-device still $(unit ActiveState) after $1 s"
  journalctl -u edgefl-device -b --no-pager -o cat | tail -20
  exit 1
}

# Waits (at most $2 s) until this boot's journal of the agent has a line containing $1.
wait_journal() {
  end=$(($(date +%s) + $2))
  until journalctl -u edgefl-device -b --no-pager -o cat | grep -q -- "$1"; do
    if [ "$(date +%s)" -ge "$end" ]; then
      say "no '$1' in the agent's journal after $2 s"
      journalctl -u edgefl-device -b --no-pager -o cat | tail -20
      exit 1
    fi
    sleep 1
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
