"""Item 4: failed sign-ins (scrypt and the user query) never stall the event loop."""

from __future__ import annotations

import secrets
import threading

from tests.security.conftest import attacking, latencies, p99
from tests.serve_process import ServerProcess

ATTACKERS = 8
P99_BOUND_S = 0.25  # measured about 0.9 s before sign-in left the event loop


def test_live_stays_fast_while_eight_clients_fail_to_sign_in(served: ServerProcess) -> None:
    calm = p99(latencies(served.url, 2))
    attempts = [0]

    def guess(stop: threading.Event) -> None:
        with served.login_client() as client:
            while not stop.is_set():  # a new address and name each time: no throttle applies
                address = f"198.51.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
                answer = client.post("/session", headers={"X-Forwarded-For": address},
                                     json={"username": secrets.token_hex(6), "password": "guess"})
                assert answer.status_code == 401, answer.text
                attempts[0] += 1

    with attacking(guess, ATTACKERS):
        loaded = latencies(served.url, 6)
    print(f"/live p99 calm {calm * 1000:.1f} ms, under {ATTACKERS} failing sign-ins "
          f"{p99(loaded) * 1000:.1f} ms ({len(loaded)} requests, {attempts[0]} sign-ins)")
    assert attempts[0] >= 2 * ATTACKERS  # the attack really ran (each costs a scrypt hash)
    assert p99(loaded) < P99_BOUND_S
