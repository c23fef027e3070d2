"""Prompt versions are files: ``prompts/<name>/<version>.md``, jinja2 templates.

The version name and the SHA-256 of the template's bytes are recorded with every run, so two edits of "v2" are
told apart and a report can say exactly which prompt produced a result.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from harness.errors import ConfigError

PROMPTS_DIR = Path(__file__).parent / "prompts"
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Prompt:
    """One version of a prompt: its template source, and where it came from."""

    name: str
    """Prompt family, e.g. ``support``."""
    version: str
    """Version name, e.g. ``v2`` (the file's stem)."""
    source: str
    """The jinja2 template text."""
    sha256: str
    """SHA-256 of the template file's bytes."""
    path: Path | None = None
    """The file it was loaded from."""

    @classmethod
    def load(cls, name: str, version: str, root: Path | None = None) -> Prompt:
        """Load ``root/name/version.md`` (root: ``AGENTEVAL_PROMPTS_DIR``, else the bundled prompts); a missing
        version lists the available ones."""
        root = prompts_root(root)
        path = root / name / f"{version}.md"
        if not path.is_file():
            found = available_versions(name, root)
            hint = f"Available versions of '{name}': {', '.join(found)}." if found else f"No prompt '{name}' in {root}."
            raise ConfigError(f"Prompt version '{version}' of '{name}' not found at {path}. {hint}")
        data = path.read_bytes()
        return cls(
            name=name, version=version, source=data.decode("utf-8"), sha256=hashlib.sha256(data).hexdigest(), path=path
        )

    @classmethod
    def from_text(cls, text: str, name: str = "inline", version: str = "inline") -> Prompt:
        """A prompt given as text (tests, user agents without prompt files)."""
        return cls(name=name, version=version, source=text, sha256=hashlib.sha256(text.encode()).hexdigest())

    def render(self, variables: dict[str, Any] | None = None) -> str:
        """Render the template; a variable it uses but is not given is an error, not an empty string."""
        try:
            return _ENV.from_string(self.source).render(variables or {}).strip()
        except jinja2.UndefinedError as exc:
            raise ConfigError(
                f"Prompt {self.name}/{self.version} ({self.path or 'inline'}): {exc.message}. "
                "Pass the variable when building the agent."
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                f"Prompt {self.name}/{self.version} ({self.path or 'inline'}):{exc.lineno}: "
                f"template syntax error: {exc.message}"
            ) from None


def prompts_root(root: Path | None = None) -> Path:
    """Where prompt files are read from: ``root``, else ``AGENTEVAL_PROMPTS_DIR``, else the bundled prompts."""
    if root is not None:
        return root
    configured = os.environ.get("AGENTEVAL_PROMPTS_DIR")
    return Path(configured) if configured else PROMPTS_DIR


def available_versions(name: str, root: Path | None = None) -> list[str]:
    """Versions of a prompt, sorted naturally (v1, v2, v10)."""
    folder = prompts_root(root) / name
    if not folder.is_dir():
        return []
    stems = [p.stem for p in folder.glob("*.md")]
    return sorted(stems, key=lambda s: (len(s), s))
