"""deploy/kubernetes: valid Kubernetes objects, offline, and wired to what dspo really has.

The schemas are the Kubernetes OpenAPI definitions as JSON schemas, vendored per version by
`kubernetes-validate` (strict: an unknown field is an error, as `kubectl apply
--validate=strict` makes it). The manifests are checked against the oldest Kubernetes they
claim (CronJob `timeZone` is GA since 1.27; 1.30 is the oldest release still patched by
most clouds) and the newest vendored one. Past the schemas, the tests check what a schema
cannot: names that refer to each other, commands dspo's CLI accepts, the config file that
dspo's loader accepts, and the probes answering 200 from the app that config builds.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cli_parse import cli_accepts

from config.loader import parse_config

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "kubernetes"
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

Manifest = dict[str, Any]


def _manifests() -> list[tuple[str, Manifest]]:
    """(file name, object) for every Kubernetes object under deploy/kubernetes."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                found.append((path.name, doc))
    return found


MANIFESTS = _manifests()


def _by_kind(kind: str) -> list[Manifest]:
    return [m for _, m in MANIFESTS if m["kind"] == kind]


def _one(kind: str, name: str) -> Manifest:
    (found,) = [m for m in _by_kind(kind) if m["metadata"]["name"] == name]
    return found


def _pod_specs() -> Iterator[tuple[str, Manifest]]:
    """(object name, pod spec) of every workload: Deployment, Job, CronJob."""
    for _, m in MANIFESTS:
        spec = m.get("spec", {})
        if m["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            yield m["metadata"]["name"], spec["template"]["spec"]


def _validate(manifest: Manifest, version: str) -> None:
    kubernetes_validate.validate(manifest, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("name", "manifest"), MANIFESTS, ids=[f"{f}:{m['kind']}" for f, m in MANIFESTS]
)
def test_manifest_matches_the_kubernetes_schema(name: str, manifest: Manifest,
                                                version: str) -> None:
    try:
        _validate(manifest, version)
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"{name} ({manifest['kind']}) against Kubernetes {version}: {e.message}")


