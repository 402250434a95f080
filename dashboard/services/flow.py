"""Everything the flow & backlog page shows for one product and date range, once per view.

Flow metrics count work items (`kpis.backlog.work_items`: epics left out); the backlog
grid lists every item, epics included, because a PO looks epics up there too. The page
and the browser test both call `build_flow`, so the page shows the KPI results. The grid's
rows are not part of the view: the grid asks for one page at a time (`backlog_rows`),
answered in SQL by `store.backlog_page`, so a large backlog never travels whole.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from store import queries
from store.backlog_page import BacklogPageError, backlog_page
from store.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlowView:
    product: ProductConfig
    start: datetime
    end: datetime  # the instant "now" means on this page: the range's end, at most now
    items: int  # every backlog item, epics included (the grid's rows)
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


EMPTY_PAGE: dict[str, Any] = {"rowData": [], "rowCount": 0}


def backlog_rows(store: Store, product: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """The grid's infinite-model answer to one `getRowsRequest`: a page of rows and the
    count of rows its filters match (`rowCount`, so the grid knows where the end is).

    A request this page will not answer (an unknown column or filter, sent by a tampered
    browser) gets an empty page and a warning in the log, not an error page.
    """
    try:
        page = backlog_page(store, product, start=request.get("startRow", 0),
                            end=request.get("endRow", 0),
                            sort_model=request.get("sortModel") or [],
                            filter_model=request.get("filterModel") or {})
    except BacklogPageError as e:
        log.warning("backlog grid request refused for product %s: %s", product, e)
        return dict(EMPTY_PAGE)
    return {"rowData": page.rows, "rowCount": page.total}


@cached_view("flow")
def build_flow(store: Store, product: ProductConfig, *, start: datetime,
               end: datetime) -> FlowView:
    items = queries.backlog_items(store, product.key)
    events = queries.item_events(store, product.key)
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
    )
