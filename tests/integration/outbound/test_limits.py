"""Node-local outbound limits against a counting sink on 127.0.0.1: outbound_throttle_messages
holds over any window of its length (a sliding log, not fixed windows), and a Host scope's
max_outbound_connections caps the connections to that address whatever the Domain allows."""
import time

from helpers import mainlog, node, route_config, send, send_in_parallel
from lib import procs
from lib.counting_sink import CountingSink


def test_throttle_holds_over_any_window(tmp_path):
    # 20 per 10 s, at the receiver: a send enters the window when its DATA reply comes back,
    # so the next send on its unit starts (and is accepted) more than 10 s after the sink
    # accepted the first: no closed 10 s window of acceptance times holds more than 20.
    with CountingSink() as sink:
        cfg = route_config({"slow.test": f"smtp://127.0.0.1:{sink.port}"},
                           outbound_throttle_messages='"20/10"')
        with node(tmp_path, cfg) as n:
            send(n, "a@src.test", ["r@slow.test"], count=60)
            procs.wait_for(lambda: sink.count() >= 1, timeout=10, what="the first message")
            first = sink.accept_times()[0]
            # Sends at ~0, 10 and 20 s: all 60 within ~21 s; the bound keeps the test short.
            procs.wait_for(lambda: sink.count() == 60, timeout=35, what="60 messages")
            times = sink.accept_times()
            assert CountingSink.max_in_window(times, 10) <= 20, \
                CountingSink.max_in_window(times, 10)
            # The throttle lets mail through as sends age out, not only at fixed boundaries.
            assert sum(1 for t in times if t - first <= 25) >= 40
            # And it is a throttle, not a stall or a bypass: 20 in the first window.
            assert sum(1 for t in times if t - first < 10) == 20
            procs.wait_for(lambda: len(mainlog(n, "D")) == 60, timeout=10, what="60 D lines")
            assert not mainlog(n, "T")


def test_throttle_is_not_a_fixed_window(tmp_path):
    # One message, then 40 more ~7 s later. Fixed 10 s windows let 19 through at ~7 s and 20
    # more when the next window opens at ~10 s (39 within ~3 s); the sliding log lets exactly
    # one more through at ~10 s (when the first send ages out) and the next 19 at ~17 s.
    with CountingSink() as sink:
        cfg = route_config({"stagger.test": f"smtp://127.0.0.1:{sink.port}"},
                           outbound_throttle_messages='"20/10"')
        with node(tmp_path, cfg) as n:
            send(n, "a@src.test", ["r@stagger.test"], subject="first")
            procs.wait_for(lambda: sink.count() == 1, timeout=10, what="the first message")
            first = sink.accept_times()[0]
            time.sleep(max(0.0, first + 7 - time.monotonic()))
            send(n, "a@src.test", ["r@stagger.test"], subject="more", count=40)
            procs.wait_for(lambda: sink.count() >= 21, timeout=15, what="21 messages")
            time.sleep(max(0.0, first + 13 - time.monotonic()))
            times = sink.accept_times()
    assert len(times) == 21, len(times)
    assert times[20] - first > 10, times[20] - first
    assert CountingSink.max_in_window(times, 10) <= 20


def test_host_scope_caps_connections_per_address(tmp_path):
    with CountingSink(data_delay=0.3) as sink:
        cfg = ('Host "127.0.0.1" { max_outbound_connections = 2 }\n' +
               route_config({"host.test": f"smtp://127.0.0.1:{sink.port}"},
                            max_outbound_connections=10))
        with node(tmp_path, cfg) as n:
            t0 = time.monotonic()
            send_in_parallel(n, "r@host.test", sessions=4, count=5)
            procs.wait_for(lambda: sink.count() == 20, timeout=60, what="20 messages")
            elapsed = time.monotonic() - t0
            procs.wait_for(lambda: len(mainlog(n, "D")) == 20, timeout=10, what="20 D lines")
            assert not mainlog(n, "T")  # a full address is waited for, not a failure
    assert sink.peak == 2, sink.peak
    assert sink.peak_by_source["127.0.0.1"] == 2
    # 20 messages held 0.3 s each over 2 connections: at least ~3 s.
    assert elapsed >= 2.9, elapsed
