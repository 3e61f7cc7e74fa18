"""CountingSink: an SMTP receiver on loopback that measures how an MTA spreads its connections.

    with CountingSink(data_delay=0.3) as sink:       # holds each DATA reply 0.3 s
        ... deliver to 127.0.0.1:sink.port ...
        sink.peak, sink.peak_by_source["127.0.0.1"], sink.accept_times()

It counts connections at once (peak overall and per client source address, e.g. per node of a
cluster on 127.0.0.x), logs the time.monotonic() at which every message was accepted (with the
client address), and accepts everything. A thread per connection; every socket read has a
timeout, stop() shuts every socket down and joins the threads (bounded), and it only binds the
loopback address it is given.
"""
import threading
import time

from .threaded_server import ThreadedServer

MAX_CONNECTIONS = 512  # a bound: more at once are refused with 421


class CountingSink(ThreadedServer):
    def __init__(self, host="127.0.0.1", port=0, data_delay=0.0, read_timeout=30.0):
        if not host.startswith("127."):
            raise ValueError("CountingSink binds loopback addresses only")
        self.data_delay = data_delay
        self.read_timeout = read_timeout
        self.connections = 0
        self.current = 0
        self.peak = 0
        self.current_by_source = {}
        self.peak_by_source = {}
        self.accepted = []  # (monotonic time, source address)
        self._ended = threading.local()  # per connection thread: counted as closed already
        super().__init__(host, port)

    # -- figures -------------------------------------------------------------------------
    def count(self):
        with self.lock:
            return len(self.accepted)

    def accept_times(self, source=None):
        """Sorted monotonic times of accepted messages (from `source` only, if given)."""
        with self.lock:
            return sorted(t for t, s in self.accepted if source is None or s == source)

    @staticmethod
    def max_in_window(times, window):
        """The most accepted messages within any `window` seconds (a closed window: an
        acceptance exactly `window` after another counts with it, the stricter reading)."""
        times = sorted(times)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] < t - window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # -- serving -------------------------------------------------------------------------
    def _admit(self, conn, peer):
        if self.current >= MAX_CONNECTIONS:
            conn.sendall(b"421 4.3.2 too many connections\r\n")
            conn.close()
            return False
        self.connections += 1
        self.current += 1
        self.peak = max(self.peak, self.current)
        n = self.current_by_source.get(peer[0], 0) + 1
        self.current_by_source[peer[0]] = n
        self.peak_by_source[peer[0]] = max(self.peak_by_source.get(peer[0], 0), n)
        return True

    def _serve(self, conn, peer):
        source = peer[0]
        try:
            conn.settimeout(self.read_timeout)
            f = conn.makefile("rb")
            conn.sendall(b"220 counting.test ESMTP\r\n")
            while not self.stopping:
                line = f.readline(4096)
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    conn.sendall(b"250-counting.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    while True:
                        l = f.readline(65536)
                        if not l:
                            return
                        if l == b".\r\n":
                            break
                    if self.data_delay:
                        time.sleep(self.data_delay)
                    with self.lock:
                        self.accepted.append((time.monotonic(), source))
                    conn.sendall(b"250 2.0.0 accepted\r\n")
                elif verb == b"QUIT":
                    # The session is over once QUIT is answered: count it closed before the
                    # reply, or a client that moves on at once (as it may) would be counted
                    # twice until this thread next runs.
                    self._closed(source)
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")
        except OSError:
            return
        finally:
            self._closed(source)
            conn.close()

    def _closed(self, source):
        """Counts a connection of `source` as closed, once (threading.local marks it)."""
        if getattr(self._ended, "done", False):
            return
        self._ended.done = True
        with self.lock:
            self.current -= 1
            self.current_by_source[source] -= 1
