#!/usr/bin/env python3
"""Drafts a JSON Schema from sample outputs: the keys present in every sample are required, a key's type is
every type seen. Used once to start docs/schemas/*.schema.json, which are then edited by hand (titles,
descriptions, enums); tests/packaging/schema_test.cc checks real outputs against the edited files.
   infer.py TITLE SAMPLE.json... > NAME.schema.json   (a .jsonl sample counts each line as one sample)"""
import json
import sys


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def infer(samples):
    types = sorted({jtype(s) for s in samples})
    if "integer" in types and "number" in types:
        types.remove("integer")
    schema = {"type": types[0] if len(types) == 1 else types}
    objs = [s for s in samples if isinstance(s, dict)]
    if objs:
        keys = sorted({k for o in objs for k in o})
        schema["properties"] = {k: infer([o[k] for o in objs if k in o]) for k in keys}
        schema["required"] = [k for k in keys if all(k in o for o in objs)]
    arrs = [s for s in samples if isinstance(s, list)]
    items = [x for a in arrs for x in a]
    if items:
        schema["items"] = infer(items)
    return schema


def main():
    title, paths = sys.argv[1], sys.argv[2:]
    samples = []
    for p in paths:
        with open(p) as f:
            if p.endswith(".jsonl"):
                samples += [json.loads(line) for line in f if line.strip()]
            else:
                samples.append(json.load(f))
    s = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title}
    s.update(infer(samples))
    print(json.dumps(s, indent=2))


main()
