"""API tokens (django-rest-knox): stored as digests, expiring after ``API_TOKEN_TTL_HOURS`` for
people; long-lived only for service accounts (``User.is_service_account``) that an administrator
creates for monitoring software and issues a token to in the admin. Every token of a user is
revoked when they log out of the pages, when their password changes and when they are
deactivated — wherever that happens (admin, ``changepassword``, a service), hence signals."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _
from knox.models import AuthToken

from sentiment_ops.exceptions import Forbidden

from .models import User


def token_issue(*, user, long_lived: bool = False) -> tuple[str, AuthToken]:
    """A new token for ``user``: (the token, shown once; its row). ``long_lived`` only for a
    service account (ValueError otherwise)."""
    if long_lived and not user.is_service_account:
        raise ValueError("long-lived tokens are for service accounts only")
    if user.must_change_password:  # a one-time password is changed on the pages first (issue 16)
        raise Forbidden(_("请先在网页上修改一次性密码，再申请接口令牌。"))
    expiry = None if long_lived else timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    instance, token = AuthToken.objects.create(user=user, expiry=expiry)
    return token, instance


def tokens_revoke(*, user, token: AuthToken | None = None) -> int:
    """Revoke ``token`` (the one a request presented), or every token of ``user``."""
    qs = AuthToken.objects.filter(user=user)
    if token is not None:
        qs = qs.filter(pk=token.pk)
    return qs.delete()[0]


@receiver(user_logged_out)
def _revoke_at_logout(sender, request, user, **kwargs):
    if user is not None and not user.is_service_account:
        tokens_revoke(user=user)


@receiver(pre_save, sender=User)
def _note_credential_change(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or (update_fields is not None
                                      and not {"password", "is_active"} & set(update_fields)):
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    instance._revoke_tokens = bool(before) and (
        before["password"] != instance.password or (before["is_active"] and not instance.is_active))


@receiver(post_save, sender=User)
def _revoke_after_credential_change(sender, instance, raw=False, **kwargs):
    if getattr(instance, "_revoke_tokens", False):  # in the saving transaction
        instance._revoke_tokens = False
        tokens_revoke(user=instance)
