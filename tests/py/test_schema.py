#!/usr/bin/python3
"""The bundled examples against schemas/banger.schema.json.

Every examples/**/*.toml must validate (files in a directory of fragments are
validated one by one: the schema covers one file, references between files
are the loader's business). A copy of each example with an unknown key put
into each of its tables, one table at a time, must not: the schema is what
editors use to flag typos, so it has to be closed at every level.

Runs standalone from any directory: python3 tests/py/test_schema.py
"""

import copy
import json
import pathlib
import tomllib
import unittest

import jsonschema

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "schemas" / "banger.schema.json"
EXAMPLES = REPO / "examples"

# Not a valid key anywhere, including vm.labels (whose keys are lowercase).
UNKNOWN_KEY = "Unknown_Key"


def load_schema():
    with SCHEMA_PATH.open("rb") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    return schema


def example_files():
    return sorted(EXAMPLES.rglob("*.toml"))


def tables(node, path=()):
    """Yields (path, table) for every table in a parsed document."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from tables(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from tables(value, path + (i,))


def table_at(doc, path):
    for step in path:
        doc = doc[step]
    return doc


class SchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.validator = jsonschema.Draft7Validator(load_schema())

    def load(self, path):
        with path.open("rb") as f:
            return tomllib.load(f)

    def test_there_are_examples(self):
        names = [p.relative_to(EXAMPLES).as_posix() for p in example_files()]
        self.assertIn("lab.toml", names)
        self.assertGreaterEqual(len(names), 3)

    def test_examples_validate(self):
        for path in example_files():
            with self.subTest(example=str(path.relative_to(REPO))):
                errors = [e.message for e in self.validator.iter_errors(self.load(path))]
                self.assertEqual(errors, [])

    def test_unknown_key_fails_at_every_table(self):
        for path in example_files():
            doc = self.load(path)
            table_paths = [p for p, _ in tables(doc)]
            self.assertGreater(len(table_paths), 1)
            for table_path in table_paths:
                label = ".".join(str(s) for s in table_path) or "(top level)"
                with self.subTest(example=str(path.relative_to(REPO)), table=label):
                    broken = copy.deepcopy(doc)
                    table_at(broken, table_path)[UNKNOWN_KEY] = "x"
                    self.assertFalse(self.validator.is_valid(broken))

    def test_known_mistakes_fail(self):
        base = {
            "kernel": [{"name": "k", "deb": "linux-image-amd64"}],
            "image": [{"name": "base", "dir": "rootfs"}],
            "vm": [{"name": "web", "image": "base", "kernel": "k"}],
        }
        self.assertTrue(self.validator.is_valid(base))
        mistakes = {
            "two image sources": ("image", {"tar": "x.tar"}),
            "no kernel source": ("kernel", {"deb": None}),
            "url without sha256": ("kernel", {"deb": None, "url": "https://h/k.tar.zst"}),
            "platform without oci": ("image", {"platform": "linux/amd64"}),
            "fractional size": ("vm", {"memory": "1.5G"}),
            "size with a space": ("vm", {"memory": "2 gigs"}),
            "bad name": ("vm", {"name": "Web"}),
            "too many vcpus": ("vm", {"vcpus": 65}),
            "bad label key": ("vm", {"labels": {"Role": "x"}}),
        }
        for what, (kind, change) in mistakes.items():
            with self.subTest(mistake=what):
                doc = copy.deepcopy(base)
                for key, value in change.items():
                    if value is None:
                        del doc[kind][0][key]
                    else:
                        doc[kind][0][key] = value
                self.assertFalse(self.validator.is_valid(doc))

    def test_guest_paths_and_modes(self):
        def file_sync(**fields):
            entry = {"name": "f", "host": "h", "guest": "~/f"}
            entry.update(fields)
            return {"file_sync": [entry]}

        for guest in ["/root/x", "~/x", "/root/a..b", "/root/.ssh/authorized_keys"]:
            self.assertTrue(self.validator.is_valid(file_sync(guest=guest)), guest)
        for guest in ["/root", "/root/", "~/", "/rootx/a", "/etc/x", "/root/../etc",
                      "~/a/..", "/root/..."]:
            self.assertFalse(self.validator.is_valid(file_sync(guest=guest)), guest)
        for mode in ["0600", "600", "0777", 0o644]:
            self.assertTrue(self.validator.is_valid(file_sync(mode=mode)), mode)
        for mode in ["0999", "01777", "1000", 600, -1, "rw"]:
            self.assertFalse(self.validator.is_valid(file_sync(mode=mode)), mode)


if __name__ == "__main__":
    unittest.main()
