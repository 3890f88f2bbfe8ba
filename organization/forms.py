"""The password change that ends a one-time password (issue 16)."""

from django.contrib.auth.forms import PasswordChangeForm


class FirstPasswordChangeForm(PasswordChangeForm):
    """Django's password change; saving it also clears ``must_change_password``."""

    def save(self, commit=True):
        self.user.must_change_password = False
        return super().save(commit=commit)
