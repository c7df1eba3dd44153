"""A real Dovecot IMAP server on 127.0.0.1 for the tests, run from a throwaway config directory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER = "helpdesk"
PASSWORD = "imap-secret-1"


def available() -> bool:
    return os.path.exists(DOVECOT) and os.geteuid() == 0


class Dovecot:
    def __init__(self, root: Path, port: int, introspection_url: str = "") -> None:
        self.root = root
        self.port = port
        # With an introspection URL, XOAUTH2 logins are checked by Dovecot's oauth2 passdb against it.
        self.introspection_url = introspection_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        base = self.root / "run"
        mail = self.root / "mail"
        for folder in (base, mail):
            folder.mkdir(parents=True, exist_ok=True)
        # Mail is stored as an unprivileged user (Dovecot refuses root for mail users).
        uid, gid = 65534, 65534
        os.chown(mail, uid, gid)
        # Dovecot's auth process runs as its own user and must read the passwd file.
        self.root.chmod(0o755)
        (self.root / "passwd").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail}::userdb_mail=maildir:{mail}/Maildir\n"
        )
        (self.root / "passwd").chmod(0o644)
        mechanisms, oauth2 = "plain login", ""
        if self.introspection_url:
            (self.root / "dovecot-oauth2.conf.ext").write_text(
                f"introspection_mode = post\n"
                f"introspection_url = {self.introspection_url}\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
            mechanisms += " xoauth2 oauthbearer"
            oauth2 = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {self.root / "dovecot-oauth2.conf.ext"}
}}"""
        config = self.root / "dovecot.conf"
        config.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {base}
state_dir = {self.root / "state"}
log_path = {self.root / "dovecot.log"}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
mail_location = maildir:{mail}/Maildir
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
first_valid_uid = 0
login_trusted_networks = 127.0.0.0/8
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN {self.root / "passwd"}
}}{oauth2}
userdb {{
  driver = passwd-file
  args = {self.root / "passwd"}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Processed {{
    auto = create
  }}
}}
"""
        )
        (self.root / "state").mkdir(exist_ok=True)
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.2)
        errors = b""
        if self.process.poll() is not None and self.process.stderr is not None:
            errors = self.process.stderr.read()
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        self.stop()
        raise RuntimeError(f"dovecot did not start: {errors.decode(errors='replace')} {log[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
