"""The prediction service over real HTTP on 127.0.0.1: good requests, and every kind of bad one answered with
a clear 4xx, never a 500."""

from __future__ import annotations

import dataclasses
import json
import random
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlspec.serve import Limits, Service
from mlspec.serve.validation import MAX_MAGNITUDE, InputSchema, to_frame
from tests.serve.conftest import LIMITS, Client, running
from tests.serve.models import diabetes_frame

ROW = {"age": 58, "sex": 2, "bmi": 25.5, "bp": 112.0, "s1": 163, "s2": 110.6, "s3": 29.0, "s4": 6.0, "s5": 4.7622,
       "s6": 86}
SHOP = {"size": 5.0, "color": "red", "grade": 2, "fresh": True}


def _in_process(client: Client, rows: list[dict[str, Any]]) -> list[Any]:
    service = client.service
    frame = to_frame(service.schema, {c.name: [r[c.name] for r in rows] for c in service.schema.columns})
    return list(service.model.predict(frame).tolist())


def _error(answer: Any) -> tuple[int, str]:
    return answer.status, answer.body["error"]["message"]


def test_health(regressor: Client) -> None:
    answer = regressor.request("GET", "/health")
    assert answer.status == 200
    assert {k: answer.body[k] for k in ("status", "model", "version", "alias", "verdict")} == {
        "status": "ok", "model": "diabetes", "version": 1, "alias": "production", "verdict": "pass"}
    assert answer.body["digest"].startswith("sha256:")


def test_schema(classifier: Client) -> None:
    body = classifier.request("GET", "/schema").body
    assert [(c["name"], c["type"], c["nullable"]) for c in body["columns"]] == [
        ("size", "number", True), ("color", "string", True), ("grade", "integer", True), ("fresh", "boolean", True)]
    assert body["limits"] == {"max_body_bytes": LIMITS.max_body_bytes, "max_rows": LIMITS.max_rows}


def test_one_row(regressor: Client) -> None:
    answer = regressor.predict({"rows": [ROW]})
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.body == {"predictions": _in_process(regressor, [ROW]), "model": "diabetes", "version": 1,
                           "input_issues": {"unseen_categories": {}, "out_of_range": {}}}


def test_a_batch_matches_the_model_in_process(regressor: Client) -> None:
    frame = diabetes_frame("holdout").drop(columns=["progression"]).head(100)
    rows = json.loads(frame.to_json(orient="records"))
    answer = regressor.predict({"rows": rows})
    assert answer.status == 200
    assert answer.body["predictions"] == pytest.approx(regressor.service.model.predict(frame).tolist(), rel=1e-12)


def test_missing_values_are_imputed(regressor: Client) -> None:
    answer = regressor.predict({"rows": [{**ROW, "bmi": None, "sex": None}]})
    assert answer.status == 200 and len(answer.body["predictions"]) == 1


def test_classifier_probabilities(classifier: Client) -> None:
    answer = classifier.predict({"rows": [SHOP, {**SHOP, "size": 1.0, "color": "never seen"}]},
                                "/predict?probabilities=true")
    assert answer.status == 200
    assert answer.body["classes"] == ["no", "yes"]
    assert answer.body["predictions"] == ["yes", "no"]
    assert all(sum(p) == pytest.approx(1.0) for p in answer.body["probabilities"])


def test_probabilities_of_a_regressor(regressor: Client) -> None:
    assert _error(regressor.predict({"rows": [ROW]}, "/predict?probabilities=true")) == (
        422, "probabilities are only available for classifiers with predict_proba")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{bad", "request body:1:2: not valid JSON: Expecting property name enclosed in double quotes"),
        (b'{"rows": [{"age": 1}]', "request body:1:22: not valid JSON: Expecting ',' delimiter"),
        (b'{"rows": [{"age": NaN}]}', "request body: NaN is not a JSON number"),
        (b'{"rows": [{"age": 1e999}]}', "request body:1:19: number 1e999 is beyond the range of a 64-bit float"),
        (b"\xff\xfe{}", "request body: not UTF-8 text (byte 0)"),
        (b'{"rows": ' + b"[" * 65 + b"]" * 65 + b"}", "request body: nested deeper than 64 levels"),
        (b"", 'empty request body; send JSON such as {"rows": [{"column": value, ...}]}'),
    ],
)
def test_malformed_json_is_400(regressor: Client, body: bytes, message: str) -> None:
    answer = regressor.request("POST", "/predict", body, {"Content-Type": "application/json"})
    assert _error(answer) == (400, message)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([ROW], 'expected a JSON object with "rows": a list of objects, one per row ({"rows": [{"column": value, '
                '...}]})'),
        ({"data": [ROW]}, 'expected a JSON object with "rows": a list of objects, one per row ({"rows": '
                          '[{"column": value, ...}]})'),
        ({"rows": [ROW], "model": "x"}, 'unexpected keys in the request: model; only "rows" is read'),
        ({"rows": []}, '"rows" must be a non-empty list of objects'),
        ({"rows": ROW}, '"rows" must be a non-empty list of objects'),
        ({"rows": [ROW, [1, 2]]}, "every row must be a JSON object of column: value"),
        ({"rows": [{}] * (LIMITS.max_rows + 1)},
         f"{LIMITS.max_rows + 1} rows is more than this service takes in one request ({LIMITS.max_rows}); split "
         "the batch"),
    ],
)
def test_a_request_of_the_wrong_shape_is_422(regressor: Client, document: Any, message: str) -> None:
    assert _error(regressor.predict(document)) == (422, message)


