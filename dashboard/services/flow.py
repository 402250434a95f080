"""Everything the flow & backlog page shows for one product and date range, once per view.

Flow metrics count work items (`kpis.backlog.work_items`: epics left out); the backlog
table lists every item, epics included, because a PO looks epics up there too. The page
and the browser test both call `build_flow`, so the page shows the KPI results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from config.schema import ProductConfig
from dashboard.cache import cached_view
from kpis.backlog import alert_items, epic_progress, items_by, work_items
from kpis.flow import (
    cumulative_flow,
    flow_times,
    percentiles,
    started_from_created,
    throughput,
    wip,
    wip_ageing,
)
from kpis.history import as_text
from store import queries
from store.db import Store

TABLE_COLUMNS = ["key", "title", "type", "status", "points", "epic", "sprint", "created",
                 "resolved", "origin"]


@dataclass(frozen=True)
class FlowView:
    product: ProductConfig
    start: datetime
    end: datetime  # the instant "now" means on this page: the range's end, at most now
    items: int  # every backlog item, epics included (the table's rows)
    work_items: int
    cfd: pd.DataFrame
    throughput: pd.DataFrame
    flow_times: pd.DataFrame
    done_in_range: int  # items finished in the range (flow_times' rows, throughput's sum)
    started_from_created: int  # of those, without status history
    cycle: dict[int, float | None]  # percentile -> days
    lead: dict[int, float | None]
    wip: int
    ageing: pd.DataFrame
    epics: pd.DataFrame
    by_status: pd.DataFrame
    alert_items: int
    table: pd.DataFrame  # TABLE_COLUMNS, for the grid (dates as YYYY-MM-DD text)


def backlog_table(items: pd.DataFrame, sprints: pd.DataFrame) -> pd.DataFrame:
    """The grid's rows: sprint ids shown as sprint names, dates as sortable day text."""
    names = {as_text(k): v for k, v in zip(sprints["external_id"], sprints["name"], strict=True)}
    table = items[TABLE_COLUMNS].copy()
    table["sprint"] = [names.get(as_text(s), as_text(s)) for s in items["sprint"]]
    for column in ("created", "resolved"):
        table[column] = [None if pd.isna(ts) else ts.strftime("%Y-%m-%d") for ts in items[column]]
    table["points"] = [None if pd.isna(p) else float(p) for p in items["points"]]
    return table.astype(object).where(table.notna(), None)


@cached_view("flow")
def build_flow(store: Store, product: ProductConfig, *, start: datetime,
               end: datetime) -> FlowView:
    items = queries.backlog_items(store, product.key)
    events = queries.item_events(store, product.key)
    sprints = queries.sprints(store, product.key)
    work = work_items(items)
    times = flow_times(work, events, start=start, end=end)
    return FlowView(
        product=product,
        start=start,
        end=end,
        items=len(items),
        work_items=len(work),
        cfd=cumulative_flow(work, events, start=start, end=end),
        throughput=throughput(work, events, start=start, end=end),
        flow_times=times,
        done_in_range=len(times),
        started_from_created=started_from_created(times),
        cycle=percentiles(times["cycle_days"]),
        lead=percentiles(times["lead_days"]),
        wip=wip(work, events, as_of=end),
        ageing=wip_ageing(work, events, as_of=end),
        epics=epic_progress(items),
        by_status=items_by(work, "status"),
        alert_items=len(alert_items(items)),
        table=backlog_table(items, sprints),
    )
