#!/usr/bin/env python3
"""Vendor the schemas of Discord's OpenAPI description that the emulator's
responses are checked against (tests/it/openapi.rs), with everything they refer
to. Run from the repository root with the path of openapi.json:

    python3 crates/discord-emulator/tests/openapi/vendor.py ../shared/discord-api-spec/openapi.json
"""
import json
import os
import sys

ROOTS = [
    "MessageResponse", "GuildChannelResponse", "ThreadResponse", "UserPIIResponse",
    "GuildSearchResponse", "SearchIndexNotReadyResponse", "RatelimitedResponse",
    "ErrorResponse",
]


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for v in node.values():
            refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def main(path):
    spec = json.load(open(path))
    schemas = spec["components"]["schemas"]
    todo, keep = list(ROOTS), {}
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = schemas[name]
        found = set()
        refs(schemas[name], found)
        todo.extend(found - keep.keys())
    out = {
        "source": "discord-api-spec openapi.json, API version " + spec["info"]["version"]
        + " (MIT licensed; see LICENSE in this folder)",
        "components": {"schemas": dict(sorted(keep.items()))},
    }
    here = os.path.dirname(os.path.abspath(__file__))
    json.dump(out, open(os.path.join(here, "discord-schemas.json"), "w"), indent=1, sort_keys=False)
    print(f"{len(keep)} schemas")


if __name__ == "__main__":
    main(sys.argv[1])
