"""Errors a service raises; the API maps them to API.md's shapes, pages to messages.

- ``django.core.exceptions.ValidationError`` → 400 ``{field: [message]}``
- ``Forbidden`` → 403 ``{detail}``: this role may not act
- ``Conflict`` → 409 ``{detail}``: the current state does not allow the action
- ``Http404`` → 404: the object is not visible to the user (never reveal that it exists)
"""


class ServiceError(Exception):
    status = 400

    def __init__(self, detail):
        self.detail = detail
        super().__init__(str(detail))


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409
