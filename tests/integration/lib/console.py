"""Console commands for the tests' polling, over the control socket itself
(docs/control-protocol.md): a request line, then `ok|error <length>` and the text.

The suite polls consoles thousands of times (wait_for loops), and each ec_console process
cost about 0.1 s of CPU under ASan (start-up and the leak check at exit) on a CPU-bound
suite. Answers read here come out as ec_console prints them: `ok` text with exit code 0,
`error` text as "ec_console: <text>" with exit code 1. Anything else (a TCP endpoint, a
socket that is missing or refuses, a timeout, a malformed answer) runs ec_console itself, so
its own message and exit code are what the test sees. ec_console stays tested as a program
by the tests that run it directly (tests/integration/mta/test_console*.py and others)."""
import socket
import subprocess

from . import procs


def _binary(endpoint, command, timeout):
    r = subprocess.run([procs.find_binary("ec_console"), endpoint, command],
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def _read_answer(sock):
    """(ok, text) of one response, or None when the stream is not one."""
    data = b""
    while b"\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 64:
            break
    head, _, rest = data.partition(b"\n")
    words = head.split(b" ")
    if len(words) != 2 or words[0] not in (b"ok", b"error") or not words[1].isdigit():
        return None
    length = int(words[1])
    while len(rest) < length:
        chunk = sock.recv(min(65536, length - len(rest)))
        if not chunk:
            return None
        rest += chunk
    return words[0] == b"ok", rest[:length].decode("utf-8", "replace")


def run(endpoint, command, timeout=30):
    """(exit code, output) as `ec_console ENDPOINT COMMAND` would give them."""
    if "/" not in endpoint or "\n" in command:
        return _binary(endpoint, command, timeout)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(endpoint)
            s.sendall(command.encode() + b"\n")
            answer = _read_answer(s)
    except OSError:  # missing, refused, reset, timed out: ec_console says what happened
        return _binary(endpoint, command, timeout)
    if answer is None:
        return _binary(endpoint, command, timeout)
    ok, text = answer
    if ok:
        return 0, text + ("\n" if text and not text.endswith("\n") else "")
    if text.endswith("\n"):
        text = text[:-1]
    return 1, f"ec_console: {text}\n"
