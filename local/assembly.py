"""Read a synthesized cloud assembly (cdk.out): its stacks, in dependency order, and their templates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackArtifact:
    name: str
    template: dict[str, Any]
    dependencies: tuple[str, ...]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r.get("Type") == resource_type}


class CloudAssembly:
    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        manifest = json.loads((self.directory / "manifest.json").read_text())
        stacks: dict[str, StackArtifact] = {}
        for name, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            template_file = self.directory / artifact["properties"]["templateFile"]
            stacks[name] = StackArtifact(
                name=name,
                template=json.loads(template_file.read_text()),
                dependencies=tuple(artifact.get("dependencies", ())),
            )
        self._stacks = stacks

    @property
    def stacks(self) -> list[StackArtifact]:
        """Stacks ordered so that every stack comes after the stacks it depends on."""
        ordered: list[StackArtifact] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen or name not in self._stacks:
                return
            seen.add(name)
            for dependency in self._stacks[name].dependencies:
                visit(dependency)
            ordered.append(self._stacks[name])

        for name in sorted(self._stacks):
            visit(name)
        return ordered

    def stack(self, name: str) -> StackArtifact:
        return self._stacks[name]

    def asset_path(self, resource: dict[str, Any]) -> Path | None:
        """The directory of a resource's file asset (CDK records it in the resource's metadata)."""
        path = resource.get("Metadata", {}).get("aws:asset:path")
        return (self.directory / path).resolve() if path else None
