"""E-mail over SMTP (smtplib): STARTTLS when ``starttls: true`` (the server's certificate verified,
against ``ca_file`` when set, else the system's trust store, and its name checked: never turned off),
login when ``username`` is set (the password from ``secret_env``; only under STARTTLS, settings.py).
One connection for a run, opened at the first message."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from geohazard_cli.notify.interface import Message, Result

if TYPE_CHECKING:
    import ssl


class Email:
    def __init__(self, name: str, settings: dict[str, Any], secret: str | None) -> None:
        self.name = name
        self.host, self.port = str(settings["host"]), int(settings.get("port", 25))
        self.starttls = bool(settings.get("starttls", False))
        self.username = settings.get("username")
        self.password = secret
        self.sender = str(settings["sender"])
        self.timeout = float(settings.get("timeout", 10))
        self._smtp: smtplib.SMTP | None = None
        self.tls = _context(name, settings.get("ca_file")) if self.starttls else None  # refused before sending

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.tls is not None:
                    smtp.starttls(context=self.tls)
                if self.username:
                    smtp.login(str(self.username), self.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: Message) -> Result:
        mail = EmailMessage()
        mail["From"], mail["To"] = self.sender, message.target
        mail["Subject"] = message.subject or message.text.splitlines()[0][:60]
        mail["Message-ID"] = f"<{message.key.replace(':', '.')}@geohazard-cli>"
        mail.set_content(message.text)
        import ssl

        try:
            refused = self._connect().send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            return Result(False, str(exc.smtp_code), "the server refused the login (username, secret_env)")
        except smtplib.SMTPNotSupportedError:
            self._drop()
            return Result(False, "tls", "the server does not offer STARTTLS (or login)")
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            return Result(False, "tls", f"the server's certificate did not verify ({exc.verify_message}; "
                          "ca_file names the CA that signed it)")
        except ssl.SSLError as exc:
            self._drop()
            return Result(False, "tls", f"TLS failed ({exc.reason or type(exc).__name__})")
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return Result(False, str(exc.smtp_code), "the server refused the message")
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0] if exc.recipients else 550
            return Result(False, str(code), "the server refused the address")
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            self._drop()
            return Result(False, "timeout" if isinstance(exc, TimeoutError) else "unreachable",
                          type(exc).__name__)
        if refused:
            return Result(False, "550", "the server refused the address")
        return Result(True, "250")

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            finally:
                self._smtp = None


def _context(name: str, ca_file: str | None) -> ssl.SSLContext:
    """A verifying TLS context: the system's trust store, or the CA certificates in ``ca_file``."""
    import ssl

    from geohazard_cli.errors import ConfigError

    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f'channel "{name}": ca_file {ca_file}: not a readable PEM file of CA certificates '
                          f"({getattr(exc, 'strerror', None) or exc})") from None
