"""The catalog: every file validates, every feature renders, bad entries are named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from paxx_env.catalog import conflicts, load_catalog, resolve_providers, select
from paxx_env.errors import ConfigError
from paxx_env.names import check_image_reference
from paxx_env.render import render_project

CATALOG = load_catalog()


def test_catalog_has_the_eight_services_and_nine_features() -> None:
    assert sorted(CATALOG.services) == [
        "jaeger",
        "mailpit",
        "meilisearch",
        "minio",
        "postgres",
        "redis",
        "rustfs",
        "valkey",
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


FEATURE_PROVIDERS = [
    (f, p) for f in sorted(CATALOG.features) for p in CATALOG.features[f].profile.providers
]


@pytest.mark.parametrize(("name", "provider"), FEATURE_PROVIDERS)
def test_every_feature_renders_valid_compose_yaml_on_every_provider(
    name: str, provider: str
) -> None:
    render = render_project(
        CATALOG, [name], "demo", "[tool.paxx] in pyproject.toml", providers={name: provider}
    )
    assert render.providers[name] == provider
    assert render.services == select(CATALOG, [name], {name: provider}).services
    for path in render.overlays:
        document = yaml.safe_load(render.files[path])
        ((service_name, body),) = document["services"].items()
        assert body["labels"] == {"dev.paxx.service": service_name}
        assert body["healthcheck"]["interval"] == "10s"


def test_requirements_are_pulled_in_by_features_and_by_providers() -> None:
    vector = select(CATALOG, ["vector"], {})
    assert vector.features == ("db", "vector")
    assert vector.services == ("postgres",)
    assert vector.serving == {"postgres": {"db": "postgres", "vector": "pgvector"}}
    # Search in PostgreSQL needs the db feature and runs no search service at all.
    search = select(CATALOG, ["search"], {"search": "postgres"})
    assert search.providers == {"db": "postgres", "search": "postgres"}
    assert search.services == ("postgres",)
    assert select(CATALOG, ["search"], {}).services == ("meilisearch",)


def test_a_declaration_without_providers_keeps_what_it_ran_before_the_choice() -> None:
    unrecorded = select(CATALOG, list(CATALOG.features), {})
    assert unrecorded.services == (
        "jaeger",
        "mailpit",
        "meilisearch",
        "minio",
        "postgres",
        "redis",
    )
    # New projects get the defaults: maintained, openly licensed providers.
    new = resolve_providers(CATALOG, [], {}, ["cache", "storage", "tasks", "websocket", "search"])
    assert new == {
        "cache": "valkey",
        "search": "meilisearch",
        "storage": "rustfs",
        "tasks": "valkey",
        "websocket": "valkey",
    }


def test_a_new_feature_joins_the_server_it_shares() -> None:
    # cache runs on redis (recorded or not): tasks and websocket, added later, join it.
    for recorded in ({}, {"cache": "redis"}):
        providers = resolve_providers(CATALOG, ["cache"], recorded, ["tasks", "websocket"])
        assert providers == {"cache": "redis", "tasks": "redis", "websocket": "redis"}
    assert resolve_providers(CATALOG, ["cache"], {"cache": "valkey"}, ["tasks"]) == {
        "cache": "valkey",
        "tasks": "valkey",
    }


def test_providers_that_would_share_a_variable_conflict() -> None:
    selection = select(CATALOG, ["cache", "tasks", "websocket"], {"cache": "valkey"})
    (conflict,) = conflicts(CATALOG, selection)
    assert conflict.variable == "REDIS_URL"
    assert conflict.describe() == (
        "cache on valkey and tasks, websocket on redis would both set REDIS_URL"
    )
    assert conflicts(CATALOG, select(CATALOG, ["cache", "storage"], {"storage": "minio"})) == []


PROFILE = 'summary = "x"\n\n[providers.svc]\nservices = ["svc"]\n'


def write_catalog(
    root: Path, service: str, profile: str = PROFILE, extra: dict[str, str] | None = None
) -> Path:
    (root / "services").mkdir(parents=True)
    (root / "profiles" / "feat").mkdir(parents=True)
    (root / "services" / "svc.yaml").write_text(service)
    (root / "profiles" / "feat" / "profile.toml").write_text(profile)
    for path, text in (extra or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
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
            GOOD + "  secrets: [svc_password]\n",
            "services/svc.yaml: x-paxx.secrets: 'svc_password' is not an environment variable name",
        ),
        (
            GOOD.replace("{PAXX_SVC_PORT: 8080}", "{paxx-svc-port: 80}"),
            "services/svc.yaml: x-paxx.ports: 'paxx-svc-port' is not an environment variable name",
        ),
        (
            GOOD + "  defaults: {svc mode: a}\n",
            "services/svc.yaml: x-paxx.defaults: 'svc mode' is not an environment variable name",
        ),
        (
            GOOD + "  exports: {svc.url: x}\n",
            "services/svc.yaml: x-paxx.exports: 'svc.url' is not an environment variable name",
        ),
        (
            GOOD + "  secret_files: {1PASSWORD: PASSWORD_FILE}\n",
            "services/svc.yaml: x-paxx.secret_files: '1PASSWORD' is not an environment variable "
            "name",
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
        load_catalog(write_catalog(tmp_path, GOOD, PROFILE.replace('["svc"]', '["nope"]')))
    assert (
        caught.value.message
        == "profiles/feat/profile.toml: providers.svc.services: unknown service 'nope'"
    )


def test_a_profile_with_an_unknown_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(
            write_catalog(tmp_path, GOOD, 'summary = "x"\nservice = ["svc"]\n' + PROFILE[15:])
        )
    assert (
        caught.value.message
        == "profiles/feat/profile.toml: service: Extra inputs are not permitted"
    )


OTHER = GOOD.replace("PAXX_SVC_PORT", "PAXX_OTHER_PORT").replace("8080", "8081")
#: Two features (feat, more) on two services that both export SVC_URL: svc or other.
CHOICE = (
    'summary = "x"\nvariables = ["SVC_URL"]\ndefault = "svc"\n\n'
    '[providers.svc]\nservices = ["svc"]\n\n[providers.other]\nservices = ["other"]\n'
)


def with_url(service: str, key: str = "SVC_URL") -> str:
    return service + f'  exports: {{{key}: "http://127.0.0.1:{{{{ PAXX_SVC_PORT }}}}"}}\n'


def test_providers_of_one_feature_may_export_the_same_variable(tmp_path: Path) -> None:
    other = with_url(OTHER).replace("PAXX_SVC_PORT }}", "PAXX_OTHER_PORT }}")
    catalog = load_catalog(
        write_catalog(
            tmp_path,
            with_url(GOOD),
            CHOICE,
            {"services/other.yaml": other, "profiles/more/profile.toml": CHOICE},
        )
    )
    assert catalog.features["feat"].profile.providers.keys() == {"svc", "other"}
    assert select(catalog, ["feat", "more"], {"feat": "other", "more": "other"}).services == (
        "other",
    )


@pytest.mark.parametrize(
    ("profile", "extra", "message"),
    [
        (
            'summary = "x"\nservices = ["svc"]\n',
            {},
            "profiles/feat/profile.toml: services: name them in a provider "
            "([providers.NAME] services = [...])",
        ),
        ('summary = "x"\n', {}, "profiles/feat/profile.toml: providers: Field required"),
        (
            'summary = "x"\n[providers]\n',
            {},
            "profiles/feat/profile.toml: providers: a feature needs at least one provider",
        ),
        (
            CHOICE.replace('default = "svc"\n', ""),
            {"services/other.yaml": OTHER},
            "profiles/feat/profile.toml: default: required when a feature has more than one "
            "provider",
        ),
        (
            CHOICE.replace('default = "svc"', 'default = "svx"'),
            {"services/other.yaml": OTHER},
            "profiles/feat/profile.toml: default: 'svx' is not one of the providers",
        ),
        (
            PROFILE.replace("[providers.svc]", "[providers.Svc]"),
            {},
            "profiles/feat/profile.toml: providers: 'Svc' is not a provider name",
        ),
        (
            PROFILE.replace('["svc"]', '["Svc"]'),
            {},
            "profiles/feat/profile.toml: providers.svc.services: 'Svc' is not a service name",
        ),
        (
            PROFILE + 'requires = ["Nope"]\n',
            {},
            "profiles/feat/profile.toml: providers.svc.requires: 'Nope' is not a feature name",
        ),
        (
            PROFILE + 'env = { "svc-mode" = "1" }\n',
            {},
            "profiles/feat/profile.toml: providers.svc.env: 'svc-mode' is not an environment "
            "variable name",
        ),
        (
            'summary = "x"\n[env]\n"svc mode" = "a"\n' + PROFILE[15:],
            {},
            "profiles/feat/profile.toml: env: 'svc mode' is not an environment variable name",
        ),
        (
            'summary = "x"\nvariables = ["svc_url"]\n' + PROFILE[15:],
            {},
            "profiles/feat/profile.toml: variables: 'svc_url' is not an environment variable name",
        ),
        (
            PROFILE + 'requires = ["nope"]\n',
            {},
            "profiles/feat/profile.toml: providers.svc.requires: unknown feature 'nope'",
        ),
        (
            CHOICE,
            {"services/other.yaml": OTHER},
            "profiles/feat/profile.toml: providers.svc does not give SVC_URL (listed in variables)",
        ),
        (
            PROFILE + 'env = { PAXX_SVC_PORT = "1" }\n',
            {},
            "profiles/feat/profile.toml: providers.svc.env.PAXX_SVC_PORT is also set by svc",
        ),
        (
            'summary = "x"\n[env]\nMODE = "a"\n' + PROFILE[15:] + 'env = { MODE = "b" }\n',
            {},
            "profiles/feat/profile.toml: providers.svc.env.MODE is also set by env.MODE",
        ),
    ],
)
def test_bad_providers_are_rejected_naming_file_and_key(
    tmp_path: Path, profile: str, extra: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(write_catalog(tmp_path, GOOD, profile, extra))
    assert caught.value.message == message


def test_an_export_may_not_share_a_name_with_another_services_input(tmp_path: Path) -> None:
    other = OTHER + "  secrets: [SVC_URL]\n"
    with pytest.raises(ConfigError) as caught:
        load_catalog(write_catalog(tmp_path, with_url(GOOD), extra={"services/other.yaml": other}))
    assert caught.value.message == "services/svc.yaml: SVC_URL is also set by other.yaml"


def test_defaults_that_would_share_a_variable_are_rejected(tmp_path: Path) -> None:
    other = with_url(OTHER).replace("PAXX_SVC_PORT }}", "PAXX_OTHER_PORT }}")
    more = CHOICE.replace('default = "svc"', 'default = "other"')
    with pytest.raises(ConfigError) as caught:
        load_catalog(
            write_catalog(
                tmp_path,
                with_url(GOOD),
                CHOICE,
                {"services/other.yaml": other, "profiles/more/profile.toml": more},
            )
        )
    assert caught.value.message == (
        "profiles/feat/profile.toml: default: feat on svc and more on other would both set SVC_URL"
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
