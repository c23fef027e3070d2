from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.replay import CassetteError, Scrubber, is_placeholder, load_cassette, mask, save_cassette, scan_cassettes
from harness.replay._scan import scan_text
from tests.unit.replay.factories import (
    ALL_CASSETTES,
    CREWAI,
    FIXTURES,
    OPENLLMETRY,
    PYDANTIC_AI,
    PlantedSecrets,
    gzip_secret_cassette,
)

# Which vendored files leak what, read off the files by hand: the four older pydantic-ai cassettes carry
# `openai-organization` and Cloudflare cookies, openllmetry's carries the organization, a `proj_` project id and
# cookies; crewAI's uses placeholders only, the newer pydantic-ai stream has no secret headers at all.
LEAKS = {
    "openllmetry/test_agent_with_function_tool_spans.yaml": {"organization", "project", "cookie"},
    "pydantic-ai/test_openai_instructions_with_tool_calls_keep_instructions.yaml": {"organization", "cookie"},
    "pydantic-ai/test_openai_native_output.yaml": {"organization", "cookie"},
    "pydantic-ai/test_openai_text_output_function.yaml": {"organization", "cookie"},
    "pydantic-ai/test_openai_tool_output.yaml": {"organization", "cookie"},
}


def test_finds_exactly_the_known_leaks() -> None:
    findings = scan_cassettes([FIXTURES])
    found: dict[str, set[str]] = {}
    for finding in findings:
        found.setdefault(str(Path(finding.path).relative_to(FIXTURES)), set()).add(finding.kind)
    assert found == LEAKS


def test_lines_and_masked_excerpts() -> None:
    findings = scan_cassettes([PYDANTIC_AI / "test_openai_native_output.yaml"])
    text = (PYDANTIC_AI / "test_openai_native_output.yaml").read_text().splitlines()
    assert [(f.line, f.kind) for f in findings] == [
        (63, "organization"),
        (122, "cookie"),
        (123, "cookie"),
        (183, "organization"),
    ]
    assert text[62].strip() == "- fixture-0rg7q2x"
    assert text[121].strip().startswith("- __cf_bm=SYNTHETICfixture69KA")
    assert findings[0].excerpt == "openai-organization: fi…2x (15 chars)"
    assert findings[1].excerpt == "cookie: __cf_bm=SYNT…Dq (170 chars)"
    assert findings[2].excerpt == "_cfuvid=SYNT…yO (75 chars)"


def test_never_prints_a_whole_secret() -> None:
    findings = scan_cassettes([FIXTURES])
    assert len(findings) == 12 + 4 * 4  # openllmetry: 6 cookie lines, 3 org, 3 project; pydantic-ai: 4 each
    for finding in findings:
        # Every excerpt carries exactly one masked value, and at most 6 characters of it.
        assert finding.excerpt.count("…") == 1, finding
        kept = finding.excerpt.split(": ")[-1].split("=")[-1].split(" (")[0].replace("…", "")
        assert len(kept) <= 6, finding


def test_project_ids_are_found_in_the_response_headers() -> None:
    findings = [f for f in scan_cassettes([OPENLLMETRY]) if f.kind == "project"]
    assert [f.line for f in findings] == [87, 160, 259]
    assert all(f.excerpt == "openai-project: proj…AO (29 chars)" for f in findings)


def test_placeholders_are_not_findings() -> None:
    assert scan_cassettes([CREWAI]) == []  # AUTHORIZATION-XXX, SET-COOKIE-XXX, OPENAI-ORG-XXX, OPENAI-PROJECT-XXX
    text = (
        "interactions:\n- request:\n    body: 'sk-...XXXX Bearer <redacted> sk-<redacted> ***'\n"
        "    headers:\n      authorization: ['Bearer <redacted>']\n      api-key: ['***']\n"
        "      cookie: ['__cf_bm=<redacted>; _cfuvid=COOKIE-XXX']\n"
        "      openai-organization: [org-XXXXXXXXXXXXXXXXXXXX]\n"
    )
    assert scan_text(text, "placeholders.yaml") == []


