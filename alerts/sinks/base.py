"""The sink contract: where a firing alert's backlog item lives, and how it is kept in step.

Every tracker stores the alert's fingerprint on the ticket (a label, as Grafana's Jira
contact point and jiralert do), and `find` looks it up before anything is created: a lost
or reset dspo store, or a delivery retried after a timeout, finds the ticket it already
made instead of filing a second one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

FINGERPRINT_LABEL_PREFIX = "dspo-fp-"


def fingerprint_label(fingerprint: str) -> str:
    """The label carrying a fingerprint: short enough for any tracker's label limits."""
    return f"{FINGERPRINT_LABEL_PREFIX}{fingerprint[:16]}"


@dataclass(frozen=True)
class TicketSpec:
    """What to file for one alert instance."""

    fingerprint: str
    rule: str
    product: str
    title: str
    description: str
    type: str = "Bug"
    points: float | None = None
    labels: tuple[str, ...] = ()
    severity: str = "warning"
    links: tuple[tuple[str, str], ...] = ()  # (text, url): the run, report or dspo page


@dataclass(frozen=True)
class TicketRef:
    """A ticket as the tracker has it now."""

    sink: str
    key: str
    url: str | None = None
    closed: bool = False
    resolution: str | None = None  # Jira resolution name, GitHub state_reason
    closed_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


class SinkError(Exception):
    """A tracker refused or could not be reached; `retriable` says if trying later may help.

    The message names the sink and its URL (never a token). `status` is the HTTP status of
    the tracker's answer (None when there was none) and `retry_after` the seconds it asked
    us to wait (Retry-After, or a rate limit's reset), which the outbox honours.
    """

    def __init__(self, sink: str, where: str, cause: str, *, retriable: bool,
                 status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"sink {sink!r} ({where}): {cause}")
        self.sink = sink
        self.retriable = retriable
        self.status = status
        self.retry_after = retry_after


class Sink(ABC):
    """One tracker (or channel). All methods are idempotent where the tracker allows."""

    kind: ClassVar[str]
    name: str

    @abstractmethod
    def find(self, fingerprint: str) -> TicketRef | None:
        """The newest ticket labelled with this fingerprint (an open one first), or None."""

    @abstractmethod
    def create(self, spec: TicketSpec) -> TicketRef:
        """File a new ticket carrying the fingerprint label."""

    @abstractmethod
    def comment(self, ref: TicketRef, text: str) -> None:
        """Add a comment (a repeat firing, an acknowledgement)."""

    @abstractmethod
    def resolve(self, ref: TicketRef, text: str) -> TicketRef:
        """Comment and, where configured, close or transition the ticket."""

    @abstractmethod
    def reopen(self, ref: TicketRef, text: str) -> TicketRef:
        """Comment and reopen a closed ticket."""

    def is_ignored(self, ref: TicketRef) -> bool:
        """True when the ticket was closed in a way that means 'never reopen' (Won't fix)."""
        return False
