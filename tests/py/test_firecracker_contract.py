#!/usr/bin/python3
"""The Firecracker contract (schemas/firecracker-api-contract.json).

The contract is the project's statement of the Firecracker API the driver is
held to; the API double serves it and nothing else. Checked here:
- it is well formed: body schemas are JSON Schema, closed at every level (as
  Firecracker's decoding is), ids in paths name the body field they repeat,
  every phase and fault it names exists;
- the double and a JSON Schema validator agree on what it accepts;
- every request the driver can send is covered: the driver's sources
  (reconciler/vmm/firecracker/) are read for the requests they build, written
  as {"METHOD", "/path", body} with "action_type" values for /actions, and
  each must be an endpoint of the contract marked sent_by_driver (and each so
  marked must be sent). A method literal the scan cannot pair with a path
  fails too, so a request built some other way cannot slip past;
- with FC_API_SPEC naming Firecracker's Swagger description, the contract
  agrees with it: each endpoint and method exists there, body fields,
  required fields, types, enums and bounds are the same, the documented
  answers exist and "Pre-boot only"/"Post-boot only" match the phase.
  Without FC_API_SPEC that check is skipped (and says so); the comparison
  itself is still exercised against a description made from the contract.

Runs standalone from any directory: python3 tests/py/test_firecracker_contract.py
"""

import copy
import json
import os
import pathlib
import re
import sys
import unittest

import jsonschema
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
CONTRACT_PATH = REPO / "schemas" / "firecracker-api-contract.json"
DRIVER_DIR = REPO / "reconciler" / "vmm" / "firecracker"
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "firecracker"))
import fc_double  # noqa: E402

PHASES = {"pre_boot", "post_boot", "any"}
METHOD_RE = re.compile(r'"(GET|PUT|PATCH|POST|DELETE|HEAD)"')
REQUEST_RE = re.compile(r'"(GET|PUT|PATCH|POST|DELETE|HEAD)"\s*,\s*"(/[^"]*)"')
ACTION_RE = re.compile(r'"action_type"\s*,\s*"(\w+)"')
LEXEME_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|//[^\n]*|/\*.*?\*/', re.S)


def load_contract():
    with CONTRACT_PATH.open() as f:
        return json.load(f)


def template_regex(template):
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"[^/]+", template) + "$")


def endpoint_for(contract, method, path_literal):
    """The contract endpoint a request literal reaches. A literal ending in
    '/' is completed at run time ("/drives/" + id), so one segment stands in
    for the rest."""
    path = path_literal + "id" if path_literal.endswith("/") and path_literal != "/" else path_literal
    for ep in contract["endpoints"]:
        if ep["method"] == method and template_regex(ep["path"]).match(path):
            return ep
    return None


def strip_comments(text):
    """C++ source with comments blanked (line breaks kept), strings intact."""
    def blank(m):
        s = m.group(0)
        return s if s.startswith('"') else re.sub(r"[^\n]", " ", s)
    return LEXEME_RE.sub(blank, text)


def scan_requests(sources):
    """(requests, actions, problems) from {name: C++ source text}."""
    requests, actions, problems = set(), set(), []
    for name, text in sources.items():
        text = strip_comments(text)
        paired = {m.start() for m in REQUEST_RE.finditer(text)}
        for m in REQUEST_RE.finditer(text):
            requests.add((m.group(1), m.group(2), name))
        for m in METHOD_RE.finditer(text):
            if m.start() not in paired:
                line = text.count("\n", 0, m.start()) + 1
                problems.append("%s:%d: method %s without a path literal next to it; write "
                                "requests as {\"METHOD\", \"/path\", body}" % (name, line, m.group(1)))
        for m in ACTION_RE.finditer(text):
            actions.add((m.group(1), name))
    return requests, actions, problems


def coverage_problems(contract, sources):
    """What the driver's sources send that the contract does not cover, and
    what the contract says the driver sends but it does not."""
    requests, actions, problems = scan_requests(sources)
    used = set()
    for method, path, name in sorted(requests):
        ep = endpoint_for(contract, method, path)
        if ep is None:
            problems.append("%s: %s %s is not in the contract" % (name, method, path))
        elif not ep.get("sent_by_driver"):
            problems.append("%s: %s %s is in the contract but not marked sent_by_driver"
                            % (name, method, path))
        else:
            used.add((ep["method"], ep["path"]))
    actions_ep = next((ep for ep in contract["endpoints"]
                       if ep["path"] == "/actions" and ep["method"] == "PUT"), None)
    allowed = set()
    if actions_ep:
        allowed = set(contract["definitions"]["instance_action"]["properties"]
                      ["action_type"]["enum"])
    for action, name in sorted(actions):
        if action not in allowed:
            problems.append("%s: action %s is not in the contract" % (name, action))
    for ep in contract["endpoints"]:
        if ep.get("sent_by_driver") and (ep["method"], ep["path"]) not in used:
            problems.append("contract: %s %s is marked sent_by_driver but the driver never "
                            "builds it" % (ep["method"], ep["path"]))
    return problems


