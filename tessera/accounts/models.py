from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("role", User.Role.ADMIN)
        fields.setdefault("is_superuser", True)
        fields.setdefault("is_verified", True)
        user = self.create_user(email, password, **fields)
        # The operator typed this address: record it as verified, so allauth lets the admin set up MFA.
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who takes part in a ticket: customers (contacts), agents and admins.

    A contact created from an email or a phone call has no usable password until they sign up;
    `is_verified` says whether their address has been confirmed (the seeds treat account-specific
    requests from unverified addresses differently).
    """

    class Role(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        ADMIN = "admin", _("Administrator")

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    is_org_manager = models.BooleanField(
        _("organisation manager"), default=False, help_text=_("Sees every ticket of the organisation.")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    languages_spoken = models.JSONField(
        _("languages spoken"), default=list, blank=True, help_text=_("Agents: language codes they answer in.")
    )
    skills = models.JSONField(_("skills"), default=list, blank=True)
    is_verified = models.BooleanField(_("verified address"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff(self) -> bool:  # the Django admin is for Tessera admins only
        return self.role == self.Role.ADMIN

    @property
    def is_agent(self) -> bool:
        return self.role in (self.Role.AGENT, self.Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("receiving address"), blank=True)
    auto_assign = models.BooleanField(
        _("assign automatically"),
        default=False,
        help_text=_("New tickets go to the most suitable agent of the department."),
    )
    reopen_window_days = models.PositiveIntegerField(
        _("reopen window (days)"),
        default=14,
        help_text=_("A customer reply within this many days reopens a resolved ticket."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="departments", blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(_("department lead"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "agent"], name="unique_membership")]
        verbose_name = _("department membership")
        verbose_name_plural = _("department memberships")

    def __str__(self) -> str:
        return f"{self.agent} @ {self.department}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored: tokens are long random strings,
    so a fast hash is safe, and the prefix lets us find the row without scanning."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SignInFailure(models.Model):
    """Failed sign-ins counted per account (its lower-cased email) and per client address, in a fixed
    window. In the database so every serving process shares the count (tessera.accounts.lockout)."""

    key = models.CharField(max_length=100, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
