"""The catalog: every file validates, every feature renders, bad entries are named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from paxx_env.catalog import load_catalog
from paxx_env.errors import ConfigError
from paxx_env.names import check_image_reference
from paxx_env.render import render_project

CATALOG = load_catalog()


def test_catalog_has_the_six_services_and_nine_features() -> None:
    assert sorted(CATALOG.services) == [
        "jaeger",
        "mailpit",
        "meilisearch",
        "minio",
        "postgres",
        "redis",
    ]
    assert sorted(CATALOG.features) == [
        "cache",
        "db",
        "email",
        "search",
        "storage",
        "tasks",
        "tracing",
        "vector",
        "websocket",
    ]


@pytest.mark.parametrize("name", sorted(CATALOG.services))
def test_every_service_is_pinned_loopback_only_and_health_checked(name: str) -> None:
    service = CATALOG.services[name]
    assert check_image_reference(service.image) == ""
    assert ":latest" not in service.image
    for spec in service.compose.get("ports", []):
        assert spec.startswith("127.0.0.1:")
    assert service.compose["healthcheck"]["test"]
    assert "start_interval" not in service.compose["healthcheck"]


@pytest.mark.parametrize("name", sorted(CATALOG.features))
def test_every_feature_renders_valid_compose_yaml(name: str) -> None:
    render = render_project(CATALOG, [name], "demo", "[tool.paxx] in pyproject.toml")
    assert render.services == tuple(CATALOG.services_for([name]))
    for path in render.overlays:
        document = yaml.safe_load(render.files[path])
        ((service_name, body),) = document["services"].items()
        assert body["labels"] == {"dev.paxx.service": service_name}
        assert body["healthcheck"]["interval"] == "10s"


def test_requirements_are_pulled_in() -> None:
    assert CATALOG.closure(["vector"]) == ["db", "vector"]
    assert CATALOG.services_for(["vector"]) == ["postgres"]


def write_catalog(
    root: Path, service: str, profile: str = 'summary = "x"\nservices = ["svc"]\n'
) -> Path:
    (root / "services").mkdir(parents=True)
    (root / "profiles" / "feat").mkdir(parents=True)
    (root / "services" / "svc.yaml").write_text(service)
    (root / "profiles" / "feat" / "profile.toml").write_text(profile)
    return root


GOOD = """\
image: example/svc:1.2.3
ports: ["127.0.0.1:${PAXX_SVC_PORT}:80"]
healthcheck: {test: ["CMD", "true"]}
x-paxx:
  summary: a service
  ports: {PAXX_SVC_PORT: 8080}
