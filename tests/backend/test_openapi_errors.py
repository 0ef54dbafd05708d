"""The OpenAPI document lists each route's error answers, in the shape they come in."""

from __future__ import annotations

import pytest


@pytest.fixture
async def doc(client):
    return (await client.get("/schema/openapi.json")).json()


def answers(doc, path: str, method: str) -> set[str]:
    return set(doc["paths"][path][method]["responses"])


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/cases/{case_id}/transitions", "post", {"400", "401", "403", "404", "409", "422"}),
        ("/api/auth/sign-in", "post", {"400", "401", "422", "429"}),
        ("/api/anonymous/cases/{code}", "get", {"404", "429"}),
        ("/api/anonymous/cases/{code}/photos", "post", {"404", "409", "429"}),
        ("/open311/v2/requests.json", "get", {"429"}),
        ("/api/imports/{import_id}/confirm", "post", {"401", "403", "404", "409"}),
        ("/api/me", "get", {"401"}),
    ],
)
async def test_each_route_lists_its_error_answers(doc, path, method, expected):
    assert expected <= answers(doc, path, method)


async def test_every_error_answer_has_the_error_shape(doc):
    for path, item in doc["paths"].items():
        for op in item.values():
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")) and "content" in answer:
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
    body = doc["components"]["schemas"]["ErrorBody"]
    assert {"status", "code", "reason"} <= set(body["required"])
    assert "field" in body["properties"]