def _container(m: Manifest) -> Manifest:
    spec = m["spec"]["jobTemplate"]["spec"] if m["kind"] == "CronJob" else m["spec"]
    return spec["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def _rename(key: str, to: str) -> Callable[[Manifest], None]:
    def edit(m: Manifest) -> None:
        m[to] = m.pop(key)
    return edit


# Each mutation is a typo a person could make; the schema must refuse every one.
MISTAKES: dict[str, tuple[str, str, Callable[[Manifest], None]]] = {
    "metadata misspelled": ("Deployment", "dspo-dashboard", _rename("metadata", "metdata")),
    "probe field misspelled": (
        "Deployment", "dspo-dashboard",
        lambda m: _container(m)["readinessProbe"].update(periodSecond=10)),
    "probe misspelled": (
        "Deployment", "dspo-dashboard",
        lambda m: _container(m).update(readinesProbe=_container(m).pop("readinessProbe"))),
    "replicas as text": ("Deployment", "dspo-dashboard",
                         lambda m: m["spec"].update(replicas="two")),
    "concurrencyPolicy misspelled": (
        "CronJob", "dspo-collect",
        lambda m: m["spec"].update(concurencyPolicy=m["spec"].pop("concurrencyPolicy"))),
    "envFrom ref misspelled": (
        "Job", "dspo-db-upgrade",
        lambda m: _container(m)["envFrom"][1].update(secretReference={"name": "dspo-secrets"})),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_misspelled_field_fails_validation(mistake: str) -> None:
    kind, name, edit = MISTAKES[mistake]
    broken = copy.deepcopy(_one(kind, name))
    _validate(broken, VERSIONS[-1])  # the original is valid...
    edit(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(broken, VERSIONS[-1])  # ...the typo is not


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    examples = {name for name in files if name.endswith(".example.yaml")}
    assert examples == {"secret.example.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files - examples)


def test_every_reference_names_an_object_of_the_folder() -> None:
    """A ConfigMap, Secret or claim that no manifest defines leaves pods stuck in Pending."""
    defined = {(m["kind"], m["metadata"]["name"]) for _, m in MANIFESTS}
    for workload, pod in _pod_specs():
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in defined, workload
                if "secretRef" in source:
                    assert ("Secret", source["secretRef"]["name"]) in defined, workload
            volumes = {v["name"] for v in pod.get("volumes", [])}
            assert {v["name"] for v in container.get("volumeMounts", [])} <= volumes, workload
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in defined, workload
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", claim) in defined, workload


def test_the_service_reaches_the_dashboard_pods_on_a_declared_port() -> None:
    deployment = _one("Deployment", "dspo-dashboard")
    service = _one("Service", "dspo-dashboard")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    container = _container(deployment)
    ports = {p["name"] for p in container["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in ports, probe
    assert deployment["spec"]["replicas"] >= 2  # the point: more than one replica
    if container["command"][0] == "dspo":  # `dspo serve` rather than gunicorn itself
        cli_accepts(container["command"])
    assert "memory" in container["resources"]["limits"]


@pytest.mark.parametrize(
    ("kind", "name", "argv"),
    [
        ("Job", "dspo-db-upgrade", ["dspo", "db", "upgrade"]),
        ("CronJob", "dspo-collect", ["dspo", "collect", "-c", "/etc/dspo/dspo.yaml"]),
        ("CronJob", "dspo-alerts-evaluate",
         ["dspo", "alerts", "evaluate", "-c", "/etc/dspo/dspo.yaml"]),
    ],
)
def test_jobs_run_dspo_commands_thecli_accepts(kind: str, name: str, argv: list[str]) -> None:
    manifest = _one(kind, name)
    assert _container(manifest)["command"] == argv
    cli_accepts(argv)
    if kind == "CronJob":
        # A run still going when the next is due is not doubled (dspo's lease backs it up).
        assert manifest["spec"]["concurrencyPolicy"] == "Forbid"
        assert manifest["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0


def test_cli_check_refuses_an_unknown_option() -> None:
    with pytest.raises(Exception, match="No such option: --sources"):
        cli_accepts(["dspo", "collect", "--sources", "x"])
    with pytest.raises(Exception, match="No such command 'evaluat'"):
        cli_accepts(["dspo", "alerts", "evaluat"])


def _env() -> dict[str, str]:
    """The environment a pod gets: the dspo-env ConfigMap plus the example Secret."""
    env = dict(_one("ConfigMap", "dspo-env")["data"])
    env.update(_one("Secret", "dspo-secrets")["stringData"])
    return env


def test_the_config_file_is_mounted_where_dspo_looks_and_loads() -> None:
    env = _env()
    mounted = {m["mountPath"] for _, pod in _pod_specs() for m in pod["containers"][0]
               ["volumeMounts"] if m["name"] == "config"}
    assert mounted == {str(Path(env["DSPO_CONFIG"]).parent)}
    text = _one("ConfigMap", "dspo-config")["data"][Path(env["DSPO_CONFIG"]).name]
    config = parse_config(text, source="configmap.yaml", env=env)
    assert config.store.url == env["DSPO_STORE_URL"]
    assert "localhost" in config.dashboard.trusted_hosts  # the probes' Host header


def test_probes_answer_200_from_the_app_the_configmap_builds(tmp_path: Path) -> None:
    """The probe path is open and the probe's Host header is trusted; a pod's IP is not,
    which is why the probes name a host."""
    from dspo.web import create_web_app
    from store.db import Store

    env = _env() | {"DSPO_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}"}
    config = parse_config(_one("ConfigMap", "dspo-config")["data"]["dspo.yaml"],
                          source="configmap.yaml", env=env)
    store = Store(config.store.url)
    try:
        store.upgrade()
        client = create_web_app(config, store).server.test_client()
        container = _container(_one("Deployment", "dspo-dashboard"))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
            assert client.get(get["path"], headers=headers).status_code == 200, probe
        assert client.get("/readyz", headers={"Host": "10.1.2.3:8050"}).status_code == 400
        paths = {container[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe")}
        assert paths == {"/readyz"} and container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    finally:
        store.dispose()


DOCS = (ROOT / "docs" / "deploy.md").read_text()
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def _cron_jobs() -> list[list[str]]:
    """The job lines of docs/deploy.md's cron block, split into 5 time fields, user, command."""
    (block,) = re.findall(r"```cron\n(.*?)```", DOCS, re.S)
    lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]
    return [ln.split(None, 6) for ln in lines if not re.match(r"^[A-Z_]+=", ln)]


def test_the_cron_lines_in_the_docs_run_dspo_commands_the_cli_accepts() -> None:
    jobs = _cron_jobs()
    commands = set()
    for job in jobs:
        assert len(job) == 7, job
        assert all(CRON_FIELD.match(field) for field in job[:5]), job[:5]
        last = shlex.split(job[6].split(";")[-1])  # exec flock -n LOCK .../dspo ARGS >>LOG 2>&1
        start = next(i for i, word in enumerate(last) if word.endswith("/dspo"))
        args = [w for w in last[start + 1:] if not w.startswith((">", "2>"))]
        cli_accepts(["dspo", *args])
        commands.add(" ".join(args))
    assert commands == {"collect", "alerts evaluate"}
    assert "DSPO_CONFIG=/etc/dspo/dspo.yaml" in DOCS


def test_the_docs_name_every_manifest() -> None:
    for path in K8S.glob("*.yaml"):
        assert f"`{path.name}`" in DOCS, path.name