"""


def test_a_good_synthetic_catalog_loads(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, GOOD))
    assert list(catalog.services) == ["svc"]


@pytest.mark.parametrize(
    ("service", "message"),
    [
        (
            GOOD.replace("example/svc:1.2.3", "example/svc:latest"),
            "services/svc.yaml: image: 'example/svc:latest' uses :latest; pin a version instead",
        ),
        (
            GOOD.replace("example/svc:1.2.3", "example/svc"),
            "services/svc.yaml: image: 'example/svc' has no tag; pin a version such as example/svc:1.2.3",
        ),
        (
            GOOD.replace("127.0.0.1:${PAXX_SVC_PORT}:80", "${PAXX_SVC_PORT}:80"),
            "services/svc.yaml: port '${PAXX_SVC_PORT}:80' must look like 127.0.0.1:${PAXX_..._PORT}:TARGET",
        ),
        (
            GOOD.replace('healthcheck: {test: ["CMD", "true"]}', "restart: always"),
            "services/svc.yaml: unsupported Compose key 'restart'",
        ),
        (
            GOOD.replace('{test: ["CMD", "true"]}', '{test: ["CMD", "true"], start_interval: 1s}'),
            "services/svc.yaml: healthcheck.start_interval is set by paxx",
        ),
        (
            GOOD.replace("  summary: a service\n", ""),
            "services/svc.yaml: x-paxx.summary: Field required",
        ),
        (
            GOOD.replace("{PAXX_SVC_PORT: 8080}", "{PAXX_SVC_PORT: 80}"),
            "services/svc.yaml: x-paxx.ports: PAXX_SVC_PORT: preferred port 80 is outside 1024-65535",
        ),
        (
            GOOD + "volumes: ['/host/path:/data']\n",
            "services/svc.yaml: volume '/host/path:/data' must be a named volume (NAME:/path)",
        ),
        ("image: [unclosed\n", None),
    ],
)
def test_bad_service_files_are_rejected_naming_file_and_key(
    tmp_path: Path, service: str, message: str | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(write_catalog(tmp_path, service))
    if message is None:
        # The problem's wording is PyYAML's (libyaml's when it is built in); paxx adds the line.
        assert caught.value.message.startswith("services/svc.yaml line 2: not valid YAML (")
    else:
        assert caught.value.message == message


def test_a_profile_naming_an_unknown_service_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(write_catalog(tmp_path, GOOD, 'summary = "x"\nservices = ["nope"]\n'))
    assert caught.value.message == "profiles/feat/profile.toml: unknown service 'nope'"


def test_a_profile_with_an_unknown_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(write_catalog(tmp_path, GOOD, 'summary = "x"\nservice = ["svc"]\n'))
    assert (
        caught.value.message
        == "profiles/feat/profile.toml: service: Extra inputs are not permitted"
    )


@pytest.mark.parametrize("name", sorted(CATALOG.services))
def test_every_service_declares_a_probe_on_one_of_its_ports(name: str) -> None:
    service = CATALOG.services[name]
    assert service.probe is not None, f"{name}: `paxx up` would fall back to docker exec"
    assert service.probe.port in service.meta.ports


PROBED = (
    GOOD
    + "  secrets: [SVC_PASSWORD]\n  probe: {protocol: resp, port: PAXX_SVC_PORT, password: SVC_PASSWORD}\n"
)


def test_a_declared_probe_loads_as_its_spec(tmp_path: Path) -> None:
    service = load_catalog(write_catalog(tmp_path, PROBED)).services["svc"]
    assert service.probe is not None
    assert service.probe.to_dict() == {
        "protocol": "resp",
        "port": "PAXX_SVC_PORT",
        "password": "SVC_PASSWORD",
    }


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        (
            "{protocol: tcp, port: PAXX_SVC_PORT}",
            "x-paxx.probe.protocol: must be one of http, resp, postgres, smtp",
        ),
        (
            "{protocol: resp, port: PAXX_OTHER_PORT}",
            "x-paxx.probe.port: 'PAXX_OTHER_PORT' is not one of the service's ports",
        ),
        ("{protocol: http, port: PAXX_SVC_PORT}", "x-paxx.probe: protocol http needs path"),
        (
            "{protocol: http, port: PAXX_SVC_PORT, path: health}",
            "x-paxx.probe.path: must start with /",
        ),
        (
            "{protocol: http, port: PAXX_SVC_PORT, path: /health, status: 999}",
            "x-paxx.probe.status: must be an HTTP status (100-599)",
        ),
        (
            "{protocol: http, port: PAXX_SVC_PORT, path: /, password: SVC_PASSWORD}",
            "x-paxx.probe.password: not a field of protocol http",
        ),
        (
            "{protocol: resp, port: PAXX_SVC_PORT, password: OTHER_PASSWORD}",
            "x-paxx.probe.password: 'OTHER_PASSWORD' is not a secret or default of the service",
        ),
        (
            "{protocol: postgres, port: PAXX_SVC_PORT, user: SVC_PASSWORD}",
            "x-paxx.probe: protocol postgres needs database",
        ),
    ],
)
def test_bad_probes_are_rejected_naming_the_key(tmp_path: Path, probe: str, message: str) -> None:
    service = GOOD + f"  secrets: [SVC_PASSWORD]\n  probe: {probe}\n"
    with pytest.raises(ConfigError) as caught:
        load_catalog(write_catalog(tmp_path, service))
    assert caught.value.message == f"services/svc.yaml: {message}"
