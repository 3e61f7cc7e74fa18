"""Receivers for outbound tests, on loopback only.

    SmtpSink(tmp_path)          Postfix's smtp-sink (/usr/sbin/smtp-sink), each message dumped to
                                a file; .count() says how many arrived.
    ScriptedReceiver(policy)    a Python SMTP server whose answer to each RCPT (and to the end of
                                DATA) comes from `policy`; it records every message and attempt,
                                counts concurrent connections and can hang after its greeting.
                                It advertises DSN when dsn=True, and records each connection
                                (.sessions: client address, EHLO/HELO name) and each transaction's
                                raw MAIL FROM / RCPT TO lines (.transactions).

Both are stopped by the test (context managers); nothing here ever binds a non-loopback address.
"""
import os
import shutil
import time

from . import procs
from .threaded_server import ThreadedServer

SMTP_SINK = "/usr/sbin/smtp-sink"


class ManagedProcess:
    """start()/stop() of one helper process (self.process), usable as a context manager."""
    process = None

    def stop(self):
        if self.process:
            self.process.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def have_smtp_sink():
    return os.access(SMTP_SINK, os.X_OK)


class SmtpSink(ManagedProcess):
    def __init__(self, tmp_path, host="127.0.0.1", port=None, backlog=256, name="sink"):
        self.host = host
        self.port = port or procs.free_port(host)
        self.dir = str(tmp_path / name)
        os.makedirs(self.dir, exist_ok=True)
        self.backlog = backlog
        self.process = None

    def start(self):
        user = os.environ.get("USER") or __import__("pwd").getpwuid(os.getuid()).pw_name
        argv = [SMTP_SINK, "-u", user, "-d", os.path.join(self.dir, "%M."),
                f"{self.host}:{self.port}", str(self.backlog)]
        self.process = procs.Process(argv, self.dir + ".log")
        procs.wait_for(lambda: procs.port_open(self.host, self.port), timeout=10,
                       what="smtp-sink to listen")
        return self

    def files(self):
        return [os.path.join(self.dir, f) for f in os.listdir(self.dir)]

    def count(self):
        return len(os.listdir(self.dir))



class Message:
    def __init__(self, mail_from, rcpts, data, transaction=None):
        self.mail_from = mail_from
        self.rcpts = rcpts
        self.data = data
        self.transaction = transaction  # the Transaction that carried it


class Session:
    """One client connection: peer is the client's (address, port) from getpeername(); helo_verb
    is "EHLO" or "HELO" and helo the name it gave (the last one, e.g. after STARTTLS)."""

    def __init__(self, peer):
        self.peer = peer
        self.helo_verb = None
        self.helo = None
        self.transactions = []

    @property
    def address(self):
        return self.peer[0]


class Transaction:
    """The command lines of one MAIL transaction exactly as received (without CRLF):
    mail_line and every RCPT line (accepted or not) in order, with the reply each got."""

    def __init__(self, session, mail_line):
        self.session = session
        self.mail_line = mail_line
        self.rcpt_lines = []
        self.rcpt_replies = []

    @staticmethod
    def params(line):
        """{"NOTIFY": "SUCCESS,FAILURE", ...} from the text after the path's closing ">"."""
        out = {}
        for word in line.split(">", 1)[1].split() if ">" in line else []:
            key, _, value = word.partition("=")
            out[key.upper()] = value if _ else None
        return out


