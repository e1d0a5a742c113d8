"""The open data's OpenAPI file agrees with the public routes, the published tables and the dictionary."""

from __future__ import annotations

import json
import re

from flask import Flask
from flask.testing import FlaskClient

from intake.tally import FAMILY_TABLES
from intake.tally_page import DATASETS, DICTIONARY, HEALTH_DATASETS
from intake.web_public import OPENAPI_FILE

SPEC = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))


def _flask_path(rule: str) -> str:
    # /transparencia/datos/<name>.<fmt> is described as one path per format, {tabla} for <name>.
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_open_data_route_is_described_and_every_described_path_is_served(app: Flask) -> None:
    served = {
        _flask_path(r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith(("/transparencia/datos/", "/transparencia/informes/"))
    }
    expanded = set()
    for path in served:
        if path == "/transparencia/datos/{name}.{fmt}":
            expanded |= {"/transparencia/datos/{tabla}.json", "/transparencia/datos/{tabla}.csv"}
        elif path == "/transparencia/informes/{month}.pdf":
            expanded.add("/transparencia/informes/{mes}.pdf")  # described by its Spanish name
        else:
            expanded.add(path)
    assert expanded == set(SPEC["paths"])


def test_the_table_parameter_lists_exactly_the_published_tables() -> None:
    published = {(family, dims) for family, dims in DATASETS.values()}
    cubes = sum(len(tables) for tables in FAMILY_TABLES.values())
    assert len(published) == cubes == len(DATASETS)
    for path in ("/transparencia/datos/{tabla}.json", "/transparencia/datos/{tabla}.csv"):
        (parameter,) = SPEC["paths"][path]["get"]["parameters"]
        assert parameter["name"] == "tabla" and parameter["in"] == "path"
        assert parameter["schema"]["enum"] == sorted([*DATASETS, *HEALTH_DATASETS])


def test_the_dictionary_explains_every_column_a_table_can_have() -> None:
    columns = {d for _, dims in DATASETS.values() for d in dims} | {"casos"}
    health_columns = {c for columns in HEALTH_DATASETS.values() for c in columns}
    assert columns | health_columns <= set(DICTIONARY)


def test_the_served_description_is_the_file(client: FlaskClient) -> None:
    response = client.get("/transparencia/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == SPEC
    assert SPEC["openapi"].startswith("3.1")


def test_the_table_names_are_the_public_contract() -> None:
    # Renaming a file breaks every journalist's script that reads it: a test fails first.
    assert {"estado", "categoria-mes", "mes-estado", "consultas-mes-tema", "consultas-departamento-mes"} <= set(
        DATASETS
    )
    assert DATASETS["mes-estado"] == ("casos", ("month", "state_group"))
