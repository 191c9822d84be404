"""Errors of registration, login and API keys, with the codes and messages RAGFlow uses."""

from ragflow_site.exceptions import AuthorizationError, ForbiddenError, OperatingError


class RegistrationError(OperatingError):
    """Registration rejected: disabled, invalid email or nickname, or email already registered."""


class LoginError(AuthorizationError):
    """Unknown email, wrong password or missing credentials."""


class AccountDisabledError(ForbiddenError):
    """The account exists but is disabled."""
