"""The names every module agrees on (config.py): where builds go, the release IRIs, and the
prefixes a query may use without declaring them."""

from __future__ import annotations

from isecg_kg import config


def test_a_command_in_the_project_writes_its_dist_and_elsewhere_the_user_s(tmp_path,
                                                                            monkeypatch):
    assert config.default_dist(config.PROJECT_ROOT / "data") == config.PROJECT_ROOT / "dist"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert config.default_dist(tmp_path) == tmp_path / "xdg" / "isecg-kg" / "dist"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/not/used")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config.default_dist(tmp_path) == \
        tmp_path / "home" / ".local" / "share" / "isecg-kg" / "dist"


def test_a_release_is_its_own_dataset_and_an_unversioned_build_the_void_s():
    assert config.dataset_iri("0.2.0") == config.release_iri("0.2.0") == \
        "https://w3id.org/isecg/release/0.2.0"
    assert config.dataset_iri(None) == config.DATASET_IRI
    assert config.files_base("0.2.0") == "https://w3id.org/isecg/release/0.2.0/"
    assert config.files_base(None) == "https://w3id.org/isecg/dumps/"


def test_predeclared_prefixes_are_the_project_s_own_but_one():
    extra = {p: ns for p, ns in config.PREDECLARED.items() if config.PREFIXES.get(p) != ns}
    assert extra == {"wdt": "http://www.wikidata.org/prop/direct/"}
    assert all(ns.endswith(("/", "#")) for ns in config.PREFIXES.values())
