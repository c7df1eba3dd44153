# System packages and services the tests need. Sourced by scripts/test and .ci/run.

install_system_packages() {
  local missing=()
  command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
  [ -x /usr/bin/chromium ] || missing+=(chromium)                    # browser tests (Playwright)
  [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd dovecot-lmtpd) # real IMAP server for mail tests
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing ${missing[*]} ..."
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "Please install: ${missing[*]}" >&2
      return 1
    fi
  fi
}

ensure_postgres() {
  # Start the local cluster if it is installed but stopped (CI machines start it; a dev box may not).
  local url="$1"
  if pg_isready -q -d "$url" 2>/dev/null; then return 0; fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
    for _ in $(seq 1 20); do pg_isready -q -d "$url" 2>/dev/null && return 0; sleep 0.5; done
  fi
  return 1
}
