"""The store registry's history: one object per event, each created once, read in order; and its segments.

    registry/<model>/history/<seq, 8 digits>.json       one event, one JSON line, created if absent
    registry/<model>/segments/<size>/<k, 8 digits>.json events (k-1)*size+1 .. k*size again, one per line

Events are read in order until the next number is absent, not from a listing, which may lag behind a write
(and caches in some filesystem libraries): a reader sees every event created before it started. A segment is
a copy of ``size`` (100) events in one object, created by the writer of the last of them, so reading a long
history costs one request per hundred events; a reader falls back to the events one by one where a segment is
missing (its writer was killed first), and :meth:`EventLog.repair` writes it. The size is part of the
segment's name: logs opened with another size never misread each other's segments.
"""

from __future__ import annotations

import json
import re

from mlspec import jsonio
from mlspec.registry.base import Event, RegistryError
from mlspec.registry.filestore import _check_name
from mlspec.store import Store

PREFIX = "registry"
SEQ_DIGITS = 8
SEGMENT = 100
_EVENT_NAME = re.compile(r"^(\d+)\.json$")


class EventLog:
    def __init__(self, store: Store, segment: int = SEGMENT) -> None:
        self.store = store
        self.segment = segment
        self._events: dict[str, list[Event]] = {}  # events are immutable: what was read once stays true

    def read(self, model: str) -> list[Event]:
        """Every event of ``model``, oldest first."""
        _check_name(model)
        known = self._events.setdefault(model, [])
        while True:
            if len(known) % self.segment == 0 and self._read_segment(model, known):
                continue
            seq = len(known) + 1
            data = self.store.read(self.event_key(model, seq))
            if data is None:
                return list(known)
            known.append(self._parse(model, seq, data))

    def next_is_there(self, model: str, events: list[Event]) -> bool:
        """Whether an event came after ``events`` (the whole history as read)."""
        return self.store.read(self.event_key(model, len(events) + 1)) is not None

    def create(self, model: str, event: Event, events: list[Event]) -> bool:
        """Record ``event`` as the one after ``events``; False when another writer's event has that number."""
        assert event.seq == len(events) + 1
        key, data = self.event_key(model, event.seq), line(event)
        # A refused create whose object holds exactly these bytes is this writer's own: a retried request
        # whose first attempt succeeded (the bytes include the time to the microsecond and who wrote them).
        if not (self.store.create(key, data) or self.store.read(key) == data):
            return False
        known = self._events.setdefault(model, [])
        if len(known) == len(events):
            known.append(event)
        if event.seq % self.segment == 0:
            self._write_segment(model, [*events, event], event.seq // self.segment)
        return True

    def repair(self, model: str, events: list[Event]) -> None:
        """Write the segments that writers killed before writing them left out."""
        for number in range(1, len(events) // self.segment + 1):
            if self.store.read(self._segment_key(model, number)) is None:
                self._write_segment(model, events, number)

    def check(self, model: str, events: list[Event]) -> list[str]:
        """What is wrong with the objects behind ``events`` (the history as read): a deleted event, a segment
        that disagrees with the events it copies."""
        problems: list[str] = []
        listed = sorted(int(m.group(1)) for k in self.store.list(f"{PREFIX}/{model}/history/")
                        if (m := _EVENT_NAME.match(k.rsplit("/", 1)[-1])))
        if listed != list(range(1, len(events) + 1)):
            problems.append(f"history objects {listed} are not the contiguous events 1..{len(events)} that "
                            "readers see (an event was deleted)")
        for seq in listed[:len(events)]:
            data = self.store.read(self.event_key(model, seq))
            if data is None or line(self._parse(model, seq, data)) != line(events[seq - 1]):
                problems.append(f"segment {(seq - 1) // self.segment + 1} disagrees with event {seq}")
        return problems

    def event_key(self, model: str, seq: int) -> str:
        return f"{PREFIX}/{model}/history/{seq:0{SEQ_DIGITS}d}.json"

    def _segment_key(self, model: str, number: int) -> str:
        return f"{PREFIX}/{model}/segments/{self.segment}/{number:0{SEQ_DIGITS}d}.json"

    def _write_segment(self, model: str, events: list[Event], number: int) -> None:
        part = events[(number - 1) * self.segment:number * self.segment]
        self.store.create(self._segment_key(model, number), b"".join(line(e) for e in part))  # False: there

    def _read_segment(self, model: str, known: list[Event]) -> bool:
        """Append the next segment's events to ``known``; False when that segment is not there (yet)."""
        number = len(known) // self.segment + 1
        data = self.store.read(self._segment_key(model, number))
        if data is None:
            return False
        where = self._where(self._segment_key(model, number))
        lines = data.splitlines()
        if len(lines) != self.segment:
            raise RegistryError(f"{where}: holds {len(lines)} events, not {self.segment}; the history is damaged")
        known.extend([self._parse(model, len(known) + 1 + i, text, f"{where}:{i + 1}")
                      for i, text in enumerate(lines)])
        return True

    def _parse(self, model: str, seq: int, data: bytes, where: str | None = None) -> Event:
        where = where or self._where(self.event_key(model, seq))
        try:
            event = Event.from_json(jsonio.loads(data.decode("utf-8"), where))
        except jsonio.JsonError as exc:
            raise RegistryError(f"{exc}; the history is damaged") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RegistryError(f"{where}: not a registry event ({type(exc).__name__}: {exc}); the history is "
                                "damaged") from None
        if event.seq != seq or event.model != model:
            raise RegistryError(f"{where}: holds event {event.seq} of {event.model!r}; the history is damaged")
        return event

    def _where(self, key: str) -> str:
        return f"{self.store.location.rstrip('/')}/{key}"


def line(event: Event) -> bytes:
    """An event as it is stored: one compact JSON line."""
    return (json.dumps(event.as_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
