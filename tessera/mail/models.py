"""The email channel's records: receiving mailboxes, raw inbound messages (kept for audit), bouncing
addresses and the outbound outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import User
from tessera.mail.crypto import EncryptedTextField


def raw_path(instance: InboundMessage, filename: str) -> str:
    # Content-addressed: a re-delivered identical message is stored once, and the name never comes
    # from the message itself.
    return f"mail/raw/{instance.sha256[:2]}/{instance.sha256}.eml"


class Mailbox(models.Model):
    """A receiving address (support@, billing@, abuse@…) and the department its mail goes to; optionally
    an IMAP mailbox Tessera fetches from."""

    class Security(models.TextChoices):
        SSL = "ssl", _("TLS (IMAPS, port 993)")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (loopback only)")

    class Auth(models.TextChoices):
        PASSWORD = "password", _("Password")
        XOAUTH2 = "xoauth2", _("OAuth 2 (XOAUTH2)")

    address = models.EmailField(_("receiving address"), unique=True)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    trusted = models.BooleanField(
        _("trusted channel"),
        default=False,
        help_text=_(
            "Honour Tessera's own X-Tessera-* headers (department, priority) in mail arriving here. "
            "Only for addresses that outsiders cannot write to directly."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    imap_host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_auth = models.CharField(_("IMAP login"), max_length=10, choices=Auth.choices, default=Auth.PASSWORD)
    imap_username = models.CharField(_("IMAP user"), max_length=200, blank=True)
    # Secrets are stored encrypted (tessera.mail.crypto) and never shown back in the admin.
    imap_password = EncryptedTextField(_("IMAP password"), blank=True)
    imap_folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    imap_done_folder = models.CharField(
        _("move processed mail to"),
        max_length=200,
        blank=True,
        help_text=_("Empty: stored messages are only flagged as seen."),
    )
    oauth_token_url = models.URLField(_("OAuth token URL"), blank=True)
    oauth_client_id = models.CharField(_("OAuth client id"), max_length=200, blank=True)
    oauth_client_secret = EncryptedTextField(_("OAuth client secret"), blank=True)
    oauth_refresh_token = EncryptedTextField(_("OAuth refresh token"), blank=True)
    oauth_access_token = EncryptedTextField(blank=True)
    oauth_expires_at = models.DateTimeField(null=True, blank=True)
    # Where fetching resumes: UIDs are only meaningful within one UIDVALIDITY.
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    # Only one fetcher (the minute job or the IDLE loop, in any process) works a mailbox at a time: it
    # holds this lease, renews it while fetching, and a dead process's lease simply runs out.
    fetch_lease_owner = models.CharField(_("fetched by"), max_length=100, blank=True)
    fetch_lease_until = models.DateTimeField(_("fetch lease until"), null=True, blank=True)

    class Meta:
        ordering = ["address"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.address

    @property
    def fetches(self) -> bool:
        return bool(self.is_active and self.imap_host and self.imap_username)


class InboundMessage(models.Model):
    """One received message, stored raw before anything else happens, then processed by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        QUARANTINED = "quarantined", _("Quarantined")
        IGNORED = "ignored", _("Ignored")
        REJECTED = "rejected", _("Rejected")

    class Auth(models.TextChoices):
        """What our receiving server's topmost Authentication-Results stamp said about the From address."""

        PASS = "pass", _("Authenticated")
        DMARC_FAIL = "dmarc_fail", _("DMARC failed")
        SPF_FAIL = "spf_fail", _("SPF failed")
        NO_PASS = "no_pass", _("No passing result")
        MISSING = "missing", _("No result from our server")

    class Release(models.TextChoices):
        """How a reviewer let a held message through (read by the pipeline when it processes it again)."""

        SENDER = "sender", _("Released as the claimed sender")
        CONTACT = "contact", _("Released as a new unverified contact")

    # Message-ID when present, else the content hash: a re-delivery (even with extra Received headers)
    # is recognised and never processed twice.
    dedupe_key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    raw = models.FileField(upload_to=raw_path, max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    source = models.CharField(_("received through"), max_length=30)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    sender = models.CharField(_("sender"), max_length=320, blank=True)  # indexed by inbound_sender_idx
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("reason"), blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    ticket = models.ForeignKey(  # indexed by inbound_ticket_idx
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The full text before quoted history and signatures were folded away, and the sanitised HTML.
    full_text = models.TextField(blank=True)
    clean_html = models.TextField(blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Sender authentication ("" when no TESSERA_MAIL_AUTHSERV_ID is configured), the department a held
    # message was addressed to (who may review it) and the review.
    auth = models.CharField(_("authentication"), max_length=12, choices=Auth.choices, blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    release = models.CharField(_("release"), max_length=10, choices=Release.choices, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_idx"),
            models.Index(fields=["sender", "received_at"], name="inbound_sender_idx"),
            models.Index(fields=["ticket", "received_at"], name="inbound_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"


class BouncingAddress(models.Model):
    """An address that bounced our mail: nothing more is sent to it until it writes to us again."""

    email = models.EmailField(_("address"), unique=True)
    reason = models.TextField(_("reason"), blank=True)
    bounces = models.PositiveIntegerField(_("bounces"), default=1)
    first_bounced_at = models.DateTimeField(default=timezone.now)
    last_bounced_at = models.DateTimeField(_("last bounce"), default=timezone.now)

    class Meta:
        ordering = ["-last_bounced_at"]
        verbose_name = _("bouncing address")
        verbose_name_plural = _("bouncing addresses")

    def __str__(self) -> str:
        return self.email


class AcknowledgedSender(models.Model):
    """When a sender's mail was last acknowledged: at most one acknowledgement per address per
    TESSERA_MAIL_ACK_WINDOW_SECONDS, whatever else holds their mail (RFC 3834 §2: limit automatic
    replies to the same sender)."""

    email = models.EmailField(_("address"), unique=True)
    last_acknowledged_at = models.DateTimeField(_("last acknowledged"))

    class Meta:
        verbose_name = _("acknowledged sender")
        verbose_name_plural = _("acknowledged senders")

    def __str__(self) -> str:
        return self.email


class DeliveryStatus(models.TextChoices):
    """What a provider's tracking webhook said about an email after it left us."""

    DELIVERED = "delivered", _("Delivered")
    DEFERRED = "deferred", _("Delayed")
    BOUNCED = "bounced", _("Bounced")
    REJECTED = "rejected", _("Rejected by the provider")
    COMPLAINED = "complained", _("Marked as spam")


class OutboundEmail(models.Model):
    """One email to one recipient, written in the transaction of the change that caused it and delivered by
    a task after commit."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Not sent")

    dedupe_key = models.CharField(max_length=200, unique=True)
    to = models.CharField(_("recipient"), max_length=320)
    from_email = models.CharField(_("sender"), max_length=320)
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255)
    # Set for an email rendered when it is delivered (tessera.mail.outbound.queue_template_email): its
    # template and inputs (ids, the recipient's language); `to`, subject and bodies are filled in then.
    # Null: rendered when queued. Nullable, so adding it did not rewrite the table.
    render = models.JSONField(null=True, blank=True)
    ticket = models.ForeignKey(  # indexed by outbound_ticket_idx
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    auto_submitted = models.BooleanField(default=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    attempt_log = models.JSONField(default=list, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # What the provider reported afterwards (anymail tracking webhooks).
    esp_message_id = models.CharField(_("provider message id"), max_length=255, blank=True, db_index=True)
    delivery_status = models.CharField(
        _("delivery"), max_length=12, choices=DeliveryStatus.choices, blank=True
    )
    delivery_reason = models.TextField(_("delivery report"), blank=True)
    delivery_updated_at = models.DateTimeField(_("delivery reported"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbound_state_idx"),
            models.Index(fields=["claim"], name="outbound_claim_idx"),
            models.Index(fields=["ticket", "created_at"], name="outbound_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class DeliveryEvent(models.Model):
    """One tracking event from a provider's webhook, kept as received; linked to our email when its message
    id is ours (an unknown id is recorded and otherwise ignored)."""

    esp = models.CharField(_("provider"), max_length=30)
    event_type = models.CharField(_("event"), max_length=20)
    event_id = models.CharField(max_length=200, blank=True)
    message_id = models.CharField(_("message id"), max_length=255, blank=True, db_index=True)
    recipient = models.CharField(_("recipient"), max_length=320, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    occurred_at = models.DateTimeField(_("occurred"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    outbound = models.ForeignKey(
        OutboundEmail,
        verbose_name=_("email"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="delivery_events",
    )
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")

    def __str__(self) -> str:
        return f"{self.esp} {self.event_type}: {self.recipient}"


class SecurityEvent(models.Model):
    """One entry of the mail security log: what the email channel refused or held (spoofing, forged
    authentication results, bad reply tokens, storms, third parties) and every review decision, with who
    and when. Written once, never changed."""

    class Kind(models.TextChoices):
        SPOOFING = "spoofing", _("Spoofing attempt")
        UNAUTHENTICATED = "unauthenticated", _("Unauthenticated sender")
        FORGED_AUTH = "forged_auth", _("Forged authentication results")
        BAD_TOKEN = "bad_token", _("Bad reply token")
        STORM = "storm", _("Mail storm")
        THIRD_PARTY = "third_party", _("Reply from a third party")
        RELEASED_SENDER = "released_sender", _("Released as the claimed sender")
        RELEASED_CONTACT = "released_contact", _("Released as a new unverified contact")
        ATTACHED = "attached", _("Attached to a ticket")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    inbound = models.ForeignKey(
        InboundMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
        db_index=False,  # security_inbound_idx
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            models.Index(fields=["created_at"], name="security_created_idx"),
            models.Index(fields=["sender", "created_at"], name="security_sender_idx"),
            models.Index(
                fields=["inbound"], condition=models.Q(inbound__isnull=False), name="security_inbound_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.sender}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("Security events are immutable.")
        super().save(*args, **kwargs)


class TrustedMailServer(models.Model):
    """A receiving mail server whose Authentication-Results (SPF, DKIM, DMARC) Tessera believes, named by
    the authserv-id it writes in them (RFC 8601). Added by an admin on the admin pages or through the API,
    next to TESSERA_MAIL_AUTHSERV_ID; headers with any other id are ignored as forgeable."""

    authserv_id = models.CharField(
        _("authserv-id"),
        max_length=253,
        unique=True,
        help_text=_("As the server writes it first in Authentication-Results, e.g. mx.example.com."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        "accounts.User", verbose_name=_("added by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["authserv_id"]
        verbose_name = _("trusted receiving server")
        verbose_name_plural = _("trusted receiving servers")

    def __str__(self) -> str:
        return self.authserv_id


class VerifiedContact(User):
    """The customers whose address is verified, as the admin pages list them for the email channel
    (registered one by one or from a CSV file); a view of accounts.User, not a table."""

    class Meta:
        proxy = True
        verbose_name = _("verified contact")
        verbose_name_plural = _("verified contacts")
