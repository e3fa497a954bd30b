"""Invariants of the whole bus, checked over every declared subject, stream and consumer."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from contracts.envelope import Meta
from contracts.ids import TOKEN_PATTERN, InvalidToken, is_token, validate_token
from contracts.model import ContractModel
from contracts.registry import CONSUMERS, STREAMS, SUBJECTS, models
from contracts.streams import patterns_overlap, stream_for, subject_matches
from contracts.subject import Kind, Subject, command, event, rpc

GRAMMAR = re.compile(
    r"^[a-z][a-z0-9_]*\.v[1-9][0-9]*\.(cmd|evt|rpc)\.[a-z][a-z0-9_]*(\.\*)*\.[a-z][a-z0-9_]*$"
)


def test_each_subject_is_defined_once() -> None:
    wildcards = [s.wildcard for s in SUBJECTS]
    assert len(wildcards) == len(set(wildcards))
    for a in SUBJECTS:
        for b in SUBJECTS:
            if a is not b:
                assert not patterns_overlap(a.wildcard, b.wildcard), (a, b)


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s.template)
def test_subject_names_follow_the_grammar(subject: Subject[Any, Any]) -> None:
    assert GRAMMAR.fullmatch(subject.wildcard), subject.wildcard


@pytest.mark.parametrize(
    "subject", [s for s in SUBJECTS if s.kind.uses_jetstream], ids=lambda s: s.template
)
def test_every_jetstream_subject_is_captured_by_exactly_one_stream(
    subject: Subject[Any, Any],
) -> None:
    stream_for(subject, STREAMS)  # raises unless exactly one


@pytest.mark.parametrize(
    "subject", [s for s in SUBJECTS if s.kind is Kind.RPC], ids=lambda s: s.template
)
def test_no_stream_captures_a_request_subject(subject: Subject[Any, Any]) -> None:
    # A stream capturing a request would answer it with a PubAck instead of the service.
    for stream in STREAMS:
        assert not any(patterns_overlap(p, subject.wildcard) for p in stream.subjects), stream.name


def test_streams_are_uniquely_named_and_never_overlap() -> None:
    assert len({s.name for s in STREAMS}) == len(STREAMS)
    for a in STREAMS:
        for b in STREAMS:
            if a is not b:
                for pa in a.subjects:
                    for pb in b.subjects:
                        assert not patterns_overlap(pa, pb), (a.name, b.name)


def test_consumers_read_from_the_stream_that_holds_their_subject() -> None:
    assert len({c.durable for c in CONSUMERS}) == len(CONSUMERS)
    for consumer in CONSUMERS:
        assert stream_for(consumer.subject, STREAMS) is consumer.stream
        assert consumer.max_deliver > len(consumer.backoff) or consumer.backoff


def test_consumer_filters_lie_in_their_stream_and_never_overlap() -> None:
    # The server refuses overlapping filter subjects, and a filter outside the stream matches
    # nothing.
    for consumer in CONSUMERS:
        filters = consumer.filter_subjects
        for f in filters:
            assert any(patterns_overlap(p, f) for p in consumer.stream.subjects), f
        for i, a in enumerate(filters):
            for b in filters[i + 1 :]:
                assert not patterns_overlap(a, b), (consumer.durable, a, b)


def _field_is_token(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation if name in model.model_fields else None
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        # An enum's values are fixed in the contract: each must be a safe token itself.
        return all(is_token(member.value) for member in annotation)
    schema = model.model_json_schema()
    field = schema.get("properties", {}).get(name)
    if field is None:
        return False
    options = field.get("anyOf", [field])
    return all(o.get("pattern") == TOKEN_PATTERN or o.get("type") == "null" for o in options)


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s.template)
def test_every_token_comes_from_a_validated_id(subject: Subject[Any, Any]) -> None:
    for token in subject.tokens:
        if token in subject.payload.model_fields:
            assert _field_is_token(subject.payload, token), f"{subject}: {token} not validated"
        else:
            assert token in Meta.model_fields, f"{subject}: nothing supplies {token}"
            assert _field_is_token(Meta, token)


@pytest.mark.parametrize("name", list(models()), ids=str)
def test_models_are_frozen_and_versioned(name: str) -> None:
    model = models()[name]
    assert issubclass(model, ContractModel)
    assert model.model_config.get("frozen") is True
    payloads = {s.payload for s in SUBJECTS} | {s.reply for s in SUBJECTS if s.reply}
    if model in payloads:
        assert re.search(r"V[0-9]+$", name), f"{name} must carry its version in its name"


class _SampleV1(ContractModel):
    org_id: str | None = None
    item_id: str


def test_a_subject_renders_only_from_validated_tokens() -> None:
    subject = event("sample", "item", "changed", _SampleV1, tokens=("org_id", "item_id"))
    assert subject.template == "sample.v1.evt.item.{org_id}.{item_id}.changed"
    assert subject.wildcard == "sample.v1.evt.item.*.*.changed"
    assert subject.filter(org_id="acme") == "sample.v1.evt.item.acme.*.changed"
    assert subject.render(_SampleV1(org_id="acme", item_id="i-1")) == (
        "sample.v1.evt.item.acme.i-1.changed"
    )
    assert subject.parse("sample.v1.evt.item.acme.i-1.changed") == {
        "org_id": "acme",
        "item_id": "i-1",
    }
    assert subject.parse("sample.v1.evt.item.acme.changed") is None
    for hostile in ("acme.>", "*", "a b", "acme.evil", ">", ""):
        with pytest.raises(InvalidToken):
            subject.render(_SampleV1(org_id=hostile, item_id="i-1"))
        with pytest.raises(InvalidToken):
            subject.filter(org_id=hostile)


def test_subject_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="org_id"):
        event("sample", "item", "changed", _SampleV1, tokens=("item_id",))
    with pytest.raises(ValueError, match="reply"):
        Subject("sample", 1, Kind.RPC, "item", "get", _SampleV1, None)
    with pytest.raises(ValueError, match="lowercase"):
        command("Sample", "item", "create", _SampleV1)
    with pytest.raises(ValueError, match="lowercase"):
        command("sample", "item.x", "create", _SampleV1)
    assert rpc("sample", "item", "get", _SampleV1, _SampleV1).kind is Kind.RPC


@given(st.text(min_size=1, max_size=40).filter(lambda t: any(c in t for c in ".*> \t\n")))
def test_no_string_with_wildcards_dots_or_whitespace_is_a_token(value: str) -> None:
    with pytest.raises(InvalidToken):
        validate_token(value)


@given(st.from_regex(r"\A[A-Za-z0-9_-]{1,128}\Z"))
def test_safe_ids_are_tokens(value: str) -> None:
    assert validate_token(value) == value


def test_meta_rejects_unsafe_ids() -> None:
    with pytest.raises(ValidationError):
        Meta.model_validate(
            {
                "message_id": "m.1",
                "type": "X",
                "actor": {"kind": "system", "id": "x"},
                "call_id": "c",
                "root_call_id": "c",
            }
        )


@pytest.mark.parametrize(
    ("pattern", "subject", "match"),
    [
        ("a.*.c", "a.b.c", True),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("a.*", "a.b.c", False),
        ("a.b", "a.b", True),
    ],
)
def test_wildcard_matching(pattern: str, subject: str, match: bool) -> None:
    assert subject_matches(pattern, subject) is match


def test_ids_are_unique_across_threads_and_time_ordered() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from contracts.ids import new_id

    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(2000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids)
    sequential = [new_id() for _ in range(100)]
    assert [i[:13] for i in sequential] == sorted(i[:13] for i in sequential)
    assert all(i[14] == "7" for i in sequential)  # version 7
