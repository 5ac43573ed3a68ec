"""The AWS API emulator (moto) made faithful where Roomcraft relies on DynamoDB's guarantees.

DynamoDB applies each write, and each transaction, atomically: a conditional update can never act on
a value another request is changing. moto evaluates a condition and then writes, with no lock, and
rolls a failed transaction back by restoring a copy of the whole table, which can undo other
requests' writes. Parallel requests then overshoot limits that DynamoDB would hold. Serializing
moto's DynamoDB requests restores the guarantee (the emulator is only ever used on a laptop or in
tests, where one request at a time is plenty).

Run as ``python -m shared.local.emulator -H 127.0.0.1 -p PORT`` (moto_server's arguments).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_LOCK = threading.RLock()


def serialize_dynamodb() -> None:
    """Make every DynamoDB request to moto (in this process) run one at a time. Idempotent."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_serialized", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    call_action._serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    serialize_dynamodb()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
