"""--paxx-reuse-db's key: what names a kept template changes when what makes it changes.

The live test (tests/live/test_pytest_plugin_kept.py) runs suites against PostgreSQL; these
check the key alone, on files in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from paxx_env.testing.kept import Keep, alembic_scripts, input_files, template_key

ALEMBIC_INI = "[alembic]\nscript_location = %(here)s/app/migrations\n"


def prepare(database_url: str) -> None:
    """A preparation hook."""


def prepare_other(database_url: str) -> None:
    """Another one, with other code."""
    print(database_url)


def _project(tmp_path: Path) -> Path:
    (tmp_path / "alembic.ini").write_text(ALEMBIC_INI)
    versions = tmp_path / "app" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_first.py").write_text("revision = '0001'\n")
    return tmp_path


def test_the_key_follows_the_hook_the_extension_the_migrations_and_named_inputs(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    key = template_key([prepare], False, root, [])
    assert key == template_key([prepare], False, root, [])
    assert len(key) == 12
    assert template_key([prepare_other], False, root, []) != key
    assert template_key([prepare, prepare_other], False, root, []) != key
    assert template_key([prepare], True, root, []) != key
    (root / "app" / "migrations" / "versions" / "0002_second.py").write_text("revision = '2'\n")
    with_migration = template_key([prepare], False, root, [])
    assert with_migration != key
    (root / "schema.sql").write_text("CREATE TABLE t (n int);\n")
    named = template_key([prepare], False, root, ["schema.sql"])
    assert named != with_migration
    (root / "schema.sql").write_text("CREATE TABLE t (n bigint);\n")
    assert template_key([prepare], False, root, ["schema.sql"]) != named


def test_compiled_files_and_missing_inputs_do_not_count(tmp_path: Path) -> None:
    root = _project(tmp_path)
    key = template_key([prepare], False, root, ["missing.sql"])
    cache = root / "app" / "migrations" / "versions" / "__pycache__"
    cache.mkdir()
    (cache / "0001_first.cpython-311.pyc").write_bytes(b"\0compiled")
    assert template_key([prepare], False, root, ["missing.sql"]) == key
    assert template_key([prepare], False, root, []) == key


def test_alembic_scripts_reads_script_location(tmp_path: Path) -> None:
    ini = tmp_path / "alembic.ini"
    assert alembic_scripts(ini) is None  # no alembic.ini
    ini.write_text(ALEMBIC_INI)
    assert alembic_scripts(ini) == tmp_path / "app" / "migrations"
    ini.write_text("[alembic]\nscript_location = migrations\n")
    assert alembic_scripts(ini) == tmp_path / "migrations"
    ini.write_text("[alembic]\nscript_location = myapp:migrations\n")
    assert alembic_scripts(ini) is None  # a package's resource, not a folder of the project
    ini.write_text("not an ini file")
    assert alembic_scripts(ini) is None
    assert input_files(tmp_path, []) == [ini]


def test_kept_names_stay_within_postgresqls_63_characters() -> None:
    keep = Keep("0123456789ab")
    assert keep.template == "paxx_keep_0123456789ab_template"
    spare = f"{keep.spare_prefix}{2**31}_deadbeef"
    assert len(spare) <= 63
    assert spare.rsplit("_", 2)[-2] == str(2**31)
