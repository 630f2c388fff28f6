"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

`answers` scripts the reply to the next DATA commands: an SMTP reply line
such as "451 4.3.0 try later" or "550 5.7.1 no"; "disconnect" (the message
arrived, then the connection drops without an answer); "slow:<seconds>" (the
message is kept, the answer comes that late); a callable run with the
envelope once the message has arrived (before the server answers 250); or
None for a normal 250.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self) -> None:
        self.received: list = []  # (envelope recipients, EmailMessage)
        self.answers: list = []

    async def handle_DATA(self, server, session, envelope):
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, str) and answer[0].isdigit():
            return answer
        raw = (envelope.original_content or envelope.content).replace(b"\r\n", b"\n")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), msg))
        if callable(answer):
            answer(envelope)
        if answer == "disconnect":
            server.transport.close()
            return "421 4.4.2 closing"  # never reaches the client
        if isinstance(answer, str) and answer.startswith("slow:"):
            await asyncio.sleep(float(answer.split(":", 1)[1]))
        return "250 2.0.0 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for _r, m in self.received]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """With *login* = (user, password) the server requires AUTH (over plain
    TCP: these tests have no certificates) and records who logged in."""

    def __init__(self, login: tuple[str, str] | None = None, tls: str | None = None,
                 cert: tuple[str, str] | None = None) -> None:
        """*tls*: "starttls" (required) or "ssl" (implicit TLS), with *cert*
        = (certificate file, key file)."""
        self.recorder = Recorder()
        self.port = free_port()
        self.logins: list[str] = []
        kwargs = {}
        if login is not None:
            kwargs = {"authenticator": self._authenticator(login), "auth_required": True,
                      "auth_require_tls": False}
        if tls is not None:
            import ssl

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                     **kwargs)

    def _authenticator(self, login):
        from aiosmtpd.smtp import AuthResult

        def check(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode(), auth_data.password.decode()) == login
            if ok:
                self.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        return check

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
