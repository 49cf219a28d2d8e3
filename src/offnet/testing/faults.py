"""A cuttable TCP link, for fault tests of the oracle (a seller outage, an RPC outage)."""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttableLink:
    """A TCP relay in front of a server; `down()` refuses and drops connections until `up()`."""

    def __init__(self, port: int):
        self.port_behind = port
        self.open = True
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.live: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                inbound.close()
                continue
            outbound = socket.create_connection(("127.0.0.1", self.port_behind))
            self.live += [inbound, outbound]
            threading.Thread(target=self._copy, args=(inbound, outbound), daemon=True).start()
            threading.Thread(target=self._copy, args=(outbound, inbound), daemon=True).start()

    @staticmethod
    def _copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            src.close()
            dst.close()

    def down(self) -> None:
        self.open = False
        for s in self.live:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.live.clear()

    def up(self) -> None:
        self.open = True

    def close(self) -> None:
        self.down()
        self.listener.close()