def test_missing_and_extra_columns_are_422_with_their_names(regressor: Client) -> None:
    lacking = {k: v for k, v in ROW.items() if k not in ("bmi", "s6")}
    answer = regressor.predict({"rows": [ROW, lacking, {**ROW, "colour": 1, "zip": 2}]})
    assert _error(answer) == (422, "missing columns: bmi, s6; unexpected columns: colour, zip")
    assert answer.body["error"]["details"] == [{"row": 1, "missing": ["bmi", "s6"]},
                                               {"row": 2, "unexpected": ["colour", "zip"]}]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"size": "5"}, {"column": "size", "error": "expected a number, got a string"}),
        ({"size": True}, {"column": "size", "error": "expected a number, got a boolean"}),
        ({"size": 1e400}, None),  # JSON reads it as infinity: see below
        ({"color": 3}, {"column": "color", "error": "expected a string, got a number"}),
        ({"color": ["red"]}, {"column": "color", "error": "expected a string, got an array"}),
        ({"grade": 2.5}, {"column": "grade", "error": "expected an integer, got 2.5"}),
        ({"grade": 2**70}, {"column": "grade", "error": "integer out of the 64-bit range"}),
        ({"grade": {"v": 1}}, {"column": "grade", "error": "expected an integer, got an object"}),
        ({"fresh": "yes"}, {"column": "fresh", "error": "expected true or false, got a string"}),
        ({"fresh": 1}, {"column": "fresh", "error": "expected true or false, got a number"}),
    ],
)
def test_wrong_types_are_422(classifier: Client, change: dict[str, Any], error: dict[str, str] | None) -> None:
    if error is None:  # json.dumps writes "Infinity", which is not JSON
        body = json.dumps({"rows": [{**SHOP, **change}]}).encode()
        answer = classifier.request("POST", "/predict", body, {"Content-Type": "application/json"})
        assert _error(answer) == (400, "request body: Infinity is not a JSON number")
        return
    answer = classifier.predict({"rows": [SHOP, {**SHOP, **change}]})
    assert _error(answer) == (422, f"values of the wrong type in {error['column']}")
    assert answer.body["error"]["details"] == [{"row": 1, **error}]


def test_whole_numbers_written_as_floats_are_integers(classifier: Client) -> None:
    assert classifier.predict({"rows": [{**SHOP, "grade": 2.0}]}).status == 200


def test_only_json_is_accepted(regressor: Client) -> None:
    answer = regressor.request("POST", "/predict", json.dumps({"rows": [ROW]}).encode(),
                               {"Content-Type": "application/x-www-form-urlencoded"})
    assert _error(answer) == (415, "content type 'application/x-www-form-urlencoded' is not JSON; send the body "
                                   "as application/json")
    assert regressor.request("POST", "/predict", json.dumps({"rows": [ROW]}).encode(),
                             {"Content-Type": "application/json; charset=utf-8"}).status == 200


def test_an_oversized_body_is_413(regressor: Client) -> None:
    rows = [ROW] * 400  # under the row limit, over the byte limit
    body = json.dumps({"rows": rows}).encode()
    assert len(body) > LIMITS.max_body_bytes
    answer = regressor.request("POST", "/predict", body, {"Content-Type": "application/json"})
    assert _error(answer) == (413, f"request body of {len(body)} bytes is over this service's limit of "
                                   f"{LIMITS.max_body_bytes} bytes; send fewer rows per request")


