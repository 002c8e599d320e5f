"""Reads a synthesized cloud assembly and resolves CloudFormation intrinsics the way a deployment
would, given the physical ids of what the simulator created.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class StackTemplate:
    name: str
    template: dict[str, Any]
    assets: dict[str, Path]  # asset hash -> directory

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]  # type: ignore[no-any-return]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def asset_zip(self, s3_key: str) -> bytes:
        directory = self.assets[s3_key.removesuffix(".zip")]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for root, _, files in os.walk(directory):
                for file in sorted(files):
                    path = Path(root) / file
                    archive.write(path, path.relative_to(directory).as_posix())
        return buffer.getvalue()


def load_stack(outdir: Path, stack_name: str) -> StackTemplate:
    template = json.loads((outdir / f"{stack_name}.template.json").read_text())
    manifest = json.loads((outdir / f"{stack_name}.assets.json").read_text())
    assets = {
        asset_hash: outdir / entry["source"]["path"]
        for asset_hash, entry in manifest["files"].items()
        if entry["source"].get("packaging") == "zip"
    }
    return StackTemplate(name=stack_name, template=template, assets=assets)


@dataclass
class Resolver:
    """Physical values: ``refs`` for Ref, ``attributes`` for Fn::GetAtt, ``parameters`` for the
    template's parameters (already resolved, e.g. from SSM)."""

    region: str
    account: str
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)  # export name -> value, for Fn::ImportValue

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "simulated",
        }

    def ref(self, name: str) -> str:
        if name in self.pseudo():
            return self.pseudo()[name]
        return self.refs.get(name, f"sim-{name}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        return self.attributes.get(
            (logical_id, attribute),
            f"arn:aws:simulated:{self.region}:{self.account}:{logical_id}/{attribute}",
        )

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                return self.get_att(value[0], value[1])
            if key == "Fn::ImportValue":
                return self.exports[self.resolve(value)]
            if key == "Fn::Join":
                return value[0].join(str(self.resolve(part)) for part in value[1])
            if key == "Fn::Split":
                return str(self.resolve(value[1])).split(value[0])
            if key == "Fn::Select":
                return self.resolve(value[1])[int(value[0])]
            if key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
        return {key: self.resolve(value) for key, value in node.items()}

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            end = text.index("}", start)
            out.append(text[i:start])
            name = text[start + 2 : end]
            if name in variables:
                out.append(str(variables[name]))
            elif "." in name:
                logical_id, attribute = name.split(".", 1)
                out.append(self.get_att(logical_id, attribute))
            else:
                out.append(self.ref(name))
            i = end + 1
        return "".join(out)