class ScriptedReceiver(ThreadedServer):
    """policy(rcpt, attempt) -> "250 ok" style reply for that RCPT (attempt counts from 1 per
    recipient address); data_policy(message) -> reply after the body (default 250).
    `delay` seconds are slept before answering the end of DATA (to hold connections open)."""

    def __init__(self, policy=None, data_policy=None, host="127.0.0.1", port=None, hang=False,
                 delay=0.0, pipelining=True, dsn=False):
        self.policy = policy or (lambda rcpt, attempt: "250 2.1.5 ok")
        self.data_policy = data_policy or (lambda msg: "250 2.0.0 queued")
        super().__init__(host, port)
        self.hang = hang
        self.delay = delay
        self.pipelining = pipelining
        self.dsn = dsn
        self.messages = []
        self.sessions = []      # Session per connection, in accept order
        self.transactions = []  # Transaction per MAIL command, across connections
        self.attempts = {}
        self.connections = 0
        self.concurrent = 0
        self.max_concurrent = 0

    def delivered(self):
        """[(rcpt, message)] of every recipient accepted with a 2xx after DATA."""
        with self.lock:
            return [(r, m) for m in self.messages for r in m.rcpts]

    def rcpt_lines(self):
        """{rcpt address: [raw RCPT line, ...]} over every transaction."""
        with self.lock:
            out = {}
            for t in self.transactions:
                for line in t.rcpt_lines:
                    out.setdefault(line[8:].split(">")[0].lstrip("<"), []).append(line)
            return out

    def _serve(self, conn, peer):
        session = Session(peer)
        with self.lock:
            self.sessions.append(session)
            self.connections += 1
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            conn.settimeout(30)
            f = conn.makefile("rb")
            conn.sendall(b"220 scripted.test ESMTP\r\n")
            if self.hang:
                while not self.stopping and f.readline():
                    pass
                return
            mail_from, rcpts, tx = None, [], None
            while not self.stopping:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").rstrip("\r\n")
                verb = cmd[:4].upper()
                if verb in ("EHLO", "HELO"):
                    with self.lock:
                        session.helo_verb = verb
                        session.helo = cmd[5:].strip()
                if verb == "EHLO":
                    ext = "250-scripted.test\r\n250-PIPELINING\r\n" if self.pipelining else \
                        "250-scripted.test\r\n"
                    if self.dsn:
                        ext += "250-DSN\r\n"
                    conn.sendall((ext + "250 8BITMIME\r\n").encode())
                elif verb == "HELO":
                    conn.sendall(b"250 scripted.test\r\n")
                elif verb == "MAIL":
                    mail_from = cmd[10:].split(">")[0].lstrip("<")
                    rcpts = []
                    tx = Transaction(session, cmd)
                    with self.lock:
                        session.transactions.append(tx)
                        self.transactions.append(tx)
                    conn.sendall(b"250 2.1.0 ok\r\n")
                elif verb == "RCPT":
                    rcpt = cmd[8:].split(">")[0].lstrip("<")
                    with self.lock:
                        n = self.attempts.get(rcpt, 0) + 1
                        self.attempts[rcpt] = n
                    reply = self.policy(rcpt, n)
                    if tx is not None:
                        with self.lock:
                            tx.rcpt_lines.append(cmd)
                            tx.rcpt_replies.append(reply)
                    if reply.startswith("2"):
                        rcpts.append(rcpt)
                    conn.sendall((reply + "\r\n").encode())
                elif verb == "DATA":
                    if not rcpts:
                        conn.sendall(b"554 5.5.1 no valid recipients\r\n")
                        continue
                    conn.sendall(b"354 go ahead\r\n")
                    lines = []
                    while True:
                        l = f.readline()
                        if not l:
                            return
                        if l == b".\r\n":
                            break
                        lines.append(l[1:] if l.startswith(b"..") else l)
                    msg = Message(mail_from, list(rcpts), b"".join(lines), tx)
                    if self.delay:
                        time.sleep(self.delay)
                    reply = self.data_policy(msg)
                    if reply.startswith("2"):
                        with self.lock:
                            self.messages.append(msg)
                    conn.sendall((reply + "\r\n").encode())
                elif verb == "RSET":
                    mail_from, rcpts, tx = None, [], None
                    conn.sendall(b"250 2.0.0 ok\r\n")
                elif verb == "QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"502 5.5.2 unknown command\r\n")
        except OSError:
            return
        finally:
            with self.lock:
                self.concurrent -= 1
            conn.close()
