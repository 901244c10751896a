"""Memory benchmark: the bot's resident memory as a long stream goes through it.

A month-long synthetic stream (80% messages, a quarter of them replies, 20% reactions;
with ``--new-member-every N`` a newcomer every N events) is generated as it is fed, so the
harness holds nothing;
the whole pipeline runs (bus, recorder, every default cog, batched writer). Printed: the
resident set size (RSS) at checkpoints, and its growth per event between the first and the
last checkpoint, which must stay flat: every map the bot keeps is bounded.

    python bench/memory.py [--events 1000000] [--members 5000] [--new-member-every 20]
                           [--checkpoints 100000,300000,...]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.core.actions import Action, Delivery  # noqa: E402
from bot.core.clock import SimulatedClock  # noqa: E402
from bot.core.events import Event, MemberJoined, MessagePosted, ReactionAdded  # noqa: E402
from bot.runtime import Runtime  # noqa: E402

COMMUNITY = "console:bench"
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def stream(n: int, members: int, new_member_every: int, seed: int = 1) -> Iterator[Event]:
    """The events, one at a time; a new member joins every ``new_member_every`` events."""
    rng = random.Random(seed)
    recent: list[tuple[str, str]] = []
    step = timedelta(seconds=30 * 24 * 3600 / max(n, 1))
    at = START
    joined = members
    for i in range(n):
        at += step
        if new_member_every and i % new_member_every == 0:
            joined += 1
            yield MemberJoined(community=COMMUNITY, at=at, member=f"console:u{joined}",
                               name=f"Member {joined}")
            continue
        pool = joined if rng.random() < 0.3 else members
        if recent and rng.random() < 0.2:
            target, author = rng.choice(recent)
            yield ReactionAdded(community=COMMUNITY, at=at, message=target,
                                reactor=f"console:u{rng.randrange(pool)}", emoji="👍",
                                message_author=author)
            continue
        author = f"console:u{rng.randrange(pool)}"
        message = f"console:m{i}"
        reply = rng.choice(recent) if recent and rng.random() < 0.25 else None
        yield MessagePosted(
            community=COMMUNITY, at=at, message=message, author=author,
            channel=f"console:c{rng.randrange(5)}", text=f"message {i} from {author}",
            length=20, reply_to=reply[0] if reply else None,
            reply_to_author=reply[1] if reply else None)
        recent.append((message, author))
        if len(recent) > 500:
            del recent[:250]


def rss_mb() -> float:
    """The current resident set size (Linux), in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    import resource

    return pages * resource.getpagesize() / 1e6


class Sink:
    async def deliver(self, action: Action) -> Delivery:
        return Delivery(True)


async def measure(events: int, members: int, new_member_every: int,
                  checkpoints: list[int], db: Path) -> list[tuple[int, float]]:
    settings = Settings.model_validate({"storage": {"url": f"sqlite:///{db}"}})
    runtime = Runtime(settings, clock=SimulatedClock(START))  # timers fire on event time
    await runtime.start()
    runtime.register_sender("console", Sink())
    found: list[tuple[int, float]] = []
    marks = iter(sorted(checkpoints))
    mark = next(marks, None)
    try:
        for count, event in enumerate(stream(events, members, new_member_every), start=1):
            runtime.publish(event)
            if count % 500 == 0:
                await runtime.advance_to(event.at)  # drains the bus, fires what is due
            if mark is not None and count == mark:
                await runtime.bus.drain()
                await runtime.repository.flush()
                gc.collect()
                found.append((count, rss_mb()))
                print(f"{count:>10,} events  RSS {found[-1][1]:7.1f} MB", flush=True)
                mark = next(marks, None)
    finally:
        await runtime.stop()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--new-member-every", type=int, default=0,
                        help="a newcomer joins every N events (default 0: never)")
    parser.add_argument("--checkpoints", default="",
                        help="comma-separated event counts (default: 10%%, 30%%, 100%%)")
    args = parser.parse_args()
    checkpoints = ([int(c) for c in args.checkpoints.split(",") if c] or
                   [args.events // 10, args.events * 3 // 10, args.events])
    logging.disable(logging.WARNING)  # no owners' channel here: the bot would say so often
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        found = asyncio.run(measure(args.events, args.members, args.new_member_every,
                                    checkpoints, Path(folder) / "memory.db"))
    (first, low), (last, high) = found[0], found[-1]
    per_event = (high - low) * 1e6 / max(last - first, 1)
    print(f"growth from {first:,} to {last:,} events: {high - low:+.1f} MB "
          f"({per_event:.1f} bytes per event)  in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
