from __future__ import annotations

from django.contrib import admin

from tessera.notifications.models import EmailPreferences, Notification, NotificationAddress


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("title", "user", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "user__email", "dedupe_key")
    raw_id_fields = ("user", "ticket")
    readonly_fields = ("dedupe_key", "created_at")
    date_hierarchy = "created_at"


@admin.register(NotificationAddress)
class NotificationAddressAdmin(admin.ModelAdmin[NotificationAddress]):
    list_display = ("user", "kind", "email", "confirmed_at")
    list_filter = ("kind",)
    search_fields = ("user__email", "email")
    raw_id_fields = ("user",)


@admin.register(EmailPreferences)
class EmailPreferencesAdmin(admin.ModelAdmin[EmailPreferences]):
    list_display = ("user", "muted", "updated_at")
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