def test_an_oversized_chunked_body_is_413(regressor: Client) -> None:
    """Without a Content-Length the limit applies while reading: the service stops at the limit."""
    chunk = b" " * 8192
    with socket.create_connection((regressor.host, regressor.port), timeout=30) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(LIMITS.max_body_bytes // len(chunk) + 2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the service may answer and close before the rest is sent
            pass
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["error"]["message"] == (f"request body is over this service's limit of "
                                                    f"{LIMITS.max_body_bytes} bytes; send fewer rows per request")


def test_other_paths_and_methods(regressor: Client) -> None:
    assert _error(regressor.request("GET", "/nope")) == (
        404, "no such endpoint; use GET /health, GET /schema or POST /predict")
    assert _error(regressor.request("GET", "/predict")) == (405, "method GET is not allowed here")


def test_no_bad_request_is_ever_a_500(classifier: Client) -> None:
    """A bounded fuzz: random mutations of a good request all get an answer below 500."""
    rng = random.Random(7)
    values: list[Any] = [None, True, False, 0, -1, 2**63, 1.5, -0.0, 1e308, "", "red", "x" * 300, [], {}, [None],
                         {"a": 1}]
    statuses = set()
    for _ in range(150):
        row: dict[str, Any] = dict(SHOP)
        for _ in range(rng.randint(1, 3)):
            action = rng.random()
            key = rng.choice([*SHOP, "extra"])
            if action < 0.7:
                row[key] = rng.choice(values)
            else:
                row.pop(key, None)
        answer = classifier.predict({"rows": [SHOP, row]})
        assert answer.status < 500, (row, answer.body)
        statuses.add(answer.status)
    assert statuses == {200, 422}


def test_the_input_schema_drives_nulls(classifier: Client) -> None:
    metadata = {"preprocessing": {"numeric": {"impute": "none"}, "categorical": {"impute": "most_frequent"}},
                "input": {"features": [{"name": "size", "kind": "numeric", "dtype": "float64"},
                                       {"name": "color", "kind": "categorical", "dtype": "str"}]}}
    schema = InputSchema.from_metadata(metadata)
    assert [(c.name, c.nullable) for c in schema.columns] == [("size", False), ("color", True)]
    # A date is missing where its parts are, and those are imputed with the numeric columns.
    for impute, nullable in (("median", True), ("none", False)):
        dated = {"preprocessing": {"numeric": {"impute": impute}},
                 "input": {"features": [{"name": "signup", "kind": "datetime", "dtype": "str"}]}}
        assert [c.nullable for c in InputSchema.from_metadata(dated).columns] == [nullable]


def test_keep_alive_responses_are_not_held_back(regressor: Client) -> None:
    """The listening socket names TCP, so asyncio sets TCP_NODELAY on each connection: without it every
    response on a kept-alive connection waited ~40 ms for the client's delayed ACK."""
    import http.client
    import time

    from mlspec.serve import bind

    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
    conn = http.client.HTTPConnection(regressor.host, regressor.port, timeout=30)
    times = []
    try:
        for _ in range(10):
            start = time.perf_counter()
            conn.request("GET", "/health")
            conn.getresponse().read()
            times.append(time.perf_counter() - start)
    finally:
        conn.close()
    assert min(times[1:]) < 0.03, times


def test_a_deeply_nested_body_is_400_not_a_recursion_error(regressor: Client) -> None:
    """100,000 levels overflowed Python's json parser: a plain-text 500 from the server."""
    body = b'{"rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with running(regressor.service, Limits(max_body_bytes=1 << 20, max_rows=10)) as roomy:
        answer = roomy.request("POST", "/predict", body, {"Content-Type": "application/json"})
    assert _error(answer) == (400, "request body: nested deeper than 64 levels")


@pytest.mark.parametrize("value", [1e308, -1e151, 10**400])
def test_a_magnitude_the_model_would_overflow_on_is_422(regressor: Client, value: float) -> None:
    answer = regressor.predict({"rows": [ROW, {**ROW, "bmi": value}]})
    assert _error(answer) == (422, "values of the wrong type in bmi")
    assert answer.body["error"]["details"] == [
        {"row": 1, "column": "bmi", "error": "magnitude over 1e+150: too large for the model to compute with"}]


def test_the_bound_is_not_the_range(regressor: Client) -> None:
    assert regressor.predict({"rows": [{**ROW, "bmi": MAX_MAGNITUDE}]}).status == 200


def test_a_model_that_fails_on_valid_input_is_422(regressor: Client) -> None:
    """A real estimator that fits and then refuses to predict (fewer training rows than neighbours)."""
    from sklearn.neighbors import KNeighborsRegressor

    frame, schema = diabetes_frame("train").head(2), regressor.service.schema
    model = KNeighborsRegressor(n_neighbors=5).fit(frame[[c.name for c in schema.columns]], frame["progression"])
    service = Service(model, schema, regressor.service.info)
    with running(service) as failing:
        answer = failing.predict({"rows": [ROW]})
    status, message = _error(answer)
    assert status == 422
    assert message.startswith("the model could not score this input: ValueError: Expected n_neighbors <= ")


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                     st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e308, -1e308, 5e-324]),
                     st.text(max_size=20))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from([*SHOP, "rows", "x"]), inner, max_size=5), max_leaves=20)
