"""Models: how each registered model's versions perform, champion vs challenger, when the
aliases moved, and the model's objectives.

The model and the metric are chosen in dropdowns that write the URL (`?model=&metric=`),
so a copied link opens the same view; the page re-renders from it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard.auth.access import callback
from dashboard.components import format as fmt
from dashboard.components.graphs import graph, sparkline
from dashboard.components.links import external_link
from dashboard.components.panels import card, empty_state, page_header, status_badge
from dashboard.components.stats import stat
from dashboard.components.tables import Cell, Column, data_table
from dashboard.context import page_view
from dashboard.figures.models import metric_history_chart, registry_timeline, version_colours
from dashboard.figures.overview import sparkline as sparkline_figure
from dashboard.services.models import ModelsView, ModelView, build_models
from kpis.models import Comparison, VersionStats

BETTER_TEXT = {"champion": "the champion is better", "challenger": "the challenger is better",
               "tie": "a tie"}


def layout(product: str | None = None, start: str | None = None, end: str | None = None,
           model: str | None = None, metric: str | None = None, **_query: str) -> html.Div:
    page = page_view(product, start, end)
    view = build_models(page.context.store, page.product, model=model, metric=metric,
                        start=page.dates.start, as_of=page.as_of)
    header = page_header(f"{page.product.name}: models")
    if view.model is None:
        return html.Div([header, empty_state("No registered model for this product yet.",
                                             "sources (kind: mlflow, models)")])
    return html.Div([header, _controls(view), _body(view, view.model)])


def _controls(view: ModelsView) -> dbc.Row:
    model = view.model
    assert model is not None
    return dbc.Row([
        dcc.Store(id="models-shown", data={"model": model.name, "metric": model.metric}),
        dbc.Col([html.Label("Model", className="kpi-caption"),
                 dcc.Dropdown(id="models-model", options=view.models, value=model.name,
                              clearable=False)], md=4),
        dbc.Col([html.Label("Metric", className="kpi-caption"),
                 dcc.Dropdown(id="models-metric", options=model.metrics, value=model.metric,
                              clearable=False)], md=3),
    ], className="mb-3")


def _body(view: ModelsView, model: ModelView) -> html.Div:
    colours = version_colours([str(v) for v in model.versions["version"]])
    aliases = {str(v): ", ".join(a) for v, a in zip(model.versions["version"],
                                                    model.versions["aliases"], strict=True) if a}
    if model.metric is None:
        history: list[Any] = [html.P("No metric logged by this model's runs.",
                                     className="text-muted")]
    else:
        history = [graph(metric_history_chart(
            model.history, model.metric, start=view.start, end=view.as_of, colours=colours,
            aliases=aliases, downsampled=model.downsampled), "models-history-graph")]
    timeline = [graph(registry_timeline(model.intervals, model.births, start=view.start,
                                        end=view.as_of, colours=colours),
                      "models-timeline-graph")] if len(model.intervals) or len(model.births) \
        else [html.P("No alias was ever set on this model.", className="text-muted")]
    return html.Div([
        dbc.Row([
            dbc.Col(card(f"{model.metric or 'Metric'} per version", history, "models-history"),
                    xl=8, className="mb-3"),
            dbc.Col(card("Champion vs challenger", _comparison(model.comparison),
                         "models-comparison"), xl=4, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(card("Registry timeline", [
                html.Div("When each alias pointed at each version; diamonds mark when each "
                         "version's training run started.", className="kpi-caption"),
                *timeline], "models-timeline"), xl=8, className="mb-3"),
            dbc.Col(card("Objectives", [_objectives(model)], "models-objectives"), xl=4,
                    className="mb-3"),
        ]),
        card("Versions", [_versions(model)], "models-versions"),
    ])


def _side(label: str, stats: VersionStats | None, side: str) -> list[Any]:
    version = Cell("–" if stats is None else f"v{stats.version}",
                   testid=f"models-{side}-version")
    if stats is None:
        return [label, version, Cell("no data", className="text-muted"), ""]
    return [
        label, version,
        Cell(html.Span(fmt.objective_value("model_metric", stats.latest),
                       **{"data-testid": f"models-{side}-latest"}),
             title=f"{stats.latest_at:%Y-%m-%d %H:%M} UTC"),
        html.Span(fmt.objective_value("model_metric", stats.mean_last),
                  **{"data-testid": f"models-{side}-mean"}),
    ]


def _comparison(comparison: Comparison | None) -> list[Any]:
    if comparison is None:
        return [html.P("Choose a metric.", className="text-muted")]
    columns = [Column(""), Column("Version"), Column("Latest", "end", "fw-semibold"),
               Column(f"Mean of last {comparison.last_n}", "end")]
    delta = "–" if comparison.delta is None else f"{comparison.delta:+.3f}"
    if comparison.delta is None:
        verdict = "needs both a champion and a challenger with data"
    elif comparison.better is None:
        verdict = "direction unknown: add an objective on this metric to say which way is up"
    else:
        verdict = BETTER_TEXT[comparison.better]
    return [
        data_table(columns, [_side("Champion", comparison.champion, "champion"),
                             _side("Challenger", comparison.challenger, "challenger")],
                   className=""),
        html.Div(className="mb-2"),
        stat(delta, "models-delta", unit=f"challenger − champion ({comparison.metric}, mean "
             f"of last {comparison.last_n})"),
        html.Div(verdict, className="small", **{"data-testid": "models-better"}),
    ]


def _objectives(model: ModelView) -> html.Div | html.P:
    if not model.objectives:
        return html.P("No objective on this model: add products[].objectives "
                      "(kind: model_metric).", className="text-muted")
    blocks = []
    for i, row in enumerate(model.objectives):
        result = row.trend.result
        reads = (f"{row.objective.metric} of {row.objective.alias or 'version'}"
                 f"{'' if row.version is None else f' (v{row.version})'}, "
                 f"{fmt.threshold_text(result.kind, result.op, result.threshold)}")
        blocks.append(html.Div([
            html.Div([html.Span(row.objective.name, className="fw-semibold me-2"),
                      status_badge(result.status, f"models-objective-status-{i}")]),
            html.Div(reads, className="kpi-caption"),
            stat(fmt.objective_value(result.kind, result.value),
                 f"models-objective-value-{i}",
                 unit=f"{fmt.change(row.trend.week_over_week)} week over week",
                 extra=sparkline(sparkline_figure(row.trend.trend, result.status))),
        ], className="mb-3"))
    return html.Div(blocks)


VERSION_COLUMNS = [Column("Version"), Column("Aliases now"), Column("Trained (UTC)"),
                   Column("Registered (UTC)"), Column("Training run", className="small")]


def _versions(model: ModelView) -> dbc.Table | html.Div:
    trained = dict(zip(model.births["version"], model.births["trained"], strict=True))
    rows = []
    for version, run_id, aliases, created in zip(
            model.versions["version"], model.versions["run_id"], model.versions["aliases"],
            model.versions["created"], strict=True):
        version = str(version)
        url = model.run_urls.get(version)
        run: Any = external_link(run_id, url) if run_id else "–"
        when = trained.get(version)
        rows.append([
            f"v{version}", ", ".join(aliases) or "–",
            "–" if when is None or when != when else f"{when:%Y-%m-%d %H:%M}",
            f"{created:%Y-%m-%d %H:%M}", run,
        ])
    return data_table(VERSION_COLUMNS, rows)


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("models-model", "value"),
    Input("models-metric", "value"),
    State("models-shown", "data"),
    State("url", "search"),
    prevent_initial_call=True,
    page="/models",
)
def choose(model: str | None, metric: str | None, shown: dict[str, str | None],
           search: str | None) -> str:
    """Write the chosen model and metric into the URL; a new model resets the metric.

    Compared with what the page shows (not the URL, which may name none): a dropdown that
    reports its value as it mounts must not rewrite the URL.
    """
    query = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items() if v}
    if ctx.triggered_id == "models-model":
        if model == shown.get("model"):
            return no_update  # type: ignore[no-any-return]
        query.pop("metric", None)
        query["model"] = model or ""
    else:
        if metric == shown.get("metric"):
            return no_update  # type: ignore[no-any-return]
        query["metric"] = metric or ""
    return "?" + urlencode({k: v for k, v in query.items() if v})


dash.register_page(__name__, path="/models", name="Models", title="dspo · Models", order=30,
                   layout=layout)