def driver_sources():
    return {p.relative_to(REPO).as_posix(): p.read_text()
            for p in sorted(DRIVER_DIR.iterdir()) if p.suffix in (".cc", ".h")}


# --- The contract against a Swagger 2.0 description -----------------------

def resolve(doc, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = doc["definitions"][schema["$ref"].split("/")[-1]]
    return schema


def kind(schema):
    return schema.get("type", "object" if "properties" in schema else None)


def compare_schema(contract, ours, swagger, theirs, where, problems):
    a, b = resolve(contract, ours), resolve(swagger, theirs)
    if kind(a) != kind(b):
        problems.append("%s: type %s here, %s in Firecracker's" % (where, kind(a), kind(b)))
        return
    if set(a.get("enum", [])) != set(b.get("enum", [])):
        problems.append("%s: enum %s here, %s in Firecracker's"
                        % (where, sorted(a.get("enum", [])), sorted(b.get("enum", []))))
    for bound in ("minimum", "maximum"):
        if a.get(bound) != b.get(bound):
            problems.append("%s: %s %s here, %s in Firecracker's"
                            % (where, bound, a.get(bound), b.get(bound)))
    if kind(a) == "object":
        if set(a.get("required", [])) != set(b.get("required", [])):
            problems.append("%s: required %s here, %s in Firecracker's"
                            % (where, sorted(a.get("required", [])), sorted(b.get("required", []))))
        pa, pb = a.get("properties", {}), b.get("properties", {})
        for name in sorted(set(pa) - set(pb)):
            problems.append("%s.%s: not a field in Firecracker's" % (where, name))
        for name in sorted(set(pb) - set(pa)):
            problems.append("%s.%s: a field in Firecracker's, missing here" % (where, name))
        for name in sorted(set(pa) & set(pb)):
            compare_schema(contract, pa[name], swagger, pb[name], "%s.%s" % (where, name), problems)
    if kind(a) == "array":
        compare_schema(contract, a.get("items", {}), swagger, b.get("items", {}),
                       where + "[]", problems)


def swagger_phase(op):
    summary = op.get("summary", "") + " " + op.get("description", "")
    if "Pre-boot only" in summary:
        return "pre_boot"
    if "Post-boot only" in summary:
        return "post_boot"
    return None


def compare_with_swagger(contract, swagger):
    problems = []
    for ep in contract["endpoints"]:
        what = "%s %s" % (ep["method"], ep["path"])
        op = swagger.get("paths", {}).get(ep["path"], {}).get(ep["method"].lower())
        if op is None:
            problems.append("%s: not in Firecracker's API" % what)
            continue
        stated = swagger_phase(op)
        if stated and ep.get("phase") != stated:
            problems.append("%s: phase %s here, %s in Firecracker's"
                            % (what, ep.get("phase", "by action"), stated))
        codes = {str(c) for c in op.get("responses", {})}
        for code in ep.get("responses", {}):
            if code not in codes:
                problems.append("%s: answer %s is not documented in Firecracker's" % (what, code))
        body = [p for p in op.get("parameters", []) if p.get("in") == "body"]
        if body and "body" not in ep:
            problems.append("%s: Firecracker's takes a body, the contract none" % what)
        elif "body" in ep and not body:
            problems.append("%s: the contract has a body, Firecracker's none" % what)
        elif body:
            compare_schema(contract, ep["body"], swagger, body[0]["schema"], what + " body",
                           problems)
        if "response_body" in ep:
            ok = op.get("responses", {}).get(200) or op.get("responses", {}).get("200") or {}
            compare_schema(contract, ep["response_body"], swagger, ok.get("schema", {}),
                           what + " answer", problems)
    theirs = swagger.get("definitions", {}).get("Error")
    if theirs is None:
        problems.append("Firecracker's describes no Error body")
    else:
        compare_schema(contract, contract["faults"]["body"], swagger, theirs, "fault body",
                       problems)
    return problems


def swagger_from_contract(contract):
    """A Swagger-shaped description saying what the contract says, to show
    the comparison finds each kind of disagreement."""
    doc = {"definitions": copy.deepcopy(contract["definitions"]), "paths": {}}
    doc["definitions"]["Error"] = copy.deepcopy(resolve(contract, contract["faults"]["body"]))
    for ep in contract["endpoints"]:
        op = {"summary": {"pre_boot": "Pre-boot only.", "post_boot": "Post-boot only."}
              .get(ep.get("phase"), ""),
              "responses": {(int(c) if c.isdigit() else c): {} for c in ep["responses"]}}
        if "body" in ep:
            op["parameters"] = [{"in": "body", "required": True, "schema": ep["body"]}]
        if "response_body" in ep:
            op["responses"][200] = {"schema": ep["response_body"]}
        doc["paths"].setdefault(ep["path"], {})[ep["method"].lower()] = op
    return doc


def minimal_body(contract, schema):
    """The smallest value a schema accepts (required fields only)."""
    schema = resolve(contract, schema)
    if "enum" in schema:
        return schema["enum"][0]
    t = kind(schema)
    if t == "object":
        return {name: minimal_body(contract, schema["properties"][name])
                for name in schema.get("required", [])}
    if t == "integer":
        return schema.get("minimum", 1)
    if t == "boolean":
        return True
    if t == "array":
        return []
    return "x"


class ContractForm(unittest.TestCase):
    def setUp(self):
        self.contract = load_contract()

    def schema_of(self, body):
        return dict(body, definitions=self.contract["definitions"])

    def test_body_schemas_are_json_schema_and_closed(self):
        for name, schema in self.contract["definitions"].items():
            jsonschema.Draft7Validator.check_schema(self.schema_of(schema))
            if schema.get("type") == "object":
                self.assertIs(schema.get("additionalProperties"), False,
                              "%s must refuse unknown fields, as Firecracker does" % name)
            for ref in re.findall(r'"\$ref": "#/definitions/(\w+)"', json.dumps(schema)):
                self.assertIn(ref, self.contract["definitions"], name)

    def test_endpoints_name_their_phase_ids_and_answers(self):
        faults = self.contract["faults"]["messages"]
        seen = set()
        for ep in self.contract["endpoints"]:
            what = "%s %s" % (ep["method"], ep["path"])
            self.assertNotIn(what, seen)
            seen.add(what)
            if "phase_by_field" in ep:
                by = ep["phase_by_field"]
                field = resolve(self.contract, ep["body"])["properties"][by["field"]]
                self.assertEqual(set(by["phases"]), set(field["enum"]), what)
                self.assertLessEqual(set(by["phases"].values()), PHASES, what)
            else:
                self.assertIn(ep["phase"], PHASES, what)
            params = set(re.findall(r"\{(\w+)\}", ep["path"]))
            self.assertEqual(params, set(ep.get("path_params", {})), what)
            for rule in ep.get("path_params", {}).values():
                self.assertIn(rule["body_field"],
                              resolve(self.contract, ep["body"])["properties"], what)
            for need in ep.get("requires", {}).values():
                self.assertIn(need["fault"], faults, what)
                for path in need["endpoints"]:
                    self.assertTrue(any(e["path"] == path for e in self.contract["endpoints"]))
            success = "200" if ep["method"] == "GET" else "204"
            self.assertIn(success, ep["responses"], what)
            if "body" in ep:
                self.assertIn("400", ep["responses"], what)
        self.assertIn("/actions", {ep["path"] for ep in self.contract["endpoints"]})

    def test_the_double_and_json_schema_agree(self):
        double = fc_double.Contract(str(CONTRACT_PATH))
        for ep in self.contract["endpoints"]:
            if "body" not in ep:
                continue
            schema = self.schema_of(resolve(self.contract, ep["body"]))
            good = minimal_body(self.contract, ep["body"])
            jsonschema.validate(good, schema)
            double.validate(good, ep["body"], "body")
            bad = dict(good, not_a_field=1)
            with self.assertRaises(jsonschema.ValidationError):
                jsonschema.validate(bad, schema)
            with self.assertRaises(fc_double.Fault):
                double.validate(bad, ep["body"], "body")
            for field in schema.get("required", []):
                short = {k: v for k, v in good.items() if k != field}
                with self.assertRaises(jsonschema.ValidationError):
                    jsonschema.validate(short, schema)
                with self.assertRaisesRegex(fc_double.Fault, "missing field `%s`" % field):
                    double.validate(short, ep["body"], "body")


class DriverCoverage(unittest.TestCase):
    def setUp(self):
        self.contract = load_contract()

    def test_every_request_the_driver_builds_is_in_the_contract(self):
        sources = driver_sources()
        self.assertIn("reconciler/vmm/firecracker/api_requests.cc", sources)
        requests, actions, _ = scan_requests(sources)
        # What the driver is known to send, so the scan cannot quietly see nothing.
        self.assertLessEqual({("PUT", "/machine-config"), ("PUT", "/boot-source"),
                              ("PUT", "/drives/"), ("PUT", "/network-interfaces/"),
                              ("PUT", "/vsock"), ("PUT", "/actions"), ("PATCH", "/vm"),
                              ("PUT", "/snapshot/create"), ("PUT", "/snapshot/load"),
                              ("PATCH", "/drives/")},
                             {(m, p) for m, p, _ in requests})
        self.assertEqual({"InstanceStart", "SendCtrlAltDel"}, {a for a, _ in actions})
        self.assertEqual([], coverage_problems(self.contract, sources))

    def test_a_request_outside_the_contract_is_found(self):
        sources = driver_sources()
        sources["new.cc"] = ('ApiRequest Snap() { return {"PUT", "/balloon", json{}}; }\n'
                             'ApiRequest Pause() { return {"PATCH", "/machine-config", json{}}; }\n'
                             'ApiRequest Flush() { return {"PUT", "/actions", '
                             'json{{"action_type", "Reboot"}}}; }\n'
                             'ApiRequest Odd() { ApiRequest r; r.method = "PATCH"; return r; }\n')
        problems = coverage_problems(self.contract, sources)
        self.assertIn("new.cc: PUT /balloon is not in the contract", problems)
        self.assertIn("new.cc: PATCH /machine-config is not in the contract", problems)
        self.assertIn("new.cc: action Reboot is not in the contract", problems)
        self.assertTrue(any(p.startswith("new.cc:4: method PATCH without a path") for p in problems),
                        problems)
        self.assertIn("new.cc: GET / is in the contract but not marked sent_by_driver",
                      coverage_problems(self.contract, {"new.cc": '{"GET", "/", nullptr}'}))

    def test_a_stale_contract_entry_is_found(self):
        sources = {k: v for k, v in driver_sources().items()}
        for name in sources:
            sources[name] = sources[name].replace('"/vsock"', '"/vsock-gone"')
        problems = coverage_problems(self.contract, sources)
        self.assertIn("contract: PUT /vsock is marked sent_by_driver but the driver never builds it",
                      problems)


class AgainstFirecrackerSwagger(unittest.TestCase):
    def setUp(self):
        self.contract = load_contract()

    def test_the_comparison_finds_each_disagreement(self):
        swagger = swagger_from_contract(self.contract)
        self.assertEqual([], compare_with_swagger(self.contract, swagger))
        changed = copy.deepcopy(swagger)
        defs = changed["definitions"]
        defs["machine_config"]["properties"]["vcpu_count"]["type"] = "string"
        defs["drive"]["required"].append("path_on_host")
        defs["instance_action"]["properties"]["action_type"]["enum"].append("Reboot")
        defs["vsock"]["properties"]["guest_cid"]["minimum"] = 2
        defs["network_interface"]["properties"]["new_field"] = {"type": "string"}
        del changed["paths"]["/boot-source"]
        changed["paths"]["/vsock"]["put"]["summary"] = "Post-boot only."
        del changed["paths"]["/drives/{drive_id}"]["put"]["responses"][400]
        problems = compare_with_swagger(self.contract, changed)
        for expected in (
                "PUT /machine-config body.vcpu_count: type integer here, string in Firecracker's",
                "PUT /drives/{drive_id} body: required ['drive_id', 'is_root_device'] here, "
                "['drive_id', 'is_root_device', 'path_on_host'] in Firecracker's",
                "PUT /actions body.action_type: enum ['FlushMetrics', 'InstanceStart', "
                "'SendCtrlAltDel'] here, ['FlushMetrics', 'InstanceStart', 'Reboot', "
                "'SendCtrlAltDel'] in Firecracker's",
                "PUT /vsock body.guest_cid: minimum 3 here, 2 in Firecracker's",
                "PUT /network-interfaces/{iface_id} body.new_field: a field in Firecracker's, "
                "missing here",
                "PUT /boot-source: not in Firecracker's API",
                "PUT /vsock: phase pre_boot here, post_boot in Firecracker's",
                "PUT /drives/{drive_id}: answer 400 is not documented in Firecracker's"):
            self.assertIn(expected, problems)
        self.assertEqual(8, len(problems), problems)

    def test_agrees_with_FC_API_SPEC(self):
        path = os.environ.get("FC_API_SPEC")
        if not path:
            self.skipTest("FC_API_SPEC is not set: the contract was not compared with "
                          "Firecracker's Swagger description")
        with open(path) as f:
            swagger = yaml.safe_load(f)
        self.assertIn("paths", swagger, "%s is not a Swagger description" % path)
        version = swagger.get("info", {}).get("version")
        if version != self.contract["firecracker_api_version"]:
            print("note: %s describes Firecracker API %s, the contract was written from %s"
                  % (path, version, self.contract["firecracker_api_version"]), file=sys.stderr)
        self.assertEqual([], compare_with_swagger(self.contract, swagger))


if __name__ == "__main__":
    unittest.main()
