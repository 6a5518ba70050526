# Shared by the guest scripts of power_cut.py (sourced; POSIX sh).
state=/var/lib/private/edgefl-device  # StateDirectory= of a DynamicUser= unit

say() { echo "vm: $*"; }
# One fact for the host, "report KEY VALUE".
report() { echo "report $1 $2"; }
unit() { systemctl show edgefl-device -p "$1" --value; }
journal_fs() { findmnt -n -o SOURCE /var/log/journal || echo none; }
outbox_entries() { find "$state/outbox" -name '*.upd' 2>/dev/null | wc -l; }
outbox_ids() { find "$state/outbox" -name '*.upd' -printf '%f ' 2>/dev/null; }

# Waits (at most $1 s) until the agent has done its part of the run: trained task $2, then
# exited on the server's Bye ("exited"), or, the Bye lost with the server's exit, either had
# everything acknowledged ("acked") or noticed that the server is gone ("server-gone"; the
# last update's Ack may have been lost with the Bye, and the outbox keeps it). In the last two
# cases the agent is stopped. Reports $3.ended; fails the script after $1 s.
wait_agent_done() {
  end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do
    if [ "$(unit ExecMainStartTimestampMonotonic)" != 0 ]; then
      case "$(unit ActiveState)" in
        inactive | failed) report "$3.ended" exited; return 0 ;;
      esac
      log=$(journalctl -b "_SYSTEMD_INVOCATION_ID=$(unit InvocationID)" -o cat)
      if echo "$log" | grep -q "task $2 trained"; then
        ended=""
        if [ "$(outbox_entries)" = 0 ]; then
          sleep 5  # the Bye's moment
          ended=acked
        elif echo "$log" | sed -n "/task $2 trained/,\$p" | grep -q "no word from the server"; then
          ended=server-gone
        fi
        if [ -n "$ended" ]; then
          case "$(unit ActiveState)" in
            inactive | failed) report "$3.ended" exited ;;
            *) report "$3.ended" "$ended"; systemctl stop edgefl-device ;;
          esac
          return 0
        fi
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
  report "$1.outbox_ids" "$(outbox_ids)"
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
