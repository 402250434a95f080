"""Relative paths in a config file mean relative to that file, not to the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load_config, parse_config
from config.schema import EvidentlySource, FilesSource

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
products: [{key: churn, name: Churn}]
sources:
  - name: backlog
    kind: files
    product: churn
    items: exports/items.csv
    sprints: ./exports/sprints.csv
    history: ../shared/history.csv
  - name: drift
    kind: evidently
    product: churn
    reports_dir: reports
    import_dirs: [snapshots, /srv/evidently/snapshots]
    workspaces: [{path: evidently-workspace, project: Churn}]
    datasets:
      - name: features
        reference: {path: data/reference.parquet}
        current: {path: /data/current.parquet}
"""


def _sources(cfg: object) -> tuple[FilesSource, EvidentlySource]:
    files, drift = cfg.sources  # type: ignore[attr-defined]
    assert isinstance(files, FilesSource) and isinstance(drift, EvidentlySource)
    return files, drift


def test_every_path_resolves_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc" / "dspo"
    folder.mkdir(parents=True)
    (folder / "dspo.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)  # anywhere but the config's folder
    files, drift = _sources(load_config(Path("etc/dspo/dspo.yaml"), env={}))
    assert files.items == folder / "exports/items.csv"
    assert files.sprints == folder / "exports/sprints.csv"
    assert files.history == folder / "../shared/history.csv"
    assert drift.reports_dir == folder / "reports"
    assert drift.import_dirs == [folder / "snapshots", Path("/srv/evidently/snapshots")]
    assert drift.workspaces[0].path == folder / "evidently-workspace"
    dataset = drift.datasets[0]
    assert dataset.reference.path == folder / "data/reference.parquet"
    assert dataset.current.path == Path("/data/current.parquet")  # absolute: unchanged
    assert all(p.is_absolute() for p in (files.items, drift.reports_dir))


def test_text_without_a_file_and_settings_built_in_code_stay_relative_to_the_cwd() -> None:
    files, drift = _sources(parse_config(CONFIG, source="<text>", env={}))
    assert files.items == Path("exports/items.csv")
    assert drift.reports_dir == Path("reports")
    built = FilesSource(name="b", kind="files", product="p", items="items.csv")
    assert built.items == Path("items.csv")


def test_base_dir_given_to_parse_config(tmp_path: Path) -> None:
    files, _ = _sources(parse_config(CONFIG, source="<text>", env={}, base_dir=tmp_path))
    assert files.items == tmp_path / "exports/items.csv"


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    text = CONFIG.replace("items: exports/items.csv", "items: ~/exports/items.csv")
    files, _ = _sources(parse_config(text, source="<text>", env={}, base_dir=Path("/etc")))
    assert files.items == tmp_path / "exports/items.csv"


def test_an_interpolated_absolute_path_is_kept(tmp_path: Path) -> None:
    """The demo config writes ${DSPO_DEMO_DIR}/...: an absolute folder stays where it is."""
    cfg = load_config(ROOT / "config" / "demo.yaml", env={"DSPO_DEMO_DIR": str(tmp_path)})
    paths = [s.items for s in cfg.sources if isinstance(s, FilesSource)]
    paths += [s.reports_dir for s in cfg.sources if isinstance(s, EvidentlySource)]
    assert paths and all(p.is_relative_to(tmp_path) for p in paths)


def test_import_folders_inside_reports_dir_are_refused(tmp_path: Path) -> None:
    text = CONFIG.replace("import_dirs: [snapshots,", "import_dirs: [reports/in,")
    (tmp_path / "dspo.yaml").write_text(text)
    with pytest.raises(Exception, match="lies inside reports_dir"):
        load_config(tmp_path / "dspo.yaml", env={})