_ROW = st.fixed_dictionaries({k: st.one_of(_JSON, st.just(v)) for k, v in SHOP.items()},
                             optional={"extra": _JSON})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(_JSON, st.fixed_dictionaries({"rows": st.lists(_ROW, max_size=3)}),
                          st.integers(1, 200).map(lambda n: "[" * n + "]" * n)))
def test_random_json_bodies_are_never_a_500(classifier: Client, document: Any) -> None:
    body = document.encode() if isinstance(document, str) else json.dumps(document).encode()
    answer = classifier.request("POST", "/predict", body, {"Content-Type": "application/json"})
    assert answer.status < 500, (body[:300], answer.body)
    assert answer.status == 200 or "error" in answer.body


# --- inputs unlike the training data (mlspec.runtime.seen) ---------------------------------------------------


def test_unseen_categories_and_out_of_range_values_are_counted_per_feature(classifier: Client) -> None:
    rows = [SHOP, {**SHOP, "color": "purple"}, {**SHOP, "color": "teal", "size": 99.0}, {**SHOP, "size": -1.0},
            {**SHOP, "grade": 7}, {**SHOP, "color": None}]
    answer = classifier.predict({"rows": rows})
    assert answer.status == 200, answer.body
    assert answer.body["input_issues"] == {"unseen_categories": {"color": 2, "grade": 1}, "out_of_range": {"size": 2}}
    assert answer.body["predictions"] == _in_process(classifier, rows)  # counted, still answered


def test_a_request_like_the_training_data_has_no_issues(classifier: Client, regressor: Client) -> None:
    assert classifier.predict({"rows": [SHOP]}).body["input_issues"] == {"unseen_categories": {}, "out_of_range": {}}
    # The regressor's integer-coded category (sex: 1/2) matches 2 and 2.0 alike; 3 it never saw.
    body = regressor.predict({"rows": [ROW, {**ROW, "sex": 2.0}, {**ROW, "sex": 3}]}).body
    assert body["input_issues"] == {"unseen_categories": {"sex": 1}, "out_of_range": {}}


def test_reject_answers_422_naming_the_feature_the_value_and_what_training_saw(classifier: Client) -> None:
    service = dataclasses.replace(classifier.service, reject=frozenset({"unseen_categories"}))
    with running(service) as strict:
        answer = strict.predict({"rows": [SHOP, {**SHOP, "color": "purple", "size": 99.0}]})
        assert _error(answer) == (422, "inputs unlike the training data (unseen categories in color): color "
                                       "'purple' was never seen in training (seen: 'blue', 'green', 'red')")
        assert answer.body["error"]["details"] == [
            {"row": 1, "column": "color", "value": "purple",
             "error": "'purple' was never seen in training (seen: 'blue', 'green', 'red')"}]
        # Out of range is still only counted: each kind has its own policy.
        answer = strict.predict({"rows": [{**SHOP, "size": 99.0}]})
        assert answer.status == 200
        assert answer.body["input_issues"]["out_of_range"] == {"size": 1}
    service = dataclasses.replace(classifier.service, reject=frozenset({"out_of_range"}))
    with running(service) as strict:
        answer = strict.predict({"rows": [{**SHOP, "size": 99.0}]})
    assert _error(answer) == (422, "inputs unlike the training data (out of range in size): size 99.0 is outside "
                                   "the training range 0 to 6")


def test_a_bundle_from_before_the_record_is_served_without_counts(classifier: Client) -> None:
    schema = dataclasses.replace(classifier.service.schema, seen=None)
    old = dataclasses.replace(classifier.service, schema=schema, reject=frozenset({"unseen_categories"}))
    with running(old) as client:
        answer = client.predict({"rows": [{**SHOP, "color": "purple"}]})
    assert answer.status == 200
    assert "input_issues" not in answer.body
