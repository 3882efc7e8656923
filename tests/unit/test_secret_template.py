"""Connection Secret templates: substitution only, every problem named by its key."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from aura_operator.kinds.instance.connection_values import FIELDS, ConnectionValues, host_of
from aura_operator.kinds.instance.secret_template import (
    Placeholder,
    SecretTemplate,
    TemplateError,
    key_problem,
    merged,
    parse,
    password_key,
    placeholders,
    problems,
    render,
)

VALUES = ConnectionValues(
    uri="neo4j+s://db1d1234.databases.neo4j.io",
    instance_id="db1d1234",
    instance_name="orders",
    username="neo4j",
    password=SecretStr("s3cr3t"),
    database="neo4j",
    tenant_id="6981ace7-efe8-4f5c-b7c5-267b5162ce91",
    cloud_provider="gcp",
    region="europe-west1",
)


def template(data: dict[str, str], policy: str = "Merge") -> SecretTemplate:
    return SecretTemplate.model_validate({"data": data, "mergePolicy": policy})


def messages(t: SecretTemplate) -> list[str]:
    return [str(p) for p in problems(t)]


def test_the_spring_boot_sample_renders_the_keys_spring_reads() -> None:
    spring = template(
        {
            "SPRING_NEO4J_URI": "{{ .uri }}",
            "SPRING_NEO4J_AUTHENTICATION_USERNAME": "{{ .username }}",
            "SPRING_NEO4J_AUTHENTICATION_PASSWORD": "{{ .password }}",
        },
        "Replace",
    )
    assert problems(spring) == []
    assert render(spring, VALUES).data == {
        "SPRING_NEO4J_URI": "neo4j+s://db1d1234.databases.neo4j.io",
        "SPRING_NEO4J_AUTHENTICATION_USERNAME": "neo4j",
        "SPRING_NEO4J_AUTHENTICATION_PASSWORD": "s3cr3t",
    }


def test_the_jdbc_sample_composes_one_url_from_several_fields() -> None:
    jdbc = template(
        {
            "JDBC_URL": "jdbc:neo4j:neo4j+s://{{.host}}:7687/{{ .database }}"
            "?user={{ .username }}&password={{ .password }}"
        }
    )
    assert render(jdbc, VALUES).data == {
        "JDBC_URL": "jdbc:neo4j:neo4j+s://db1d1234.databases.neo4j.io:7687/neo4j"
        "?user=neo4j&password=s3cr3t"
    }


def test_every_documented_field_is_filled() -> None:
    every = template({f"K_{name}": f"<{{{{ .{name} }}}}>" for name in FIELDS})
    data = render(every, VALUES).data
    assert data == {
        "K_uri": "<neo4j+s://db1d1234.databases.neo4j.io>",
        "K_host": "<db1d1234.databases.neo4j.io>",
        "K_username": "<neo4j>",
        "K_password": "<s3cr3t>",
        "K_database": "<neo4j>",
        "K_instanceId": "<db1d1234>",
        "K_instanceName": "<orders>",
        "K_tenantId": "<6981ace7-efe8-4f5c-b7c5-267b5162ce91>",
        "K_cloudProvider": "<gcp>",
        "K_region": "<europe-west1>",
    }


def test_an_unknown_placeholder_names_the_key_and_the_allowed_fields() -> None:
    t = template({"GOOD": "{{ .uri }}", "BAD": "x{{ .foo }}y{{ .foo }}"})
    assert messages(t) == [
        "spec.connectionSecret.template.data[BAD]: unknown placeholder .foo; allowed: .uri, "
        ".host, .username, .password, .database, .instanceId, .instanceName, .tenantId, "
        ".cloudProvider, .region"
    ]
    assert problems(t)[0].field == "spec.connectionSecret.template.data[BAD]"


def test_a_placeholder_in_the_wrong_case_gets_a_suggestion() -> None:
    (problem,) = messages(template({"A": "{{ .URI }}"}))
    assert problem.endswith("(did you mean .uri?)")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{{ .uri ", "'{{' at character 1 has no closing '}}'"),
        ("ab{{ .uri {{ .host }}", "'{{' at character 3 has no closing '}}'"),
        ('{{ printf "%s" .uri }}', "is not a placeholder"),
        ("{{ .uri | upper }}", "is not a placeholder"),
        ('{{ env "HOME" }}', "is not a placeholder"),
        ('{{ index . "password" }}', "is not a placeholder"),
        ("{{ .uri.x }}", "is not a placeholder"),
        ("{{ uri }}", "is not a placeholder"),
        ("{{}}", "is not a placeholder"),
        ("{{- .uri -}}", "is not a placeholder"),
        ("{{ if .password }}x{{ end }}", "is not a placeholder"),
    ],
)
def test_anything_but_plain_substitution_is_malformed(text: str, fragment: str) -> None:
    (problem,) = messages(template({"KEY": text}))
    assert problem.startswith("spec.connectionSecret.template.data[KEY]: malformed template: ")
    assert fragment in problem
    with pytest.raises(TemplateError, match="data\\[KEY\\]"):
        render(template({"KEY": text}), VALUES)


def test_text_around_placeholders_is_kept_as_written_including_a_lone_close() -> None:
    assert parse('{"a":{"u":"{{ .uri }}"}}') == ('{"a":{"u":"', Placeholder("uri"), '"}}')
    assert parse("plain") == ("plain",)
    assert parse("") == ()
    assert placeholders("{{.host}}:{{ .host }}/{{ .database }}") == {"host", "database"}


@pytest.mark.parametrize(
    "key", ["NEO4J_URI", "spring.neo4j.uri", "a-b", "x" * 253, ".env", "a..b", "_"]
)
def test_keys_kubernetes_accepts(key: str) -> None:
    assert key_problem(key) is None


@pytest.mark.parametrize("key", ["", ".", "..", "..x", "a b", "a/b", "ü", "x" * 254, "a:b"])
def test_keys_kubernetes_refuses_are_named(key: str) -> None:
    (problem,) = messages(template({key: "{{ .uri }}"}))
    assert problem.startswith(f"spec.connectionSecret.template.data[{key}]: invalid key: ")


def test_all_problems_are_reported_at_once_in_key_order() -> None:
    t = template({"b b": "{{ .nope }}", "A": "{{", "C": "{{ .uri }}"})
    fields = [p.field for p in problems(t)]
    assert fields == [
        "spec.connectionSecret.template.data[A]",
        "spec.connectionSecret.template.data[b b]",
        "spec.connectionSecret.template.data[b b]",
    ]


def test_replace_with_no_keys_is_refused_merge_with_none_is_the_default_secret() -> None:
    assert messages(template({}, "Replace")) == [
        "spec.connectionSecret.template.data: mergePolicy Replace needs at least one key "
        "(the Secret would be empty)"
    ]
    assert problems(template({}, "Merge")) == []


def test_merge_policy_defaults_to_merge_and_rejects_other_values() -> None:
    assert SecretTemplate.model_validate({"data": {}}).merge_policy == "Merge"
    with pytest.raises(ValueError, match="mergePolicy"):
        SecretTemplate.model_validate({"data": {}, "mergePolicy": "Overwrite"})


def test_merge_keeps_the_default_keys_and_the_template_wins_on_a_shared_key() -> None:
    defaults = {"NEO4J_URI": "u", "NEO4J_USERNAME": "neo4j"}
    rendered = {"NEO4J_URI": "custom", "APP_URI": "u"}
    assert merged(defaults, rendered, "Merge") == {
        "NEO4J_URI": "custom",
        "NEO4J_USERNAME": "neo4j",
        "APP_URI": "u",
    }
    assert merged(defaults, rendered, "Replace") == rendered


def test_keys_needing_an_unknown_password_wait_and_the_others_are_written() -> None:
    no_password = ConnectionValues(uri="neo4j+s://x.databases.neo4j.io", instance_id="x",
                                   instance_name="n")  # fmt: skip
    t = template({"URI": "{{ .uri }}", "PW": "{{ .password }}", "JDBC": "u={{ .password }}"})
    result = render(t, no_password)
    assert result.data == {"URI": "neo4j+s://x.databases.neo4j.io"}
    assert result.waiting == ("JDBC", "PW")


def test_values_are_substituted_once_never_reinterpreted_as_templates() -> None:
    tricky = ConnectionValues(
        uri="neo4j+s://h", instance_id="i", instance_name="{{ .password }}",
        password=SecretStr("{{ .uri }}"),
    )  # fmt: skip
    t = template({"A": "{{ .instanceName }}|{{ .password }}"})
    assert render(t, tricky).data == {"A": "{{ .password }}|{{ .uri }}"}


def test_the_password_key_to_read_back_follows_the_template() -> None:
    default = "NEO4J_PASSWORD"
    assert password_key(None, default) == default
    assert password_key(template({"X": "{{ .uri }}"}), default) == default
    spring = {"SPRING_NEO4J_AUTHENTICATION_PASSWORD": "{{ .password }}"}
    assert password_key(template(spring, "Replace"), default) == (
        "SPRING_NEO4J_AUTHENTICATION_PASSWORD"
    )
    assert password_key(template({"JDBC": "p={{ .password }}"}, "Replace"), default) is None
    overridden = {default: "prefix-{{ .password }}", "PW": "{{.password}}"}
    assert password_key(template(overridden), default) == "PW"


def test_the_host_comes_from_the_uri() -> None:
    assert host_of("neo4j+s://db1d1234.databases.neo4j.io") == "db1d1234.databases.neo4j.io"
    assert host_of("bolt://localhost:7687") == "localhost"
    assert host_of("not a uri") == ""
    assert host_of("neo4j://[::1") == ""
