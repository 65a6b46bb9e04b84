// Strict decoding: stored or saved JSON that is missing a field, has one of
// the wrong type or one this binary does not know is refused with
// kCorruption and a message naming the field.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "specs/spec_json.h"

using namespace banger;
using namespace banger::specs;
using nlohmann::json;

namespace {

// Decodes and reports only success or the error, so kinds share one table.
using Decoder = std::function<Status(const json&)>;

template <typename T>
Decoder Wrap(Result<T> (*decode)(const json&)) {
  return [decode](const json& j) -> Status {
    auto r = decode(j);
    if (!r.ok()) return std::move(r).error();
    return OkStatus();
  };
}

struct Kind {
  const char* name;
  Decoder decode;
  json full;                          // every field present
  std::vector<std::string> required;  // fields whose absence is an error
};

std::vector<Kind> Kinds() {
  return {
      {"settings", Wrap(&SettingsFromJson),
       json::parse(R"({"bridge":"bg0","subnet":"172.30.0.0/24","vmm":"auto",
                       "state_dir":"/s","kernel_catalog":"/c",
                       "image_max_size":1073741824,"image_max_files":1000})"),
       {"bridge", "subnet", "vmm"}},
      {"kernel", Wrap(&KernelFromJson),
       json::parse(R"({"name":"k","source":"path","deb":"d","path_kernel":"/k",
                       "path_initrd":"/i","path_modules":"/m","url":"u","sha256":"s",
                       "catalog":"c"})"),
       {"name", "source"}},
      {"image", Wrap(&ImageFromJson),
       json::parse(R"({"name":"i","source":"oci","oci":"r","platform":"linux/amd64",
                       "insecure":false,"dir":"/d","tar":"/t","suite":"s","mirror":"m",
                       "include":["a"],"size":1024})"),
       {"name", "source", "platform", "insecure"}},
      {"file_sync", Wrap(&FileSyncFromJson),
       json::parse(R"({"name":"f","host":"/h","guest":"~/g","mode":384})"),
       {"name", "host", "guest"}},
      {"vm", Wrap(&VmFromJson),
       json::parse(R"({"name":"web","image":"i","kernel":"k","vcpus":2,"memory":1024,
                       "disk":2048,"nat":false,"keep_work_disk":true,"file_sync":["f"],
                       "labels":{"a":"b"}})"),
       {"name", "image", "kernel", "vcpus", "memory", "disk", "nat", "keep_work_disk",
        "file_sync", "labels"}},
  };
}

void CheckRejected(const Decoder& decode, const json& j, const std::string& must_mention) {
  Status st = decode(j);
  INFO(j.dump());
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kCorruption);
  CHECK_THAT(st.error().message(), Catch::Contains(must_mention));
}

}  // namespace

TEST_CASE("the full fixtures decode") {
  for (const Kind& k : Kinds()) {
    INFO(k.name);
    CHECK(k.decode(k.full).ok());
  }
}

TEST_CASE("each required field is required, each optional one is not") {
  for (const Kind& k : Kinds()) {
    for (const auto& item : k.full.items()) {
      json j = k.full;
      j.erase(item.key());
      bool required = std::find(k.required.begin(), k.required.end(), item.key()) !=
                      k.required.end();
      INFO(k.name << "." << item.key());
      if (required) {
        CheckRejected(k.decode, j, "missing field '" + item.key() + "'");
      } else {
        CHECK(k.decode(j).ok());
      }
    }
  }
}

TEST_CASE("each field rejects a value of the wrong type, naming the field") {
  for (const Kind& k : Kinds()) {
    for (const auto& item : k.full.items()) {
      INFO(k.name << "." << item.key());
      for (const json& wrong : {json(nullptr), json(1.5), json::array({json::object()})}) {
        json j = k.full;
        j[item.key()] = wrong;
        CheckRejected(k.decode, j, "field '" + item.key() + "'");
      }
    }
  }
}

TEST_CASE("unknown fields are refused by name") {
  for (const Kind& k : Kinds()) {
    json j = k.full;
    j["colour"] = "blue";
    INFO(k.name);
    CheckRejected(k.decode, j, "unknown field 'colour'");
  }
}

TEST_CASE("messages name the object once its name is known") {
  json vm = Kinds()[4].full;
  vm["vcpus"] = "two";
  Status st = Wrap(&VmFromJson)(vm);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() == "vm 'web': field 'vcpus': expected an integer, got string");
}

TEST_CASE("numbers are range checked") {
  json vm = Kinds()[4].full;
  vm["memory"] = -1;
  CheckRejected(Wrap(&VmFromJson), vm, "field 'memory': expected a non-negative integer");
  vm = Kinds()[4].full;
  vm["vcpus"] = int64_t{1} << 40;
  CheckRejected(Wrap(&VmFromJson), vm, "field 'vcpus'");

  json fs = Kinds()[3].full;
  fs["mode"] = uint64_t{1} << 32;
  CheckRejected(Wrap(&FileSyncFromJson), fs, "field 'mode'");
  fs["mode"] = -1;
  CheckRejected(Wrap(&FileSyncFromJson), fs, "field 'mode'");
}

TEST_CASE("container elements are type checked") {
  json vm = Kinds()[4].full;
  vm["file_sync"] = json::array({"ok", 3});
  CheckRejected(Wrap(&VmFromJson), vm, "field 'file_sync'");
  vm = Kinds()[4].full;
  vm["labels"] = json::object({{"a", 1}});
  CheckRejected(Wrap(&VmFromJson), vm, "field 'labels'");
  json image = Kinds()[2].full;
  image["include"] = "openssh-server";
  CheckRejected(Wrap(&ImageFromJson), image, "field 'include'");
}

TEST_CASE("unknown enum values list the accepted ones") {
  json kernel = Kinds()[1].full;
  kernel["source"] = "git";
  CheckRejected(Wrap(&KernelFromJson), kernel,
                "field 'source': unknown value 'git' (expected one of deb, path, url, catalog)");
  json image = Kinds()[2].full;
  image["source"] = "docker";
  CheckRejected(Wrap(&ImageFromJson), image, "unknown value 'docker'");
}

TEST_CASE("non-objects are refused") {
  for (const Kind& k : Kinds()) {
    INFO(k.name);
    CheckRejected(k.decode, json::array(), "expected an object, got array");
    CheckRejected(k.decode, json("web"), "expected an object, got string");
  }
}

TEST_CASE("desired state errors point into the nested list") {
  json d = ToJson(DesiredState{});
  json bad_vm = Kinds()[4].full;
  bad_vm.erase("kernel");
  d["vms"] = json::array({Kinds()[4].full, bad_vm});
  d["vms"][0]["name"] = "ok";
  CheckRejected(Wrap(&DesiredFromJson), d, "vms[1]: vm 'web': missing field 'kernel'");

  json missing = ToJson(DesiredState{});
  missing.erase("images");
  CheckRejected(Wrap(&DesiredFromJson), missing, "missing field 'images'");

  json extra = ToJson(DesiredState{});
  extra["plans"] = json::array();
  CheckRejected(Wrap(&DesiredFromJson), extra, "unknown field 'plans'");

  json bad_settings = ToJson(DesiredState{});
  bad_settings["settings"].erase("vmm");
  CheckRejected(Wrap(&DesiredFromJson), bad_settings, "settings: missing field 'vmm'");
}
