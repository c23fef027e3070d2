"""Vendored real cassettes and synthetic interactions with planted secrets."""

from __future__ import annotations

import base64
import gzip
import json
import random
import string
from pathlib import Path

from harness.replay import Interaction, RecordedRequest, RecordedResponse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cassettes"
PYDANTIC_AI = FIXTURES / "pydantic-ai"
OPENLLMETRY = FIXTURES / "openllmetry" / "test_agent_with_function_tool_spans.yaml"
CREWAI = FIXTURES / "crewai" / "test_openai_responses_api_streaming.yaml"
ALL_CASSETTES = sorted(FIXTURES.rglob("*.yaml"))

_ALNUM = string.ascii_letters + string.digits


def token(rng: random.Random, length: int, alphabet: str = _ALNUM) -> str:
    """A random, real-looking secret value."""
    return "".join(rng.choice(alphabet) for _ in range(length))


class PlantedSecrets:
    """Fake but real-looking secrets, one of each kind the scrubber must remove."""

    def __init__(self, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.api_key = "sk-proj-" + token(rng, 48)
        self.other_key = "sk-" + token(rng, 32)
        self.google_key = "AIza" + token(rng, 35)
        self.x_api_key = token(rng, 40)
        self.org_id = "org-" + token(rng, 24)
        self.org_slug = "acme-" + token(rng, 6).lower()
        self.project_id = "proj_" + token(rng, 24)
        self.cf_bm = token(rng, 43) + "-1744810635-1.0.1.1-" + token(rng, 60)
        self.cfuvid = token(rng, 40) + "-1744810635187-0.0.1.1-604800000"
        self.bearer = token(rng, 40)
        self.request_id = "req_" + token(rng, 32).lower()

    def values(self) -> list[str]:
        """Every secret value (the strings that must not survive scrubbing)."""
        return [
            self.api_key,
            self.other_key,
            self.google_key,
            self.x_api_key,
            self.org_id,
            self.org_slug,
            self.project_id,
            self.cf_bm,
            self.cfuvid,
            self.bearer,
        ]


def secret_interaction(secrets: PlantedSecrets) -> Interaction:
    """A chat call with a secret in every place one hides: request and response headers, URL, both bodies."""
    request_json = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": f"Use key {secrets.other_key} and org {secrets.org_id}."},
            {"role": "user", "content": f"Authorization: Bearer {secrets.bearer} project {secrets.project_id}"},
        ],
    }
    request_body = json.dumps(request_json).encode()
    response_json = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": f"cookie __cf_bm={secrets.cf_bm}"}}],
        "echo": secrets.api_key,
    }
    response_body = json.dumps(response_json).encode()
    return Interaction(
        request=RecordedRequest(
            method="POST",
            uri=f"https://api.openai.com/v1/chat/completions?key={secrets.google_key}",
            headers={
                "Authorization": [f"Bearer {secrets.api_key}"],
                "OpenAI-Organization": [secrets.org_id],
                "OpenAI-Project": [secrets.project_id],
                "x-api-key": [secrets.x_api_key],
                "Cookie": [f"__cf_bm={secrets.cf_bm}; _cfuvid={secrets.cfuvid}"],
                "content-type": ["application/json"],
                "content-length": [str(len(request_body))],
            },
            body=request_body,
            json=request_json,
        ),
        response=RecordedResponse(
            status=200,
            headers={
                "openai-organization": [secrets.org_slug],
                "openai-project": [secrets.project_id],
                "set-cookie": [f"__cf_bm={secrets.cf_bm}; path=/; HttpOnly", f"_cfuvid={secrets.cfuvid}; path=/"],
                "x-request-id": [secrets.request_id],
                "content-type": ["application/json"],
                "content-length": [str(len(response_body))],
            },
            body=response_body,
            json=response_json,
            message="OK",
        ),
    )


def gzip_secret_cassette(secrets: PlantedSecrets) -> str:
    """Cassette text whose only secret hides in a gzip ``!!binary`` response body (as openllmetry records them)."""
    body = gzip.compress(json.dumps({"object": "response", "output": [], "leak": secrets.api_key}).encode())
    encoded = base64.encodebytes(body).decode().replace("\n", "\n        ")
    return f"""interactions:
- request:
    body: '{{"model":"gpt-4.1","input":"hi"}}'
    headers:
      content-type:
      - application/json
    method: POST
    uri: https://api.openai.com/v1/responses
  response:
    body:
      string: !!binary |
        {encoded.rstrip()}
    headers:
      Content-Encoding:
      - gzip
      Content-Type:
      - application/json
    status:
      code: 200
      message: OK
version: 1
"""
