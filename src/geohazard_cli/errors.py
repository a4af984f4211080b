"""One error hierarchy; the CLI maps each class to an exit code (see STYLE: one error boundary).

Exit codes: 0 done; 1 an expectation the user wrote did not hold; 2 bad input or unsound config;
3 an internal error (any other exception, turned into one line by ``cli.run``; --debug re-raises).
"""

from __future__ import annotations


class GeohazardError(Exception):
    """Base of every error a user can cause or act on. ``str(err)`` is the one-line message."""

    exit_code = 2


class InputError(GeohazardError):
    """A figure, flag or input file the officer supplied is not acceptable."""


class ConfigError(GeohazardError):
    """A rules, contacts or template file is unreadable or unsound."""


class NotFoundError(GeohazardError):
    """A named thing (incident id, plan profile, unit) does not exist."""


class StateError(GeohazardError):
    """The request conflicts with recorded state (for example, updating a closed incident)."""


class ExpectationFailed(GeohazardError):
    """An expectation the user wrote (a drill step) did not hold."""

    exit_code = 1


def field_error(field: str, value: object, accepted: str) -> InputError:
    """Build the standard message: ``--field: "value" is not ... (accepted ...)``."""
    shown = value if isinstance(value, str) else repr(value)
    if isinstance(shown, str) and len(shown) > 60:
        shown = shown[:57] + "..."
    return InputError(f'{field}: "{shown}" {accepted}')
