"""incident notify / ack-import with real parts on 127.0.0.1: a local HTTP server checking each bot's
body and signature as the platform documents it (and answering 500 or stalling), a real SMTP
server (aiosmtpd), the XLSX read back with openpyxl; the journal's record checked exactly."""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

T0 = "2026-07-21 09:40"
SECRET = "SEC-test-secret-do-not-leak-7f3a9"


class Bot:
    """A local HTTP server: records each request; ``plan`` says how to answer the next ones
    ("ok", "500", "errcode", "stall"); then "ok"."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.plan: list[str] = []
        self.release = threading.Event()
        self.reply: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                url = urllib.parse.urlsplit(self.path)
                bot.requests.append({"path": url.path, "query": urllib.parse.parse_qs(url.query),
                                     "raw_query": url.query, "headers": dict(self.headers), "raw": raw,
                                     "body": json.loads(raw)})
                how = bot.plan.pop(0) if bot.plan else "ok"
                if how == "stall":
                    bot.release.wait(20)  # bounded: the test releases it at teardown
                if how == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                data = json.dumps({"errcode": 310000, "errmsg": "sign not match"} if how == "errcode"
                                  else bot.reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with_suppressed(lambda: self.wfile.write(data))

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self) -> list[str]:
        out = []
        for r in self.requests:
            b = r["body"]
            out.append(b.get("text", {}).get("content") if "msgtype" in b else b.get("content", {}).get("text")
                       if "msg_type" in b else b.get("text"))
        return out

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def with_suppressed(f: Any) -> None:
    with contextlib.suppress(OSError):  # the client gave up (a timeout test)
        f()


@pytest.fixture
def bot() -> Iterator[Bot]:
    b = Bot()
    yield b
    b.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


def notify_yaml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "notify.yaml"
    path.write_text("schema: 1\nlocal: true\n" + body, encoding="utf-8")
    return path


@pytest.fixture
def inc(cli, db: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GEOHAZARD_TEST_SECRET", SECRET)

    def invoke(*args: str, ok: bool = True) -> Any:
        r = cli("incident", *args, "--db", str(db))
        if ok:
            assert r.exit_code == 0, r.stderr
        return r

    return invoke


def j(inc, *args: str) -> Any:  # type: ignore[no-untyped-def]
    r = inc(*args, "--format", "json")
    return json.loads(r.stdout)


def opened(inc) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A III级 incident (18 units on its call list); its call list."""
    out = j(inc, "open", "--deaths", "1", "--location", "七里山", "--hazard-type", "landslide", "--at", T0)
    return list(out["call_list"]["entries"])


