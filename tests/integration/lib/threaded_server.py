"""ThreadedServer: the TCP plumbing the Python receivers share (sink.ScriptedReceiver,
counting_sink.CountingSink). One thread accepts and a thread per connection runs the subclass's
_serve(conn, peer); stop() shuts every socket down and joins the threads (bounded waits). It
binds the address it is given; the receivers pass loopback addresses only.
"""
import socket
import threading


class ThreadedServer:
    def __init__(self, host, port=0, backlog=128):
        self.host = host
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port or 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(backlog)
        self.stopping = False
        self.threads = []
        self.conns = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)

    def start(self):
        self.acceptor.start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.acceptor.join(timeout=5)
        for t in list(self.threads):
            t.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _admit(self, conn, peer):
        """Called under self.lock for each new connection; False refuses it (the subclass has
        answered and closed it)."""
        return True

    def _serve(self, conn, peer):
        raise NotImplementedError

    def _accept(self):
        while not self.stopping:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            with self.lock:
                if not self._admit(conn, peer):
                    continue
                self.conns.append(conn)
                t = threading.Thread(target=self._serve, args=(conn, peer), daemon=True)
                self.threads.append(t)
            t.start()
