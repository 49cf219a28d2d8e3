"""Running an oracle as an operator does, as real processes (`offnet oracle run`, a real anvil, the
reference seller over real HTTP, SQLite): its own Sonata API down at start, an award whose Sonata
order cannot be placed and a kill -9 after it, secrets in URLs, half-sent and oversized requests,
a locked database, a peer down for longer than the retry budget, and empty secrets."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request, Response
from operations_world import OPS_TOKENS, buyer_config, start_oracle

from offnet.chain.anvil import free_port
from offnet.serving import serve_in_thread
from offnet.sonata.seller import create_seller_app
from offnet.testing.carriers import chain_clock
from offnet.testing.processes import OFFNET, OracleProcess, listener_path
from offnet.testing.world import wait_until

pytestmark = pytest.mark.anvil
TOKENS = OPS_TOKENS


def start(ops, name: str, **overrides) -> OracleProcess:
    return start_oracle(ops, name, **overrides)


# --- a duty that cannot run is supervised, retried and visible --------------------------------------


def test_own_sonata_api_down_at_start__the_oracle_lives_retries_and_healthz_names_the_duty(ops):
    closed = free_port()  # our own Sonata system is not up yet
    oracle = start(
        ops,
        "own-down",
        stuck_after=2,
        seller={
            "sonata_url": f"http://127.0.0.1:{closed}",
            "operator_token": {"env": "OPS_OWN_OPERATOR"},
            "notification_token": {"env": "OPS_OWN_NOTIFIES"},
        },
    )
    try:

        def stuck() -> dict | None:
            answer = httpx.get(f"{oracle.url}/healthz", timeout=5)
            body = answer.json()
            duty = body["duties"]["subscriptions"]
            return (
                body if answer.status_code == 503 and not duty["ok"] and duty["consecutiveFailures"] else None
            )

        body = wait_until(stuck, "/healthz to report the subscriptions duty stuck", seconds=30)
        duty = body["duties"]["subscriptions"]
        assert duty["consecutiveFailures"] >= 1 and duty["lastError"] and duty["lastSuccess"] is None
        assert body["duties"]["submit"]["ok"]  # the other duties run on
        assert oracle.process.poll() is None
        assert "subscriptions failed" in oracle.log.read_text()

        own = create_seller_app(
            "prompt-and-punctual",
            "own",
            clock=chain_clock(ops["chain"]),
            tokens={TOKENS["OPS_OWN_OPERATOR"]: "*"},
        )
        with serve_in_thread(own, port=closed):
            wait_until(
                lambda: httpx.get(f"{oracle.url}/healthz", timeout=5).status_code == 200,
                "the oracle to recover once its Sonata API answers",
                seconds=60,
            )
    finally:
        oracle.stop()


# --- secrets stay secret ----------------------------------------------------------------------------


def hosted_rpc(anvil_url: str, state: dict) -> FastAPI:
    """A JSON-RPC front with the API key in its path and query, as hosted RPCs have; relays to anvil
    while `state["up"]`, answers 502 otherwise."""
    app = FastAPI()

    @app.post("/v3/{key}")
    async def relay(key: str, request: Request) -> Response:
        if not state["up"]:
            return Response(status_code=502)
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                anvil_url, content=await request.body(), headers={"content-type": "application/json"}
            )
        return Response(answer.content, media_type="application/json")

    return app


def test_rpc_url_with_an_api_key__never_in_healthz_logs_or_stored_errors(ops):
    state = {"up": True}
    with serve_in_thread(hosted_rpc(ops["node"].url, state)) as front:
        _secret_url_oracle(ops, front + "/v3/SECRET-RPC-KEY-123?apikey=SECRET-QUERY-456", state)


def _secret_url_oracle(ops, rpc: str, state: dict) -> None:
    oracle = start(ops, "secret-url", rpc=rpc, stuck_after=2)
    try:
        wait_until(
            lambda: httpx.get(f"{oracle.url}/healthz", timeout=5).status_code == 200,
            "a healthy start",
            seconds=60,
        )
        state["up"] = False  # the RPC fails: every error quotes its URL
        body = wait_until(
            lambda: (lambda r: r.text if r.status_code == 503 else None)(
                httpx.get(f"{oracle.url}/healthz", timeout=10)
            ),
            "the RPC outage in /healthz",
            seconds=60,
        )
        time.sleep(2)
        metrics = httpx.get(f"{oracle.url}/metrics", timeout=10).text
        stored = " ".join(
            str(r)
            for r in oracle.rows("select last_error from events")
            + oracle.rows("select last_error from outbox")
        )
        for text in (body, metrics, oracle.log.read_text(), stored):
            assert "SECRET-RPC-KEY-123" not in text and "SECRET-QUERY-456" not in text
        assert "error" in body
    finally:
        oracle.stop()


def test_health_and_metrics_on_an_admin_address_with_a_token(ops):
    admin_port = free_port()
    oracle = start(
        ops,
        "admin",
        admin={"listen_host": "127.0.0.1", "listen_port": admin_port, "token": {"env": "OPS_OWN_OPERATOR"}},
    )
    try:
        assert httpx.get(f"{oracle.url}/healthz", timeout=5).status_code == 404  # not on the peers' address
        admin = f"http://127.0.0.1:{admin_port}"
        assert httpx.get(f"{admin}/healthz", timeout=5).status_code == 401
        auth = {"Authorization": f"Bearer {TOKENS['OPS_OWN_OPERATOR']}"}
        assert httpx.get(f"{admin}/healthz", headers=auth, timeout=5).status_code == 200
        assert "offnet_backlog" in httpx.get(f"{admin}/metrics", headers=auth, timeout=5).text
    finally:
        oracle.stop()


# --- the listener holds its resources -----------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_listener__half_sent_requests_huge_chunked_bodies_deep_json_and_a_locked_database(ops):
    oracle = start(ops, "listener")
    path = listener_path("troubleTicketStatusChangeEvent")
    auth = {"Authorization": f"Bearer {TOKENS['OPS_SELLER_NOTIFIES']}", "Content-Type": "application/json"}
    host, port = "127.0.0.1", oracle.port
    try:
        # Hundreds of connections that send half a request head and stall: peers are still served,
        # and the stalled connections are closed once their head deadline passed.
        stalled = []
        for _ in range(300):
            s = socket.create_connection((host, port))
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode())
            stalled.append(s)
        body = {
            "eventId": "ok-1",
            "eventTime": "2026-07-01T08:00:00Z",
            "eventType": "troubleTicketStatusChangeEvent",
            "event": {"id": "TT-1"},
        }
        assert httpx.post(oracle.url + path, json=body, headers=auth, timeout=10).status_code == 204
        time.sleep(12)
        closed = 0
        for s in stalled:
            s.settimeout(1)
            try:
                closed += s.recv(1) == b""
            except OSError:
                closed += 1
            s.close()
        assert closed == len(stalled)

        # 256 MiB sent chunked: refused at the cap (64 KiB), not read whole first.
        before = _rss_kib(oracle.process.pid)

        def chunks():
            block = b"[" * 65_536
            for _ in range(4096):
                yield block

        try:
            answer = httpx.post(oracle.url + path, content=chunks(), headers=auth, timeout=30)
            assert (answer.status_code, answer.json()["code"]) == (400, "invalidBody")  # MEF documents 400
        except httpx.HTTPError:
            pass  # the server may close the connection once it answered mid-upload
        assert _rss_kib(oracle.process.pid) - before < 50_000

        # Deeply nested JSON: 400, not 500.
        deep = b'{"eventId": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
        assert httpx.post(oracle.url + path, content=deep, headers=auth, timeout=10).status_code == 400

        # A database locked by another process: 503 with Retry-After (the peer sends it again later).
        holder = sqlite3.connect(oracle.database_url.removeprefix("sqlite:///"), timeout=1)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            busy = httpx.post(
                oracle.url + path, json={**body, "eventId": "locked-1"}, headers=auth, timeout=30
            )
            assert busy.status_code == 503 and busy.headers["Retry-After"]
        finally:
            holder.rollback()
            holder.close()
        assert (
            httpx.post(
                oracle.url + path, json={**body, "eventId": "locked-1"}, headers=auth, timeout=10
            ).status_code
            == 204
        )
    finally:
        oracle.stop()


# --- a peer down longer than the retry budget -----------------------------------------------------------


def test_a_peer_down_past_the_retry_budget__dead_letter_alert_and_requeue(ops):
    ops["link"].down()
    oracle = start(ops, "budget", retry_days=0.0001)  # about 9 s: the budget of days, made short
    try:
        assert oracle.notify("seller", "troubleTicketStatusChangeEvent", "down-1", "TT-DOWN") == 204
        wait_until(
            lambda: oracle.event("down-1")["status"] == "dead",
            "the event to become a dead letter",
            seconds=60,
        )
        metrics = httpx.get(f"{oracle.url}/metrics", timeout=5).text
        assert 'offnet_backlog{item="events",status="dead"} 1.0' in metrics
        assert "dead letter" in oracle.log.read_text()
        listed = subprocess.run(
            [str(OFFNET), "oracle", "dead-letters", "--config", str(oracle.config_file)],
            capture_output=True,
            text=True,
            env=oracle.env,
        )
        assert "down-1" in listed.stdout

        ops["link"].up()
        requeued = subprocess.run(
            [str(OFFNET), "oracle", "requeue", "--config", str(oracle.config_file)],
            capture_output=True,
            text=True,
            env=oracle.env,
        )
        assert requeued.returncode == 0 and "requeued 1 notification" in requeued.stdout
        wait_until(
            lambda: oracle.event("down-1")["attempts"] == 0 or oracle.event("down-1")["status"] != "dead",
            "the event back in the queue",
        )
    finally:
        ops["link"].up()
        oracle.stop()


# --- secrets that are no secrets -------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n", "short"], ids=["zero-bytes", "empty-line", "short"])
def test_empty_or_short_secret_file__refused_at_start_up_in_one_line(ops, tmp_path, content):
    secret = tmp_path / "token"
    secret.write_text(content)
    config = buyer_config(ops)
    config["peers"][0]["inbound_token"] = {"file": str(secret)}
    oracle = OracleProcess("empty-secret", tmp_path, config, ops["buyer"], secrets=TOKENS)
    done = subprocess.run(
        [str(OFFNET), "oracle", "run", "--config", str(oracle.config_file)],
        capture_output=True,
        text=True,
        env=oracle.env,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(secret) in lines[0] and "secret" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


# --- peers that notify with OAuth 2.0 client credentials ---------------------------------------------------


def test_a_peer_notifies_with_an_oauth_token_scoped_to_the_event(ops):
    config_peer = {"inbound_client_secret": {"env": "OPS_OWN_OPERATOR"}}
    oracle = OracleProcess("oauth", ops["workdir"], buyer_config(ops), ops["buyer"], secrets=TOKENS)
    oracle.config["peers"][0].update(config_peer)
    oracle.config_file.write_text(yaml.safe_dump(oracle.config))
    oracle.spawn()
    oracle.wait_listening()
    try:
        secret = TOKENS["OPS_OWN_OPERATOR"]

        def token(scope: str) -> httpx.Response:
            return httpx.post(
                f"{oracle.url}/oauth2/token",
                data={"grant_type": "client_credentials", "scope": scope},
                auth=("seller", secret),
                timeout=5,
            )

        assert token("listenToTroubleTicketStatusChangeEvent").status_code == 200
        scoped = token("listenToTroubleTicketStatusChangeEvent").json()["access_token"]
        body = {
            "eventId": "oauth-1",
            "eventTime": "2026-07-01T08:00:00Z",
            "eventType": "troubleTicketStatusChangeEvent",
            "event": {"id": "TT-OAUTH"},
        }
        path = listener_path("troubleTicketStatusChangeEvent")
        bearer = {"Authorization": f"Bearer {scoped}"}
        assert httpx.post(oracle.url + path, json=body, headers=bearer, timeout=5).status_code == 204
        assert oracle.event("oauth-1")["peer"] == "seller"
        other = listener_path("troubleTicketResolvedEvent")
        wrong = {**body, "eventId": "oauth-2", "eventType": "troubleTicketResolvedEvent"}
        refused = httpx.post(oracle.url + other, json=wrong, headers=bearer, timeout=5)
        assert refused.status_code == 403 and refused.json()["code"] == "accessDenied"
        bad = httpx.post(
            f"{oracle.url}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("seller", "not-the-secret"),
            timeout=5,
        )
        assert bad.status_code == 401
    finally:
        oracle.stop()
