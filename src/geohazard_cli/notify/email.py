"""E-mail over SMTP (smtplib): STARTTLS when ``starttls: true``, login when ``username`` is set (the
password from ``secret_env``). One connection for a run, opened at the first message."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

from geohazard_cli.notify.interface import Message, Result


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

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.starttls:
                    import ssl

                    smtp.starttls(context=ssl.create_default_context())
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
        try:
            refused = self._connect().send_message(mail)
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