def events(db: Path, kind: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    try:
        return [json.loads(r[0]) for r in conn.execute("SELECT details FROM events WHERE kind = ? ORDER BY seq",
                                                       (kind,))]
    finally:
        conn.close()


def no_secret(db: Path, *texts: str) -> None:
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert SECRET.encode() not in raw
    for t in texts:
        assert SECRET not in t


# --- dry run, journal record, idempotency -------------------------------------------------------

def test_dry_run_records_every_unit_once_and_never_twice(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    entries = opened(inc)
    out = j(inc, "notify", "1", "--channel", "dry-run", "--at", "2026-07-21 09:45")
    assert [m["unit"] for m in out["messages"]] == [e["unit"] for e in entries]
    assert {m["status"] for m in out["messages"]} == {"sent"} and out["undelivered"] == 0
    assert all(m["text"].startswith("【地质灾害叫应】") and "III级响应" in m["text"] for m in out["messages"])
    # the level as opened is the plan's, proposed to 区政府 (§6.1.2, §6.2.2): not said to be started
    assert all("按预案拟启动III级响应(待决定)" in m["text"] and "决定启动" not in m["text"] for m in out["messages"])
    msgs, attempts = events(db, "message"), events(db, "attempt")
    assert len(msgs) == len(entries) and len({m["key"] for m in msgs}) == len(entries)
    # Each message claimed (sending) before it is recorded sent. dry-run reaches no one, so a
    # round's claims are one transaction and its results another (delivery.send_all).
    by_key: dict[str, list[str]] = {}
    for a in attempts:
        by_key.setdefault(a["key"], []).append(a["result"])
    assert by_key == {m["key"]: ["sending", "sent"] for m in msgs}
    assert [a["result"] for a in attempts] == ["sending"] * len(entries) + ["sent"] * len(entries)
    assert msgs[0]["key"] == "1/1/hq_office/dry-run/incident"
    assert msgs[0]["text_digest"] == "sha256:" + hashlib.sha256(msgs[0]["text"].encode()).hexdigest()
    again = j(inc, "notify", "1", "--channel", "dry-run")
    assert again["messages"] == [] and len(again["skipped"]) == len(entries)
    assert j(inc, "notify", "1", "--channel", "dry-run", "--retry")["messages"] == []
    assert len(events(db, "message")) == len(entries) and len(events(db, "attempt")) == 2 * len(entries)
    assert j(inc, "check")["damaged"] is False


def test_an_exercise_is_marked_and_answered_units_are_not_messaged(inc) -> None:  # type: ignore[no-untyped-def]
    j(inc, "open", "--deaths", "1", "--location", "七里山", "--exercise", "--at", T0)
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 09:42")
    out = j(inc, "notify", "1", "--channel", "dry-run", "--units", "区应急局", "--units", "区水务局")
    assert [m["unit"] for m in out["messages"]] == ["区应急局", "区水务局"]
    assert all(m["text"].startswith("【演练】【地质灾害叫应】") for m in out["messages"])
    rest = j(inc, "notify", "1", "--channel", "dry-run")
    assert "区应急局" not in [m["unit"] for m in rest["messages"]]  # answered this round
    assert "区水务局" in [s["unit"] for s in rest["skipped"]]


def test_a_decided_level_is_a_new_round_and_a_new_message(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    inc("notify", "1", "--channel", "dry-run", "--units", "区应急局")
    inc("update", "1", "--deaths", "12", "--at", "2026-07-21 10:00")
    inc("decide", "1", "--level", "II", "--by", "区政府", "--at", "2026-07-21 10:05")
    out = j(inc, "notify", "1", "--channel", "dry-run", "--units", "区应急局")
    [m] = out["messages"]
    assert m["key"].endswith("/emergency/dry-run/level_change") and "调整为II级响应" in m["text"]
    assert j(inc, "notify", "1", "--channel", "dry-run", "--units", "区应急局", "--reminders")["messages"][0][
        "key"].endswith("/reminder")



def test_one_reminders_flag_units_now_or_what_is_late(inc, copy: Path) -> None:  # type: ignore[no-untyped-def]
    """--reminders with --units reminds those units now, before any deadline and without
    response.local.yaml, once a round; the older --reminder is gone (click points at --reminders)."""
    opened(inc)  # 09:40
    (copy / "response.local.yaml").unlink(missing_ok=True)
    out = j(inc, "notify", "1", "--channel", "dry-run", "--units", "区水务局", "--reminders", "--at",
            "2026-07-21 09:45", "--config-dir", str(copy))
    [m] = out["messages"]
    assert m["key"] == "1/1/water/dry-run/reminder" and m["text"].startswith("【叫应提醒】区水务局:")
    assert "已逾期" not in m["text"]
    again = j(inc, "notify", "1", "--channel", "dry-run", "--units", "区水务局", "--reminders", "--at",
              "2026-07-21 09:50", "--config-dir", str(copy))
    assert again["messages"] == [] and [s["unit"] for s in again["skipped"]] == ["区水务局"]
    r = inc("notify", "1", "--channel", "dry-run", "--reminder", ok=False)
    assert r.exit_code == 2 and "--reminders" in r.stderr

# --- the bots -----------------------------------------------------------------------------------

def test_dingtalk_body_and_signature_as_documented(inc, bot: Bot, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    entries = opened(inc)
    cfg = notify_yaml(tmp_path, "channels:\n  ding:\n    type: dingtalk\n"
                                f"    url: {bot.url}/robot/send?access_token=tok\n"
                                "    secret_env: GEOHAZARD_TEST_SECRET\n")
    r = inc("notify", "1", "--channel", "ding", "--notify", str(cfg), "--format", "json")
    out = json.loads(r.stdout)
    assert len(bot.requests) == len(entries) == len(out["messages"])
    for req, m in zip(bot.requests, out["messages"], strict=True):
        assert req["path"] == "/robot/send" and req["query"]["access_token"] == ["tok"]
        ts = req["query"]["timestamp"][0]
        assert abs(int(ts) - time.time() * 1000) < 60_000
        expected = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest())
        assert req["query"]["sign"] == [expected.decode()]
        assert f"sign={urllib.parse.quote_plus(expected)}" in req["raw_query"]  # URL-encoded base64
        assert req["body"] == {"msgtype": "text", "text": {"content": m["text"]}}
        assert m["code"] == "0" and m["status"] == "sent"
    no_secret(db, r.stdout, r.stderr)


def test_feishu_sign_in_the_body(inc, bot: Bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    bot.reply = {"code": 0, "msg": "success", "data": {}}
    cfg = notify_yaml(tmp_path, f"channels:\n  fs:\n    type: feishu\n    url: {bot.url}/open-apis/bot/v2/hook/h\n"
                                "    secret_env: GEOHAZARD_TEST_SECRET\n")
    out = j(inc, "notify", "1", "--channel", "fs", "--notify", str(cfg), "--units", "区应急局")
    [req] = bot.requests
    ts = req["body"]["timestamp"]
    assert isinstance(ts, str) and abs(int(ts) - time.time()) < 60
    sign = base64.b64encode(hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    assert req["body"] == {"timestamp": ts, "sign": sign, "msg_type": "text",
                           "content": {"text": out["messages"][0]["text"]}}
    assert out["messages"][0]["status"] == "sent"


def test_wecom_body_and_generic_webhook_signature(inc, bot: Bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, f"channels:\n  wx:\n    type: wecom\n    url: {bot.url}/cgi-bin/webhook/send?key=k\n"
                                "    mentions: {emergency: '13800000001'}\n"
                                f"  hook:\n    type: webhook\n    url: {bot.url}/hook\n"
                                "    secret_env: GEOHAZARD_TEST_SECRET\n")
    wx = j(inc, "notify", "1", "--channel", "wx", "--notify", str(cfg), "--units", "区应急局")
    assert bot.requests[0]["body"] == {"msgtype": "text", "text": {
        "content": wx["messages"][0]["text"], "mentioned_mobile_list": ["13800000001"]}}
    assert "sign" not in bot.requests[0]["raw_query"]
    hook = j(inc, "notify", "1", "--channel", "hook", "--notify", str(cfg), "--units", "区应急局")
    req = bot.requests[1]
    assert req["body"]["key"] == hook["messages"][0]["key"] and req["body"]["unit"] == "区应急局"
    assert req["headers"]["X-Geohazard-Signature"] == "sha256=" + hmac.new(
        SECRET.encode(), req["raw"], hashlib.sha256).hexdigest()


def test_500_is_retried_with_backoff_and_no_duplicate_after_retry(inc, bot: Bot, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, f"channels:\n  ding:\n    type: dingtalk\n    url: {bot.url}/s?access_token=t\n"
                                "    retries: 2\n    backoff: 0\n")
    bot.plan = ["500", "500"]  # the first message fails twice, then goes
    out = j(inc, "notify", "1", "--channel", "ding", "--notify", str(cfg), "--units", "区应急局", "--units", "区水务局")
    assert [(m["status"], m["attempts"]) for m in out["messages"]] == [("sent", 3), ("sent", 1)]
    assert [a["code"] for a in events(db, "attempt") if a["result"] != "sending"] == ["500", "500", "0", "0"]
    # an endpoint down for the whole run: everything stays queued (failed) for --retry
    bot.plan = ["500"] * 2
    cfg0 = notify_yaml(tmp_path, f"channels:\n  ding:\n    type: dingtalk\n    url: {bot.url}/s?access_token=t\n"
                                 "    retries: 0\n")
    r = inc("notify", "1", "--channel", "ding", "--notify", str(cfg0), "--units", "区应急局", "--units", "区卫生健康局",
            "--units", "公安市中分局", "--format", "json")
    down = json.loads(r.stdout)
    assert [m["status"] for m in down["messages"]] == ["failed", "failed"] and down["undelivered"] == 2
    assert [s["unit"] for s in down["skipped"]] == ["区应急局"]
    assert "--retry" in r.stderr
    before = len(bot.requests)
    again = j(inc, "notify", "1", "--channel", "ding", "--notify", str(cfg0), "--retry")
    assert [m["status"] for m in again["messages"]] == ["sent", "sent"]
    assert j(inc, "notify", "1", "--channel", "ding", "--notify", str(cfg0), "--retry")["messages"] == []
    assert len(bot.requests) == before + 2
    sent = [a["unit"] for a in events(db, "attempt") if a["result"] == "sent"]
    assert sorted(sent) == sorted(["区应急局", "区水务局", "区卫生健康局", "公安市中分局"])  # each once


def test_a_stalled_endpoint_times_out_bounded(inc, bot: Bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, f"channels:\n  ding:\n    type: dingtalk\n    url: {bot.url}/s?access_token=t\n"
                                "    retries: 0\n    timeout: 0.5\n")
    bot.plan = ["stall"]
    started = time.monotonic()
    out = j(inc, "notify", "1", "--channel", "ding", "--notify", str(cfg), "--units", "区应急局")
    assert time.monotonic() - started < 5
    assert out["messages"][0]["status"] == "failed" and out["messages"][0]["code"] == "timeout"


def test_errcode_is_a_failure_and_a_missing_secret_names_only_the_variable(inc, bot: Bot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    opened(inc)
    cfg = notify_yaml(tmp_path, f"channels:\n  ding:\n    type: dingtalk\n    url: {bot.url}/s?access_token=t\n"
                                "    retries: 0\n    secret_env: GEOHAZARD_TEST_SECRET\n")
    bot.plan = ["errcode"]
    out = j(inc, "notify", "1", "--channel", "ding", "--notify", str(cfg), "--units", "区应急局")
    assert (out["messages"][0]["status"], out["messages"][0]["code"]) == ("failed", "310000")
    monkeypatch.delenv("GEOHAZARD_TEST_SECRET")
    r = inc("notify", "1", "--channel", "ding", "--notify", str(cfg), "--retry", ok=False)
    assert r.exit_code == 2
    assert r.stderr == ('geohazard: error: channel "ding": the environment variable GEOHAZARD_TEST_SECRET '
                        "(its secret_env) is not set\n")


def test_notify_yaml_errors_name_file_and_line(inc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, "channels:\n  ding:\n    type: dingtalk\n    url: ftp://x\n")
    r = inc("notify", "1", "--channel", "ding", "--notify", str(cfg), ok=False)
    assert r.exit_code == 2 and f"{cfg}:6: channels.ding.url:" in r.stderr
    r = inc("notify", "1", "--channel", "nope", "--notify", str(cfg.parent / "missing.yaml"), ok=False)
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_a_killed_notify_resumes_without_sending_twice(bot: Bot, db: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GEOHAZARD_DB": str(db), "GEOHAZARD_TEST_SECRET": SECRET}
    cmd = [sys.executable, "-m", "geohazard_cli"]
    subprocess.run([*cmd, "incident", "open", "--deaths", "1", "--location", "七里山", "--at", T0],
                   env=env, check=True, capture_output=True)
    cfg = notify_yaml(tmp_path, f"channels:\n  ding:\n    type: dingtalk\n    url: {bot.url}/s?access_token=t\n"
                                "    secret_env: GEOHAZARD_TEST_SECRET\n    timeout: 30\n")
    bot.plan = ["ok", "ok", "stall"]
    p = subprocess.Popen([*cmd, "incident", "notify", "1", "--channel", "ding", "--notify", str(cfg)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while len(bot.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(bot.requests) == 3
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    bot.release.set()
    r = subprocess.run([*cmd, "incident", "notify", "1", "--channel", "ding", "--notify", str(cfg), "--retry",
                        "--format", "json"], env=env, capture_output=True, text=True, check=True)
    out = json.loads(r.stdout)
    msgs = events(db, "message")
    assert [s["status"] for s in out["skipped"]] == ["unknown"]  # the one in flight when killed
    assert len(out["messages"]) == len(msgs) - 3
    units = [m["unit"] for m in msgs]
    received = [t.split(":", 1)[0].removeprefix("【地质灾害叫应】") for t in bot.texts()]
    assert sorted(received) == sorted(units)  # N units -> N messages received, none twice
    sending = [a for a in events(db, "attempt") if a["result"] == "sending"]
    assert len(sending) == len(msgs)  # N attempts
    no_secret(db, r.stdout, r.stderr)


# --- email --------------------------------------------------------------------------------------

def make_certificates(where: Path) -> tuple[Path, Path, Path]:
    """A CA of the test's own and a server certificate it signed for 127.0.0.1 (PEM files):
    the CA, the server's certificate and its key."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("geohazard test CA")).issuer_name(name("geohazard test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = where / "ca.pem", where / "server.pem", where / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class Mailhost:
    """aiosmtpd on 127.0.0.1 as a bureau's mail server is set up: STARTTLS required before anything
    (with a certificate the test's own CA signed), login required (only under TLS)."""

    def __init__(self, where: Path) -> None:
        import socket
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.ca, cert, key = make_certificates(where)
        self.received: list[tuple[Any, bool, Any]] = []  # envelope, under TLS, logged in as
        host = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                host.received.append((envelope, bool(session.ssl), session.auth_data))
                return "250 OK"

        def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = data.login == b"duty" and data.password == SECRET.encode()
            return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)

        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        with socket.socket() as s:  # a free port (the controller checks itself by connecting to it)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=tls,
                                     require_starttls=True, authenticator=auth, auth_require_tls=True,
                                     auth_required=True)
        self.controller.start()

    def channel(self, *extra: str) -> str:
        return ("channels:\n  mail:\n    type: email\n    host: 127.0.0.1\n"
                f"    port: {self.port}\n    sender: duty@bureau.test\n    retries: 0\n"
                "    addresses: {emergency: yj@bureau.test, water: sw@bureau.test}\n"
                + "".join(f"    {line}\n" for line in extra))

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def mailhost(tmp_path: Path) -> Iterator[Mailhost]:
    host = Mailhost(tmp_path)
    yield host
    host.close()


LOGIN = ("starttls: true", "username: duty", "secret_env: GEOHAZARD_TEST_SECRET")


def test_email_over_starttls_verified_by_the_ca_file_and_login(inc, db: Path, tmp_path: Path,
                                                               mailhost: Mailhost) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, mailhost.channel(*LOGIN, "ca_file: ca.pem"))  # relative to notify.yaml
    out = j(inc, "notify", "1", "--channel", "mail", "--notify", str(cfg))
    sent = [m for m in out["messages"]]
    assert [(m["unit"], m["target"], m["status"], m["code"]) for m in sent] == [
        ("区应急局", "yj@bureau.test", "sent", "250"), ("区水务局", "sw@bureau.test", "sent", "250")]
    assert [(e.rcpt_tos, tls, login) for e, tls, login in mailhost.received] == [
        (["yj@bureau.test"], True, b"duty"), (["sw@bureau.test"], True, b"duty")]
    import email

    mail = email.message_from_bytes(mailhost.received[0][0].content, policy=email.policy.default)
    assert mail.get_content().strip() == sent[0]["text"]
    assert len(out["no_target"]) == 16  # the units with no address are listed
    no_secret(db)


def test_a_certificate_that_does_not_verify_fails_the_attempt_and_sends_nothing(
        inc, db: Path, tmp_path: Path, mailhost: Mailhost) -> None:  # type: ignore[no-untyped-def]
    """Without ca_file the system's trust store does not know the bureau's CA: the attempt fails,
    said as such, and the message stays to be retried (never sent unverified)."""
    opened(inc)
    cfg = notify_yaml(tmp_path, mailhost.channel(*LOGIN))
    r = inc("notify", "1", "--channel", "mail", "--notify", str(cfg), "--format", "json", ok=False)
    out = json.loads(r.stdout)
    assert {(m["status"], m["code"]) for m in out["messages"]} == {("failed", "tls")}
    assert "certificate did not verify" in out["messages"][0]["detail"]
    assert mailhost.received == []
    (tmp_path / "ca.pem").rename(tmp_path / "bureau-ca.pem")
    cfg = notify_yaml(tmp_path, mailhost.channel(*LOGIN, f"ca_file: {tmp_path / 'bureau-ca.pem'}"))
    again = j(inc, "notify", "1", "--channel", "mail", "--notify", str(cfg), "--retry")
    assert {(m["status"], m["code"]) for m in again["messages"]} == {("sent", "250")}
    assert len(mailhost.received) == 2  # each once
    no_secret(db, r.stdout, r.stderr)


def test_a_wrong_password_is_the_servers_refusal_of_the_login(inc, tmp_path: Path, mailhost: Mailhost,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    monkeypatch.setenv("GEOHAZARD_TEST_SECRET", "not-the-password")
    cfg = notify_yaml(tmp_path, mailhost.channel(*LOGIN, "ca_file: ca.pem"))
    out = json.loads(inc("notify", "1", "--channel", "mail", "--notify", str(cfg), "--format", "json",
                         ok=False).stdout)
    assert {(m["status"], m["code"], m["detail"]) for m in out["messages"]} == {
        ("failed", "535", "the server refused the login (username, secret_env)")}
    assert mailhost.received == []


@pytest.mark.parametrize(("lines", "problem"), [
    (("username: duty", "secret_env: GEOHAZARD_TEST_SECRET"),
     "username without starttls would send the password unencrypted; set starttls: true (or drop username "
     "for a relay that needs no login)"),
    (("ca_file: ca.pem",), "ca_file checks the server's certificate under starttls; set starttls: true"),
])
def test_login_and_ca_file_only_under_starttls(inc, tmp_path: Path, lines: tuple[str, ...], problem: str) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, "channels:\n  mail:\n    type: email\n    host: 127.0.0.1\n"
                                "    sender: duty@bureau.test\n" + "".join(f"    {x}\n" for x in lines))
    r = inc("notify", "1", "--channel", "mail", "--notify", str(cfg), ok=False)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"geohazard: error: {cfg}") and problem in r.stderr and len(r.stderr.splitlines()) == 1


def test_an_unreadable_ca_file_is_refused_before_anything_is_queued(inc, db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, "channels:\n  mail:\n    type: email\n    host: 127.0.0.1\n"
                                "    sender: duty@bureau.test\n    starttls: true\n    ca_file: nowhere.pem\n")
    r = inc("notify", "1", "--channel", "mail", "--notify", str(cfg), ok=False)
    assert r.exit_code == 2
    assert r.stderr == (f'geohazard: error: channel "mail": ca_file {tmp_path / "nowhere.pem"}: not a readable '
                        "PEM file of CA certificates (No such file or directory)\n")
    assert events(db, "message") == []


# --- sms-file -----------------------------------------------------------------------------------

def sms_numbers(copy: Path, entries: list[dict[str, Any]], every: int = 1) -> dict[str, str]:
    """notify.yaml in the config dir ``copy`` with a mobile for every ``every``-th unit of the call
    list (附件3 gives fixed lines only, and a text goes to a mobile): unit -> its number."""
    given = {e["unit"]: (e["unit_key"], f"139{i:08d}") for i, e in enumerate(entries) if i % every == 0}
    lines = [f"  {key}: ['{number}']" for key, number in given.values()]
    (copy / "notify.yaml").write_text("schema: 1\nlocal: true\nnumbers:\n" + "\n".join(lines) + "\n",
                                      encoding="utf-8")
    return {unit: number for unit, (_, number) in given.items()}


def test_sms_csv_and_xlsx_batch_files(inc, db: Path, tmp_path: Path, copy: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    entries = opened(inc)
    given = sms_numbers(copy, entries, every=2)
    batch = tmp_path / "batch.csv"
    out = j(inc, "notify", "1", "--channel", "sms-file", "--output", str(batch), "--config-dir", str(copy))
    with batch.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["number", "name", "text"]
    assert rows[1:] == [[m["target"], m["unit"], m["text"]] for m in out["messages"]]
    assert len(rows) - 1 + len(out["no_target"]) == len(entries)
    # a text goes to a mobile only: the bureau's SMS numbers; a unit with a fixed line alone is
    # listed, and why
    assert {m["unit"]: m["target"] for m in out["messages"]} == given
    fixed = {e["unit"] for e in entries if e["unit"] not in given and e.get("dial")}
    assert fixed and {n["unit"] for n in out["no_target"] if n["why"] == "仅有固定电话(短信发不到)"} == fixed
    assert all(n["why"] == "无号码或地址" for n in out["no_target"] if n["unit"] not in fixed)
    assert all(len(m["text"]) <= 70 and "over_one_segment" not in m for m in out["messages"])
    (copy / "templates" / "notify" / "reminder.sms-file.txt.j2").write_text(
        "{{ unit }}:" + "请尽快回复。" * 12 + "\n", encoding="utf-8")
    book = tmp_path / "batch.xlsx"
    given = sms_numbers(copy, entries)
    long = j(inc, "notify", "1", "--channel", "sms-file", "--output", str(book), "--reminders", "--config-dir",
             str(copy), "--units", "区应急局", "--units", "区水务局")
    ws = openpyxl.load_workbook(book).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values == [["number", "name", "text"], *[[m["target"], m["unit"], m["text"]] for m in long["messages"]]]
    assert [v[0] for v in values[1:]] == [given["区应急局"], given["区水务局"]]  # a number stays text
    assert all(m["over_one_segment"] and m["segments"] == 2 for m in long["messages"])
    r = inc("notify", "1", "--channel", "sms-file", "--output", str(book), "--units", "区卫生健康局", "--reminders",
            ok=False)
    assert r.exit_code == 2 and "exists" in r.stderr


# --- replies ------------------------------------------------------------------------------------

def test_ack_import_maps_numbers_and_texts_and_lists_the_rest(inc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened(inc)
    cfg = notify_yaml(tmp_path, "numbers:\n  emergency: ['13800000001', '13900000002']\n")
    replies = tmp_path / "replies.csv"
    replies.write_text("number,time,text\n"
                       "+86 139 0000 0002,2026-07-21 09:50,收到!\n"     # a backup number of 区应急局
                       "0531-82722671,2026-07-21 09:51,1\n"             # 区指挥部办公室 (contacts.yaml)
                       "13700000000,2026-07-21 09:52,收到\n"            # nobody's
                       "13800000001,2026-07-21 09:53,在开会\n",         # a text the table does not know
                       encoding="utf-8")
    out = j(inc, "ack-import", "1", str(replies), "--notify", str(cfg))
    assert [(a["details"]["unit"], a["details"]["outcome"]) for a in out["acks"]] == [
        ("区应急局", "answered"), ("区指挥部办公室", "answered")]
    assert out["acks"][0]["details"]["by"] == "短信回复"
    assert [(u["line"], u["reason"]) for u in out["unknown"]] == [
        (4, "unknown number"), (5, "reply text not in replies.yaml")]
    pending = [p["unit"] for p in out["pending"]]
    assert "区应急局" not in pending and "区指挥部办公室" not in pending


# --- check --------------------------------------------------------------------------------------

def test_check_flags_the_examples_placeholders_and_unknown_units(cli, cfg: Path, copy: Path) -> None:  # type: ignore[no-untyped-def]
    from geohazard_cli.notify.settings import parse

    example = (cfg / "notify.example.yaml").read_text(encoding="utf-8")
    conf = parse(example, "notify.example.yaml")
    assert set(conf.channels) == {"duty-dingtalk", "duty-wecom", "duty-feishu", "dispatch-system", "mail"}
    (copy / "notify.yaml").write_text(example.replace("hq_office: [", "hq_ofice: ["), encoding="utf-8")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    assert r.exit_code == 2
    problems = [(p["file"], p["line"], p["path"]) for p in json.loads(r.stdout)["problems"]]
    assert ("notify.yaml", 41, "numbers.hq_ofice") in problems
    assert [p for p in problems if p[2] == "(value)"] == [
        ("notify.yaml", n, "(value)") for n in (11, 18, 22, 26, 30, 33, 35, 37, 41)]
    (copy / "notify.yaml").write_text("schema: 1\nchannels:\n  x:\n    type: fax\n", encoding="utf-8")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    assert [(p["line"], p["path"]) for p in json.loads(r.stdout)["problems"]] == [(4, "channels.x.type")]
    (copy / "notify.yaml").unlink()
    (copy / "templates" / "notify" / "reminder.txt.j2").write_text("{{ unit.__class__ }}", encoding="utf-8")
    r = cli("check", "--config-dir", str(copy), "--format", "json")
    assert [p["file"] for p in json.loads(r.stdout)["problems"]] == ["templates/notify/reminder.txt.j2"]


# --- reminders from the deadlines ----------------------------------------------------------------

def test_reminders_for_what_is_late_each_deadline_once(inc, db: Path) -> None:  # type: ignore[no-untyped-def]
    """--reminders sends what `incident due` finds late: each unit past its answer deadline (III级: 30
    minutes, response.local.yaml), the 速报 overdue; a re-run sends nothing again; a unit called again
    has a new deadline and, missed, a new reminder."""
    entries = opened(inc)  # 09:40, III级: 18 units
    due = j(inc, "due", "1", "--at", "2026-07-21 10:15")
    assert len(due["overdue"]) == len(entries)
    assert [r["report"] for r in due["reports_due"] if r["overdue"]] == ["first"]
    out = j(inc, "notify", "1", "--channel", "dry-run", "--reminders", "--at", "2026-07-21 10:15")
    msgs = out["messages"]
    assert len(msgs) == len(entries) + 1 and {m["status"] for m in msgs} == {"sent"}
    water = next(m for m in msgs if m["unit"] == "区水务局")
    assert water["text"] == ("【叫应提醒】区水务局:尚未收到贵单位对III级响应的回应"
                             "(应于 2026-07-21 10:10 前回复,已逾期 5 分钟),请立即回复\"收到\"确认。(事件 #1)")
    assert water["key"] == "1/1/water/dry-run/reminder@2026-07-21T10:10:00+08:00"
    report = msgs[-1]
    assert (report["unit"], report["target"]) == ("速报", "值班室")
    assert report["text"] == "【报告提醒】速报应于 2026-07-21 10:10 前报送,已逾期 5 分钟,请立即报送。(事件 #1)"
    assert len(events(db, "message")) == len(entries) + 1

    again = j(inc, "notify", "1", "--channel", "dry-run", "--reminders", "--at", "2026-07-21 10:20")
    assert again["messages"] == [] and len(again["skipped"]) == len(entries) + 1  # nothing twice
    inc("ack", "1", "--unit", "区应急局", "--outcome", "接通", "--at", "2026-07-21 10:21")
    # a call that does not get through earns no time (still due 10:10): reminded again, once
    inc("ack", "1", "--unit", "区水务局", "--outcome", "无人接听", "--at", "2026-07-21 10:22")
    later = j(inc, "notify", "1", "--channel", "dry-run", "--reminders", "--at", "2026-07-21 10:25")
    assert [(m["unit"], m["key"].rsplit("@", 1)[1]) for m in later["messages"]] == [
        ("区水务局", "2026-07-21T10:10:00+08:00#1")]
    assert j(inc, "notify", "1", "--channel", "dry-run", "--reminders", "--at", "2026-07-21 10:55")["messages"] == []
    assert "区应急局" not in {s["unit"] for s in later["skipped"]}  # answered: no reminder
    assert len(events(db, "message")) == len(entries) + 2


def test_reminders_by_sms_file_use_the_reminder_template_and_list_the_report(inc, tmp_path: Path,
                                                                              copy: Path) -> None:  # type: ignore[no-untyped-def]
    sms_numbers(copy, opened(inc))
    shipped = Path(__file__).resolve().parents[1] / "response.local.yaml"
    (copy / "response.local.yaml").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    batch = tmp_path / "batch.csv"
    out = j(inc, "notify", "1", "--channel", "sms-file", "--output", str(batch), "--reminders", "--at",
            "2026-07-21 10:15", "--config-dir", str(copy))
    assert out["messages"] and all(len(m["text"]) <= 70 for m in out["messages"])
    assert out["messages"][0]["text"].endswith("已逾期5分钟。(#1)")
    assert {"unit": "速报", "unit_key": "report:first", "why": "报送提醒只发往群(机器人)"} in out["no_target"]
    r = inc("notify", "1", "--channel", "dry-run", "--reminders", "--retry", ok=False)
    assert r.exit_code == 2 and "--reminders: not with --retry" in r.stderr
    (copy / "response.local.yaml").unlink()
    r = inc("notify", "1", "--channel", "dry-run", "--reminders", "--config-dir", str(copy), ok=False)
    assert r.exit_code == 2 and "no deadlines are set, so nothing is late" in r.stderr


def test_an_unknown_channel_is_named_first(inc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """With no notify.yaml, a channel it would define is named as unknown before the missing file."""
    import shutil

    from geohazard_cli.config import config_dir

    shipped, copy = config_dir(None), tmp_path / "cfg"
    for name in ("rules", "templates"):
        shutil.copytree(shipped / name, copy / name)
    for name in ("contacts.yaml", "response.local.yaml", "district.yaml"):
        shutil.copy(shipped / name, copy / name)
    opened(inc)
    r = inc("notify", "1", "--channel", "foo", "--config-dir", str(copy), ok=False)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (f'geohazard: error: --channel: "foo" is not a channel: {copy / "notify.yaml"}: no such file '
                        "(config dir); channels other than dry-run and sms-file are set in notify.yaml (copy "
                        "notify.example.yaml to start)\n")


class _FlakyNowhere:
    """A channel that reaches no one (as dry-run) and fails each message's first attempt."""

    reaches_no_one = True
    name = "nowhere"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: Any) -> Any:
        from geohazard_cli.notify.interface import Result

        self.sent.append(message.key)
        return Result(self.sent.count(message.key) > 1, "ok" if self.sent.count(message.key) > 1 else "busy")

    def close(self) -> None:
        return None


def test_a_channel_that_reaches_no_one_is_claimed_in_one_go_and_retried_as_any(shizhong: Any) -> None:
    """send_all's batch path: every message claimed, sent and recorded; a failure retried with the
    backoff, its attempts counted; a message already sent is skipped, never sent twice."""
    from geohazard_cli import journal, responses
    from geohazard_cli.models import Incident
    from geohazard_cli.notify.delivery import send_all

    jr = journal.Journal.memory()
    at = journal.utcnow()
    state, _, _, _ = responses.open_incident(jr, Incident(evacuees=40), shizhong, None, at, False)
    msgs = [{"key": f"k{i}", "channel": "nowhere", "kind": "incident", "unit_key": f"u{i}", "unit": f"单位{i}",
             "target": "x", "text": "t", "text_digest": "d", "round_seq": 1} for i in range(3)]
    responses.queue_messages(jr, state.id, msgs, at)
    slept: list[float] = []
    channel = _FlakyNowhere()
    done = send_all(jr, state.id, channel, ["k0", "k1", "k2"], ["queued"], 2, 0.5, lambda: at, slept.append)
    assert {k: (d["result"], d["attempts"]) for k, d in done.items()} == {f"k{i}": ("sent", 2) for i in range(3)}
    assert channel.sent == ["k0", "k1", "k2", "k0", "k1", "k2"] and slept == [0.5, 0.5, 0.5]
    with jr.transaction(write=False):
        final = jr.state(state.id)
    assert {k: m["status"] for k, m in final.messages.items()} == {f"k{i}": "sent" for i in range(3)}
    again = send_all(jr, state.id, channel, ["k0"], ["queued"], 2, 0.5, lambda: at, slept.append)
    assert again["k0"]["result"] == "skipped" and channel.sent.count("k0") == 2


def test_an_sms_to_a_backup_mobile_is_answered_from_it(inc, tmp_path: Path, copy: Path) -> None:  # type: ignore[no-untyped-def]
    # sms-file texts the first mobile of a unit's numbers, a backup included: a reply from it is the
    # unit's answer, not an unknown number
    (copy / "contacts.local.yaml").write_text("schema: 1\nlocal: true\ntitle: t\nunits:\n  - unit: 区水务局\n"
                                              "    backups: ['13912345678']\n    source: 测试\n", encoding="utf-8")
    j(inc, "open", "--deaths", "1", "--location", "七里山", "--hazard-type", "landslide", "--at", T0,
      "--config-dir", str(copy))
    out = j(inc, "notify", "1", "--channel", "sms-file", "--output", str(tmp_path / "b.csv"), "--config-dir", str(copy))
    assert [(m["unit"], m["target"]) for m in out["messages"]] == [("区水务局", "13912345678")]
    replies = tmp_path / "r.csv"
    replies.write_text("number,time,text\n13912345678,2026-07-21 09:50,收到\n", encoding="utf-8")
    got = j(inc, "ack-import", "1", str(replies), "--config-dir", str(copy))
    assert [(a["details"]["unit"], a["details"]["outcome"]) for a in got["acks"]] == [("区水务局", "answered")]
    assert not got["unknown"]
