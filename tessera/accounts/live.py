"""Ending a person's live connections (websockets) the moment their sign-in ends: sign-out, a deleted or
expired session, a changed password, a disabled account.

Every websocket consumer also listens to its user's group (`group_name`). The hooks below tell that group
to check, and each consumer then asks the database whether its own session still signs its user in
(channels.auth.get_user: session present and unexpired, password hash unchanged, account active); if
not, it closes. Consumers run the same check on their timer and at their session's expiry, so where a
push cannot reach them (the in-memory layer of the embedded default, across processes), a socket still
closes within the live poll interval (tessera.core.live)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session

from tessera.core.live import push_after_commit

MESSAGE_TYPE = "session.check"  # handled by tessera.core.consumers.WatchingConsumer.session_check
# Saving a user with these fields (or without update_fields) may end their sessions.
SIGN_IN_FIELDS = frozenset({"is_active", "password"})


def group_name(user_id: int) -> str:
    return f"sessions.user.{user_id}"


def check_sessions(user_id: int, *, ended: str | None = None) -> None:
    """Tell the user's open sockets to re-check their session once the current transaction commits;
    `ended`: a session key known to be over (sign-out), whose sockets close without asking."""
    push_after_commit(group_name(user_id), {"type": MESSAGE_TYPE, "ended": ended})


def on_logged_out(sender: object, request: Any, user: Any, **kwargs: Any) -> None:
    """user_logged_out receiver: the session is flushed just after this, so its key is passed along."""
    if user is not None and getattr(request, "session", None) is not None:
        check_sessions(user.pk, ended=request.session.session_key)


def on_user_saved(sender: object, instance: Any, created: bool, update_fields: Any, **kwargs: Any) -> None:
    """post_save receiver of the user model: disabling an account or changing its password."""
    if not created and (update_fields is None or SIGN_IN_FIELDS & set(update_fields)):
        check_sessions(instance.pk)


def on_session_deleted(sender: object, instance: Session, **kwargs: Any) -> None:
    """post_delete receiver of database sessions: a flush, `clearsessions`, an administrator's deletion."""
    user_id = instance.get_decoded().get(SESSION_KEY)
    if user_id is not None:
        check_sessions(int(user_id), ended=instance.session_key)
