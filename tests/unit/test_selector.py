"""Label selectors parse as the API server parses them and match labels the same way."""

from __future__ import annotations

import pytest

from aura_operator.runtime.selector import (
    Requirement,
    Selector,
    SelectorError,
    label_selector,
    matches,
    parse,
    watch_query,
)


def test_every_form_parses_into_requirements_sorted_by_key() -> None:
    selector = parse("shard in (b, a),!x , y,env!=prod,tier==web,team=,n>3,m<10,z notin (q)")
    assert selector.requirements == (
        Requirement("env", "!=", ("prod",)),
        Requirement("m", "<", ("10",)),
        Requirement("n", ">", ("3",)),
        Requirement("shard", "in", ("a", "b")),
        Requirement("team", "=", ("",)),
        Requirement("tier", "=", ("web",)),
        Requirement("x", "!"),
        Requirement("y", "exists"),
        Requirement("z", "notin", ("q",)),
    )


def test_the_canonical_string_is_what_the_api_server_would_print() -> None:
    selector = parse("shard in (b,a), !x, env!=prod, y, tier==web, n>3")
    assert label_selector(selector) == "env!=prod,n>3,shard in (a,b),tier=web,!x,y"
    assert parse(label_selector(selector)) == selector


def test_the_watch_query_is_url_encoded_and_empty_for_everything() -> None:
    assert watch_query(parse("shard=a")) == "labelSelector=shard%3Da"
    assert watch_query(parse("shard in (a,b)")) == "labelSelector=shard%20in%20%28a%2Cb%29"
    assert watch_query(parse("")) == ""
    assert watch_query(parse("   ")) == ""


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("shard=a", {"shard": "a"}, True),
        ("shard=a", {"shard": "b"}, False),
        ("shard=a", {}, False),
        ("shard==a", {"shard": "a"}, True),
        ("shard in (a,b)", {"shard": "b"}, True),
        ("shard in (a,b)", {"shard": "c"}, False),
        ("shard in (a,b)", {}, False),
        ("shard notin (a,b)", {"shard": "c"}, True),
        ("shard notin (a,b)", {}, True),
        ("shard notin (a,b)", {"shard": "a"}, False),
        ("env!=prod", {}, True),
        ("env!=prod", {"env": "dev"}, True),
        ("env!=prod", {"env": "prod"}, False),
        ("x", {"x": ""}, True),
        ("x", {"y": "1"}, False),
        ("!x", {"y": "1"}, True),
        ("!x", {"x": ""}, False),
        ("team=", {"team": ""}, True),
        ("team=", {"team": "a"}, False),
        ("n>3", {"n": "4"}, True),
        ("n>3", {"n": "3"}, False),
        ("n>3", {"n": "four"}, False),
        ("n>3", {}, False),
        ("n<3", {"n": "-1"}, True),
        ("shard=a,env!=prod", {"shard": "a", "env": "dev"}, True),
        ("shard=a,env!=prod", {"shard": "a", "env": "prod"}, False),
        ("x,x!=a", {"x": "b"}, True),
        ("x,x!=a", {"x": "a"}, False),
        ("example.com/shard=a", {"example.com/shard": "a"}, True),
        ("", {"anything": "at all"}, True),
    ],
)
def test_matching(text: str, labels: dict[str, str], expected: bool) -> None:
    assert matches(parse(text), labels) is expected


def test_an_object_without_labels_is_matched_as_having_none() -> None:
    assert matches(parse("!shard"), None)
    assert not matches(parse("shard"), None)
    assert Selector().everything


def test_empty_values_in_a_set_are_read_as_kubernetes_reads_them() -> None:
    assert parse("x in (a,)").requirements[0].values == ("", "a")
    assert parse("x in (,a)").requirements[0].values == ("", "a")
    assert parse("x in (a,,b)").requirements[0].values == ("", "a", "b")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("shard in (a", "expected ',' or ')' at character 12, found the end"),
        ("shard in ()", "expected at least one value"),
        ("shard in a", "expected '(' at character 10, found 'a'"),
        ("shard in (a b)", "expected ',' or ')' at character 13, found 'b'"),
        ("shard=a,", "expected a label key at character 9, found the end"),
        ("shard=a b", "expected ',' or the end at character 9, found 'b'"),
        ("shard a", "expected an operator (=, ==, !=, in, notin, >, <), ',' or the end"),
        ("=a", "expected a label key at character 1, found '='"),
        ("!", "expected a label key at character 2, found the end"),
        ("!x=a", "expected ',' or the end at character 3, found '='"),
        ("n>x", "expected an integer at character 3, found 'x'"),
        ("shard=(a)", "expected a value at character 7, found '('"),
        ("-shard=a", "key '-shard' at character 1 is not valid"),
        ("Example.com/shard=a", "key 'Example.com/shard' at character 1 is not valid"),
        ("/shard=a", "key '/shard' at character 1 is not valid"),
        ("x" * 64 + "=a", "is not valid"),
        ("shard=a/b", "value 'a/b' at character 7 is not valid"),
        ("shard in (a,-b)", "value '-b' at character 13 is not valid"),
        ("shard=" + "v" * 64, "is not valid"),
    ],
)
def test_errors_say_where_and_what_was_expected(text: str, problem: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith(f"label selector {text!r}: ")
    assert problem in message


def test_a_syntax_error_lists_the_forms() -> None:
    with pytest.raises(SelectorError, match=r"key in \(v1,v2\), key notin \(v1,v2\)"):
        parse("shard in")


def test_two_disjoint_shards_split_objects_and_leave_the_unlabelled_alone() -> None:
    a, b = parse("shard=a"), parse("shard in (b)")
    objects = [{"shard": "a"}, {"shard": "b"}, {"shard": "c"}, {}]
    assert [(matches(a, o), matches(b, o)) for o in objects] == [
        (True, False),
        (False, True),
        (False, False),
        (False, False),
    ]
