"""A hybrid logical clock: stamps that order changes across laptops even when wall clocks drift.

A stamp is ``"<wall ms, 13 digits>-<counter, 5 digits>-<device>"`` so plain string comparison
orders stamps. The wall part never goes backwards on one device, and observing a stamp from
another device moves it forward, so causality survives a laptop clock that is days off.

Bounded: the clock never reads more than `max_ahead_ms` (the agency's clock_skew_max_minutes)
past this laptop's own clock. A stamp from a clock far ahead (year 2286) is observed only up
to that bound, and a clock already carried past it comes back to it, so one bad clock cannot
make this laptop's later edits win every conflict. The server clamps stamps the same way.
"""

import time
from dataclasses import dataclass


def format_stamp(wall_ms: int, counter: int, device: str) -> str:
    return f"{wall_ms:013d}-{counter:05d}-{device}"


def parse_stamp(stamp: str) -> tuple[int, int, str]:
    wall, counter, device = stamp.split("-", 2)
    return int(wall), int(counter), device


@dataclass
class HybridClock:
    device: str
    wall_ms: int = 0
    counter: int = 0
    max_ahead_ms: int | None = None

    def now(self, physical_ms: int | None = None) -> str:
        """A new stamp, later than every stamp this clock has made or seen (within the bound)."""
        physical = int(time.time() * 1000) if physical_ms is None else physical_ms
        self._bound(physical)
        if physical > self.wall_ms:
            self.wall_ms, self.counter = physical, 0
        else:
            self.counter += 1
        return format_stamp(self.wall_ms, self.counter, self.device)

    def observe(self, stamp: str, physical_ms: int | None = None) -> None:
        """Move forward past a stamp seen from elsewhere (a pulled record)."""
        physical = int(time.time() * 1000) if physical_ms is None else physical_ms
        self._bound(physical)
        remote_wall, remote_counter, _ = parse_stamp(stamp)
        if self.max_ahead_ms is not None and remote_wall > physical + self.max_ahead_ms:
            remote_wall, remote_counter = physical + self.max_ahead_ms, 0
        top = max(self.wall_ms, remote_wall, physical)
        if top == self.wall_ms == remote_wall:
            self.counter = max(self.counter, remote_counter) + 1
        elif top == self.wall_ms:
            self.counter += 1
        elif top == remote_wall:
            self.counter = remote_counter + 1
        else:
            self.counter = 0
        self.wall_ms = top

    def _bound(self, physical: int) -> None:
        if self.max_ahead_ms is not None and self.wall_ms > physical + self.max_ahead_ms:
            self.wall_ms, self.counter = physical + self.max_ahead_ms, 0
