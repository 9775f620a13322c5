"""A hybrid logical clock: stamps that order changes across laptops even when wall clocks drift.

A stamp is ``"<wall ms, 13 digits>-<counter, 5 digits>-<device>"`` so plain string comparison
orders stamps. The wall part never goes backwards on one device, and observing a stamp from
another device moves it forward, so causality survives a laptop clock that is days off.
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

    def now(self, physical_ms: int | None = None) -> str:
        """A new stamp, later than every stamp this clock has made or seen."""
        physical = int(time.time() * 1000) if physical_ms is None else physical_ms
        if physical > self.wall_ms:
            self.wall_ms, self.counter = physical, 0
        else:
            self.counter += 1
        return format_stamp(self.wall_ms, self.counter, self.device)

    def observe(self, stamp: str, physical_ms: int | None = None) -> None:
        """Move forward past a stamp seen from elsewhere (a pulled record)."""
        physical = int(time.time() * 1000) if physical_ms is None else physical_ms
        remote_wall, remote_counter, _ = parse_stamp(stamp)
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
