"""Loading nodes with mail and watching a CountingSink (lib/counting_sink.py), for the cluster
limit tests and bench/cluster.

    sent = inject({"node1": n1, "node2": n2}, "r@limited.test", per_node=60, tag="a")
    with ConcurrencySampler(sink, {"127.0.0.2", "127.0.0.3"}) as s:   # those sources together
        ...
    s.peak, s.first_reaching(6)

Each message carries `Message-ID: <tag.node.i@load.test>`. Loopback only; every send is bounded
by the SMTP timeout.
"""
import smtplib
import threading
import time


def send_batch(node, rcpt, tag, name, indexes, errors):
    """One SMTP session to `node` (an MtaNode) sending one message per index; a failure is
    appended to `errors`."""
    try:
        with smtplib.SMTP(node.host, node.port, timeout=30) as s:
            for i in indexes:
                s.sendmail("load@src.test", [rcpt],
                           f"Subject: {tag} {name} {i}\r\n"
                           f"Message-ID: <{tag}.{name}.{i}@load.test>\r\n\r\nload\r\n")
    except (OSError, smtplib.SMTPException) as e:
        errors.append(f"{name}: {e!r}")


def inject(nodes, rcpt, per_node, tag, sessions=3):
    """`per_node` messages into every node of {name: MtaNode} at once (`sessions` SMTP sessions
    per node, all in parallel); returns {name: messages sent}. Raises if a session failed."""
    threads, errors = [], []
    for name, node in nodes.items():
        for k in range(sessions):
            idx = list(range(k, per_node, sessions))
            threads.append(threading.Thread(target=send_batch,
                                            args=(node, rcpt, tag, name, idx, errors)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors or any(t.is_alive() for t in threads):
        raise RuntimeError("injection failed: " + "; ".join(errors or ["a session hung"]))
    return {name: per_node for name in nodes}


def per_source(sink):
    """{client address: messages accepted} at the sink."""
    out = {}
    for _, source in list(sink.accepted):
        out[source] = out.get(source, 0) + 1
    return out


class ConcurrencySampler:
    """Samples the sink's open connections from `sources` together (None: all) every
    `interval` s: .samples [(monotonic time, connections)], .peak, .peak_since(t),
    .first_reaching(level, since).
    Sampled, so a peak shorter than the interval can be missed; the sink's own .peak is exact."""

    def __init__(self, sink, sources=None, interval=0.005):
        self.sink = sink
        self.sources = sources
        self.interval = interval
        self.samples = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopping.is_set():
            with self.sink.lock:
                if self.sources is None:
                    n = self.sink.current
                else:
                    n = sum(self.sink.current_by_source.get(s, 0) for s in self.sources)
            self.samples.append((time.monotonic(), n))
            time.sleep(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=5)

    @property
    def peak(self):
        return max((n for _, n in self.samples), default=0)

    def first_reaching(self, level, since=0.0):
        """The first sample time (from `since` on) with at least `level` connections, or None."""
        return next((t for t, n in self.samples if t >= since and n >= level), None)

    def peak_since(self, since):
        return max((n for t, n in self.samples if t >= since), default=0)
