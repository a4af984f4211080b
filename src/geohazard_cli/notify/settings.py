"""``notify.yaml``: the local delivery settings (a bureau's own, never the plan's): the channels,
each unit's SMS numbers (the first its main number, the rest backups) and e-mail addresses.
Secrets are never in the file: ``secret_env`` names the environment variable that holds one."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from geohazard_cli.errors import ConfigError

FILENAME = "notify.yaml"
PLACEHOLDER = re.compile(r"REPLACE|example\.(?:org|com)|XXXX|\b1\d{2}0{8}\b", re.IGNORECASE)  # mobiles of 8 zeros
_STRICT = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Channel(BaseModel):
    model_config = _STRICT
    type: Literal["dingtalk", "wecom", "feishu", "webhook", "email"]
    url: str | None = Field(default=None, pattern=r"^https?://")
    secret_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout: float = Field(default=10, gt=0, le=120)  # seconds a request may take
    retries: int = Field(default=2, ge=0, le=10)  # attempts after the first, in one run
    backoff: float = Field(default=1.0, ge=0, le=60)  # seconds before the first retry; doubles
    mentions: dict[str, str] = {}  # wecom: unit key -> mobile to @-mention
    host: str | None = None  # email
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    ca_file: str | None = None  # email: the CA certificate(s) (PEM) the server's is checked against;
    # default the system's trust store. Relative to notify.yaml. Verification is never turned off.
    username: str | None = None
    sender: str | None = None
    addresses: dict[str, str] = {}  # email: unit key -> address

    @model_validator(mode="after")
    def _needs(self) -> Channel:
        if self.type == "email":
            missing = [k for k in ("host", "sender") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"an email channel needs {' and '.join(missing)}")
            if self.username is not None and not self.starttls:
                raise ValueError("username without starttls would send the password unencrypted; set "
                                 "starttls: true (or drop username for a relay that needs no login)")
            if self.ca_file is not None and not self.starttls:
                raise ValueError("ca_file checks the server's certificate under starttls; set starttls: true")
        elif self.ca_file is not None:
            raise ValueError(f"ca_file is for an email channel, not {self.type}")
        elif self.url is None:
            raise ValueError(f"a {self.type} channel needs url")
        if self.type == "wecom" and self.secret_env:
            raise ValueError("a wecom group robot is not signed; its key is in the url (drop secret_env)")
        return self


class NotifyFile(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, populate_by_name=True)
    schema_version: Literal[1] = Field(alias="schema")
    local: Literal[True] = True  # marks the file as the bureau's own data
    channels: dict[str, Channel] = {}
    numbers: dict[str, list[str]] = {}  # unit key -> SMS numbers (main first, then backups)
    sms: dict[str, Any] = {}  # sms-file: retries/backoff are not used (a file write)

    @model_validator(mode="after")
    def _names(self) -> NotifyFile:
        for name in self.channels:
            if name in ("dry-run", "sms-file"):
                raise ValueError(f'"{name}" is a built-in channel; name yours differently')
        return self


def path_of(cfg: Path, option: Path | None) -> tuple[Path, str]:
    return (option, "--notify") if option is not None else (cfg / FILENAME, "config dir")


def parse(text: str, file: str) -> NotifyFile:
    from geohazard_cli.loader import parse_model

    return parse_model(NotifyFile, text, file)


def load(cfg: Path, option: Path | None, required: bool, channel: str | None = None) -> NotifyFile:
    """The settings; an empty set when the file is absent and only built-in channels are wanted.
    ``channel``: the one asked for, named first when there is no file to define it."""
    from geohazard_cli.loader import read_text

    path, how = path_of(cfg, option)
    if not path.is_file():
        if required or option is not None:
            asked = f'--channel: "{channel}" is not a channel: ' if channel is not None and option is None else ""
            raise ConfigError(f"{asked}{path}: no such file ({how}); channels other than dry-run and sms-file are "
                              "set in notify.yaml (copy notify.example.yaml to start)")
        return NotifyFile.model_validate({"schema": 1})
    conf = parse(read_text(path), str(path))
    relative = {name: ch.model_copy(update={"ca_file": str(path.parent / ch.ca_file)})
                for name, ch in conf.channels.items() if ch.ca_file and not Path(ch.ca_file).is_absolute()}
    return conf.model_copy(update={"channels": {**conf.channels, **relative}}) if relative else conf


def secret(channel: Channel, name: str) -> str | None:
    """The channel's secret from the environment variable it names (the value is never shown)."""
    if channel.secret_env is None:
        return None
    value = os.environ.get(channel.secret_env)
    if not value:
        raise ConfigError(f'channel "{name}": the environment variable {channel.secret_env} (its secret_env) '
                          "is not set")
    return value


def placeholders(text: str, file: str) -> list[tuple[int, str]]:
    """Lines still holding an example placeholder (``check`` flags them)."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)
            if PLACEHOLDER.search(line.split("#", 1)[0])]
