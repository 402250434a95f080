"""A team's backlog, simulated sprint by sprint, written as a tracker's CSV exports.

The simulation plans each sprint from the top of the backlog, carries unfinished work over,
adds a few items mid-sprint, re-estimates one, removes one now and then, and reopens one
item after it was done: the history a burndown and a velocity chart must cope with. The
files use Jira's export column names, so the demo exercises the same parser a team's real
export goes through.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dspo.demo.timeline import SPRINTS, Timeline

TYPES = [("Story", 0.5), ("Bug", 0.2), ("Task", 0.15), ("Experiment", 0.15)]
POINTS = [1, 2, 3, 5, 8]
FLOW = [("To Do", "todo"), ("In Progress", "in_progress"), ("In Review", "in_progress"),
        ("Done", "done")]
CATEGORY = dict(FLOW)


@dataclass
class Item:
    key: str
    title: str
    type: str
    created: datetime
    points: float | None
    epic: str | None
    labels: list[str]
    status: str = "To Do"
    sprint: str | None = None
    resolved: datetime | None = None
    events: list[tuple[datetime, str, str | None, str | None]] = field(default_factory=list)
    description: str = ""

    def move(self, ts: datetime, status: str) -> None:
        old = self.status
        self.events.append((ts, "status", old, status))
        if CATEGORY[old] != CATEGORY[status]:
            self.events.append((ts, "status_category", CATEGORY[old], CATEGORY[status]))
        self.status = status
        self.resolved = ts if status == "Done" else None

    def to_sprint(self, ts: datetime, sprint: str | None) -> None:
        self.events.append((ts, "sprint", self.sprint, sprint))
        self.sprint = sprint

    def estimate(self, ts: datetime, points: float) -> None:
        self.events.append((ts, "points", _num(self.points), _num(points)))
        self.points = points


def _num(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


class BacklogSim:
    def __init__(self, prefix: str, themes: list[str], timeline: Timeline, seed: int,
                 capacity: int) -> None:
        self.prefix = prefix
        self.themes = themes
        self.t = timeline
        self.rng = random.Random(seed)
        self.capacity = capacity
        self.items: list[Item] = []
        self.epics: list[str] = []
        self.sprints: list[dict[str, str]] = []

    def _new(self, created: datetime, kind: str | None = None) -> Item:
        kind = kind or self.rng.choices([t for t, _ in TYPES], [w for _, w in TYPES])[0]
        theme = self.rng.choice(self.themes)
        points = None if kind == "Task" and self.rng.random() < 0.4 else float(
            self.rng.choice(POINTS[:4] if kind == "Bug" else POINTS))
        item = Item(
            key=f"{self.prefix}-{len(self.items) + len(self.epics) + 1}",
            title=f"{kind}: {theme}", type=kind, created=created, points=points,
            epic=self.rng.choice(self.epics) if self.epics else None,
            labels=[theme.split()[0].lower()] + (["ml"] if kind == "Experiment" else []),
        )
        self.items.append(item)
        return item

    def build(self, total_items: int) -> None:
        for theme in self.themes[:4]:
            self.epics.append(f"{self.prefix}-{len(self.epics) + 1}")
            _ = theme
        t0 = self.t.sprint_start(1) - timedelta(days=30)
        for i in range(int(total_items * 0.55)):
            self._new(t0 + timedelta(hours=10 * i))
        for n in range(1, SPRINTS + 1):
            self._sprint(n, total_items)

    def _sprint(self, n: int, total_items: int) -> None:
        start, end = self.t.sprint_start(n), self.t.sprint_end(n)
        active = n == SPRINTS
        sid = str(100 + n)
        self.sprints.append({
            "id": sid, "name": f"{self.prefix} Sprint {n}",
            "state": "active" if active else "closed",
            "start": start.isoformat(), "end": end.isoformat(),
            "completed": "" if active else end.isoformat(),
            "goal": self.rng.choice(["Ship the retraining loop", "Reduce false alarms",
                                     "Monitoring in production", "Faster feedback"]),
        })
        planning = start - timedelta(hours=2)
        committed = [i for i in self.items if i.sprint is not None and i.status != "Done"]
        for item in committed:  # carry-over from the previous sprint
            item.to_sprint(planning, sid)
        load = sum(i.points or 0 for i in committed)
        for item in self.items:
            if load >= self.capacity + self.rng.randint(-3, 3):
                break
            if item.sprint is None and item.status == "To Do" and item.created < planning:
                item.to_sprint(planning, sid)
                committed.append(item)
                load += item.points or 0
        # a few items are created during the sprint, most into the backlog
        for _ in range(max(1, total_items // 20)):
            self._new(start + timedelta(hours=self.rng.uniform(0, 300)))
        added = [self._new(start + timedelta(days=self.rng.uniform(2, 6)), "Bug")
                 for _ in range(self.rng.randint(1, 2))]
        for item in added:
            item.to_sprint(item.created + timedelta(minutes=30), sid)
        if committed:
            victim = self.rng.choice(committed)
            if victim.points:
                victim.estimate(start + timedelta(days=3), min(13.0, victim.points + 3))
        if n % 2 == 0 and len(committed) > 4:
            dropped = committed.pop()
            dropped.to_sprint(start + timedelta(days=5), None)
        horizon = self.t.now if active else end
        for item in committed + added:
            self._work(item, max(start, item.created), end, horizon)
        if n == 3:
            self._reopen(committed, end)

    def add_done_in_sprint(self, n: int, key: str, title: str, kind: str, points: float,
                           started: datetime, done: datetime, description: str,
                           labels: tuple[str, ...] = ()) -> Item:
        """An item planned into sprint `n` at its planning, started and done as given; it
        draws nothing from the simulation's random generator (the rest stays as it was)."""
        planning = self.t.sprint_start(n) - timedelta(hours=2)
        item = Item(key=key, title=title, type=kind, created=planning - timedelta(days=3),
                    points=points, epic=None, labels=[kind.lower(), *labels],
                    description=description)
        item.to_sprint(planning, str(100 + n))
        item.move(started, "In Progress")
        item.move(done, "Done")
        self.items.append(item)
        return item

    def _work(self, item: Item, begin: datetime, end: datetime, horizon: datetime) -> None:
        """Walk an item through the flow; some items do not finish within the sprint."""
        finishes = self.rng.random() < 0.82
        span = (end - begin).total_seconds()
        steps = FLOW[FLOW.index((item.status, CATEGORY[item.status])) + 1:]
        if not finishes:
            steps = steps[:1]
        marks = sorted(self.rng.uniform(0.05, 0.95) for _ in steps)
        for (status, _), mark in zip(steps, marks, strict=True):
            ts = begin + timedelta(seconds=span * mark)
            if ts <= horizon:
                item.move(ts, status)

    def _reopen(self, committed: list[Item], end: datetime) -> None:
        done = [i for i in committed if i.status == "Done" and i.resolved and i.resolved < end]
        if done:
            item = done[0]
            assert item.resolved is not None
            reopened = item.resolved + timedelta(hours=20)
            if reopened < end - timedelta(hours=30):
                item.move(reopened, "In Progress")
                item.move(reopened + timedelta(hours=24), "Done")

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        names = {s["id"]: s["name"] for s in self.sprints}
        with (folder / "items.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Issue key", "Summary", "Issue Type", "Status", "Status Category",
                        "Custom field (Story Points)", "Custom field (Epic Link)", "Sprint",
                        "Created", "Resolved", "Labels", "Labels", "Description"])
            for key in self.epics:
                w.writerow([key, self.themes[self.epics.index(key)], "Epic",
                            "In Progress", "In Progress", "", "", "",
                            (self.t.sprint_start(1) - timedelta(days=40)).isoformat(), "",
                            "epic", "", ""])
            for i in self.items:
                labels = [*i.labels, "", ""][:2]
                w.writerow([i.key, i.title, i.type, i.status, _category_label(i.status),
                            _num(i.points) or "", i.epic or "",
                            names.get(i.sprint or "", ""), i.created.isoformat(),
                            i.resolved.isoformat() if i.resolved else "", *labels,
                            i.description])
        with (folder / "sprints.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(self.sprints[0]))
            w.writeheader()
            w.writerows(self.sprints)
        with (folder / "history.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["item_key", "ts", "field", "from", "to"])
            for i in self.items:
                for ts, fld, old, new in i.events:
                    w.writerow([i.key, ts.isoformat(), fld, old or "", new or ""])


def _category_label(status: str) -> str:
    return {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}[CATEGORY[status]]