def test_a_half_scrubbed_cookie_header_is_a_finding() -> None:
    text = "headers:\n  cookie: ['__cf_bm=<redacted>; session_token=a8Fq2LmZ0pXw']\n  set-cookie: ['X=XXX; path=/']\n"
    (finding,) = scan_text(text, "half.yaml")
    assert (finding.line, finding.kind, finding.excerpt) == (2, "cookie", "cookie: session_token=a8…Xw (12 chars)")


@pytest.mark.parametrize(
    "value", ["AUTHORIZATION-XXX", "Bearer <redacted>", "sk-...XXXX", "***", "OPENAI-PROJECT-XXX", "sk-0000000000000"]
)
def test_is_placeholder(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["fixture-0rg7q2x", "fixtureco", "proj_SYNTHETICfixture9ARvzYAO", "Basic dXNlcjpw"])
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_mask_keeps_a_secret_unusable() -> None:
    assert mask("sk-proj-abcdefghijklmnopqrstuvwxyz") == "sk-p…yz (34 chars)"
    assert mask("short") == "s… (5 chars)"


def test_every_kind_in_planted_headers_and_bodies() -> None:
    secrets = PlantedSecrets()
    text = (
        'interactions:\n- request:\n    body: \'{"k": "' + secrets.other_key + '", "o": "' + secrets.org_id + "\"}'\n"
        "    headers:\n"
        f"      Authorization: ['Bearer {secrets.bearer}']\n"
        f"      x-api-key: ['{secrets.x_api_key}']\n"
        "      Proxy-Authorization: ['Basic dXNlcjpwYXNzd29yZA==']\n"
        f"      OpenAI-Organization: ['{secrets.org_slug}']\n"
        f"      set-cookie: ['_cfuvid={secrets.cfuvid}; path=/']\n"
        "    uri: https://x/v1?key=" + secrets.google_key + "\n"
    )
    kinds = {(f.line, f.kind) for f in scan_text(text, "planted.yaml")}
    assert kinds == {
        (3, "api_key"),
        (3, "organization"),
        (5, "bearer_token"),
        (6, "api_key"),
        (7, "credential"),
        (8, "organization"),
        (9, "cookie"),
        (10, "api_key"),
    }


def test_secrets_inside_gzip_bodies_are_found() -> None:
    secrets = PlantedSecrets()
    text = gzip_secret_cassette(secrets)
    assert secrets.api_key not in text  # invisible to a plain text search
    (finding,) = scan_text(text, "gzip.yaml")
    assert finding.kind == "api_key"
    assert finding.line == 11  # the `string: !!binary |` line where the body starts
    assert finding.excerpt == "in gzip body: sk-proj…Aj (53 chars)"


def test_a_scrubbed_copy_is_clean(tmp_path: Path) -> None:
    scrubber = Scrubber()
    for source in ALL_CASSETTES:
        target = tmp_path / source.relative_to(FIXTURES)
        save_cassette(scrubber.scrub_cassette(load_cassette(source)), target)
    gzip_file = tmp_path / "gzip.yaml"
    gzip_file.write_text(gzip_secret_cassette(PlantedSecrets()))
    assert scan_cassettes([gzip_file]) != []
    save_cassette(scrubber.scrub_cassette(load_cassette(gzip_file)), gzip_file)
    assert scan_cassettes([tmp_path]) == []


def test_directories_are_searched_and_bad_paths_are_errors(tmp_path: Path) -> None:
    shutil.copy(CREWAI, tmp_path / "a.yml")
    (tmp_path / "notes.txt").write_text("sk-proj-" + "a1" * 20)
    assert scan_cassettes([tmp_path]) == []  # only *.yaml / *.yml are cassettes
    with pytest.raises(CassetteError, match="nope: no such file"):
        scan_cassettes([tmp_path / "nope"])
    (tmp_path / "bad.yaml").write_text("interactions: [\n")
    with pytest.raises(CassetteError, match=r"bad.yaml:2: .*cannot be scanned|bad.yaml:2:"):
        scan_cassettes([tmp_path])
