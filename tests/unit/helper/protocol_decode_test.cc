// The request codec: every operation decodes from good input and survives a
// round trip; bad input is rejected before anything runs, with the message
// naming the field.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "helper/protocol/codec.h"

namespace banger::helper {
namespace {

struct Good {
  const char* frame;
  const char* op;
};

const std::vector<Good> kGood = {
    {R"({"op":"ping"})", "ping"},
    {R"({"op":"ensure_bridge","name":"bg0","address":"172.30.0.1/24"})", "ensure_bridge"},
    {R"({"op":"create_tap","name":"bgt-3f2a01","bridge":"bg0"})", "create_tap"},
    {R"({"op":"open_tap","name":"bgt-3f2a01"})", "open_tap"},
    {R"({"op":"assign_tap","name":"bgt-3f2a01","vm":"web-1.lab"})", "assign_tap"},
    {R"({"op":"delete_tap","name":"bgt-3f2a01"})", "delete_tap"},
    {R"({"op":"list_taps"})", "list_taps"},
    {R"({"op":"nat_enable","address":"172.30.0.5","bridge":"bg0"})", "nat_enable"},
    {R"({"op":"nat_disable","address":"172.30.0.5"})", "nat_disable"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k/vmlinux","initrd":"",)"
     R"("drives":[{"id":"rootfs","path":"/v/web/rootfs.ext4"},{"id":"work","path":"/v/w.ext4"}]})",
     "jail_start"},
    {R"({"op":"jail_remove","vm":"web"})", "jail_remove"},
    {R"({"op":"name_set","bridge":"bg0","vm":"web","address":"172.30.0.5"})", "name_set"},
    {R"({"op":"name_remove","vm":"web"})", "name_remove"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"0.0.0.0","host_port":8080,"proto":"tcp","guest_port":80},)"
     R"({"host_address":"127.0.0.1","host_port":2222,"proto":"tcp","guest_port":22},)"
     R"({"host_address":"0.0.0.0","host_port":5353,"proto":"udp","guest_port":53}]})",
     "ports_set"},
    {R"({"op":"ports_clear","vm":"web"})", "ports_clear"},
};

TEST_CASE("every operation decodes from good input and round-trips") {
  std::vector<std::string> seen;
  for (const Good& g : kGood) {
    INFO(g.frame);
    auto request = DecodeRequest(g.frame);
    REQUIRE(request.ok());
    CHECK(std::string(OperationName(*request)) == g.op);
    auto again = DecodeRequest(EncodeRequest(*request));
    REQUIRE(again.ok());
    CHECK(EncodeRequest(*again) == EncodeRequest(*request));
    seen.push_back(g.op);
  }
  // The table covers the whole closed set.
  CHECK(seen == OperationNames());
}

TEST_CASE("decoded fields carry the values sent") {
  auto r = DecodeRequest(
      R"({"op":"jail_start","vm":"web","kernel":"/k/vmlinux","initrd":"/k/initrd.img",)"
      R"("drives":[{"id":"rootfs","path":"/v/rootfs.ext4"},{"id":"work","path":"/v/work.ext4"}]})");
  REQUIRE(r.ok());
  const auto& q = std::get<JailStartRequest>(*r);
  CHECK(q.vm == "web");
  CHECK(q.kernel == "/k/vmlinux");
  CHECK(q.initrd == "/k/initrd.img");
  REQUIRE(q.drives.size() == 2);
  CHECK(q.drives[0].id == "rootfs");
  CHECK(q.drives[0].path == "/v/rootfs.ext4");
  CHECK(q.drives[1].id == "work");
}

struct Bad {
  const char* frame;
  const char* message;  // the exact error
};

const std::vector<Bad> kBad = {
    {"not json", "request is not valid JSON"},
    {"[1,2]", "request is not a JSON object"},
    {R"({"name":"bg0"})", "request: missing field 'op'"},
    {R"({"op":7})", "request: field 'op' must be a string, not number"},
    {R"({"op":"format_disk"})", "unknown operation 'format_disk'"},
    {R"({"op":"ping","verbose":true})", "request 'ping': unknown field 'verbose'"},
    {R"({"op":"create_tap","name":"bgt-1","bridge":"bg0","colour":"red"})",
     "request 'create_tap': unknown field 'colour'"},
    {R"({"op":"create_tap","name":"bgt-1"})", "request 'create_tap': missing field 'bridge'"},
    {R"({"op":"ensure_bridge","address":"172.30.0.1/24"})",
     "request 'ensure_bridge': missing field 'name'"},
    {R"({"op":"create_tap","name":5,"bridge":"bg0"})",
     "request 'create_tap': field 'name' must be a string, not number"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"","drives":{}})",
     "request 'jail_start': field 'drives' must be an array, not object"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"","drives":["/v/r.ext4"]})",
     "request 'jail_start': field 'drives' must hold objects"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"",)"
     R"("drives":[{"id":"rootfs","path":"/v/r.ext4","ro":true}]})",
     "request 'jail_start': drive: unknown field 'ro'"},
    {R"({"op":"delete_tap","name":null})",
     "request 'delete_tap': field 'name' must be a string, not null"},
    {R"({"op":"delete_tap","name":"lo"})",
     "request 'delete_tap': field 'name': 'lo' does not start with banger's prefix 'bg'"},
    {R"({"op":"delete_tap","name":"eth0"})",
     "request 'delete_tap': field 'name': 'eth0' does not start with banger's prefix 'bg'"},
    {R"({"op":"create_tap","name":"tap0","bridge":"bg0"})",
     "request 'create_tap': field 'name': 'tap0' does not start with banger's prefix 'bg'"},
    {R"({"op":"create_tap","name":"bgt-0123456789ab","bridge":"bg0"})",
     "request 'create_tap': field 'name': 'bgt-0123456789ab' is 16 characters, longer than "
     "the 15 an interface name allows"},
    {R"({"op":"create_tap","name":"bgt-1","bridge":"bg_0"})",
     "request 'create_tap': field 'bridge': 'bg_0' contains '_'; allowed are [a-z0-9-]"},
    {R"({"op":"open_tap","name":"bgT-1"})",
     "request 'open_tap': field 'name': 'bgT-1' contains 'T'; allowed are [a-z0-9-]"},
    {R"({"op":"open_tap","name":""})", "request 'open_tap': field 'name': an interface name is empty"},
    {R"({"op":"open_tap","name":"bg0/../x"})",
     "request 'open_tap': field 'name': 'bg0/../x' contains '/'; allowed are [a-z0-9-]"},
    {R"({"op":"assign_tap","name":"bgt-1","vm":"web vm"})",
     "request 'assign_tap': field 'vm': 'web vm' contains '\\x20'; allowed are [A-Za-z0-9._-]"},
    {R"({"op":"ensure_bridge","name":"bg0","address":"172.30.0.1"})",
     "request 'ensure_bridge': field 'address': '172.30.0.1' is not in CIDR form (like "
     "172.30.0.1/24)"},
    {R"({"op":"ensure_bridge","name":"bg0","address":"172.30.0.0/24"})",
     "request 'ensure_bridge': field 'address': '172.30.0.0/24' is the network or broadcast "
     "address, not a host address"},
    {R"({"op":"ensure_bridge","name":"bg0","address":"172.30.0.1/31"})",
     "request 'ensure_bridge': field 'address': '172.30.0.1/31': prefix length must be 8..30"},
    {R"({"op":"nat_enable","address":"300.1.1.1","bridge":"bg0"})",
     "request 'nat_enable': field 'address': '300.1.1.1' is not an IPv4 address"},
    {R"({"op":"nat_disable","address":"fe80::1"})",
     "request 'nat_disable': field 'address': 'fe80::1' is not an IPv4 address"},
    {R"({"op":"jail_start","vm":"web","kernel":"vmlinux","initrd":"",)"
     R"("drives":[{"id":"rootfs","path":"/v/r.ext4"}]})",
     "request 'jail_start': field 'kernel': 'vmlinux' is not an absolute path"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"/k/../../etc/shadow",)"
     R"("drives":[{"id":"rootfs","path":"/v/r.ext4"}]})",
     "request 'jail_start': field 'initrd': '/k/../../etc/shadow' has a '..' component"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"","drives":[]})",
     "request 'jail_start': field 'drives': 0 drives; 1 to 8 are allowed"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"",)"
     R"("drives":[{"id":"../root","path":"/v/r.ext4"}]})",
     "request 'jail_start': field 'drives': '../root' contains '.'; allowed are [a-z0-9-]"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"",)"
     R"("drives":[{"id":"root","path":"/v/a"},{"id":"root","path":"/v/b"}]})",
     "request 'jail_start': field 'drives': drive 'root' appears twice"},
    {R"({"op":"jail_start","vm":"web","kernel":"/k","initrd":"",)"
     R"("drives":[{"id":"root","path":"/v//a"}]})",
     "request 'jail_start': field 'drives': '/v//a' has an empty component"},
    {R"({"op":"name_set","bridge":"bg0","vm":"web","address":"172.30.0"})",
     "request 'name_set': field 'address': '172.30.0' is not an IPv4 address"},
    {R"({"op":"name_remove","vm":"web","bridge":"bg0"})", "request 'name_remove': unknown field 'bridge'"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"0.0.0.0","host_port":0,"proto":"tcp","guest_port":80}]})",
     "request 'ports_set': field 'ports': host port 0 is not 1-65535"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"0.0.0.0","host_port":80,"proto":"tcp","guest_port":65536}]})",
     "request 'ports_set': field 'ports': guest port 65536 is not 1-65535"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"0.0.0.0","host_port":80,"proto":"sctp","guest_port":80}]})",
     "request 'ports_set': field 'ports': protocol 'sctp' is not 'tcp' or 'udp'"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"::1","host_port":80,"proto":"tcp","guest_port":80}]})",
     "request 'ports_set': field 'ports': host address: '::1' is not an IPv4 address"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"0.0.0.0","host_port":80,"proto":"tcp","guest_port":80},)"
     R"({"host_address":"127.0.0.1","host_port":80,"proto":"tcp","guest_port":81}]})",
     "request 'ports_set': field 'ports': 'tcp 127.0.0.1:80 -> 81' claims the host port of "
     "'tcp 0.0.0.0:80 -> 80'"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"0.0.0.0","host_port":80,"proto":"tcp","guest_port":80,"x":1}]})",
     "request 'ports_set': port: unknown field 'x'"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)"
     R"({"host_address":"0.0.0.0","host_port":-1,"proto":"tcp","guest_port":80}]})",
     "request 'ports_set': port: field 'host_port' must be an unsigned integer, not number"},
    {R"({"op":"ports_set","vm":"web","address":"172.30.0","ports":[]})",
     "request 'ports_set': field 'address': '172.30.0' is not an IPv4 address"},
    {R"({"op":"ports_clear","vm":"web vm"})",
     "request 'ports_clear': field 'vm': 'web vm' contains '\\x20'; allowed are [A-Za-z0-9._-]"},
    {R"({"op":"jail_remove","vm":"web/../x"})",
     "request 'jail_remove': field 'vm': 'web/../x' contains '/'; allowed are [A-Za-z0-9._-]"},
};

TEST_CASE("bad requests are rejected with a message naming the field") {
  for (const Bad& b : kBad) {
    INFO(b.frame);
    auto request = DecodeRequest(b.frame);
    REQUIRE_FALSE(request.ok());
    CHECK(request.error().message() == b.message);
  }
}

TEST_CASE("ports_set holds at most kMaxPublishedPorts ports") {
  std::string frame = R"({"op":"ports_set","vm":"web","address":"172.30.0.5","ports":[)";
  for (size_t i = 0; i <= kMaxPublishedPorts; ++i) {
    if (i) frame += ",";
    frame += R"({"host_address":"0.0.0.0","host_port":)" + std::to_string(1000 + i) +
             R"(,"proto":"tcp","guest_port":80})";
  }
  frame += "]}";
  auto request = DecodeRequest(frame);
  REQUIRE_FALSE(request.ok());
  CHECK(request.error().message() ==
        "request 'ports_set': field 'ports' holds 65 ports; at most 64 are allowed");
}

TEST_CASE("a frame over the size limit is refused before parsing") {
  std::string big = R"({"op":"ping","pad":")" + std::string(kMaxFrameSize, 'x') + "\"}";
  auto request = DecodeRequest(big);
  REQUIRE_FALSE(request.ok());
  CHECK(request.error().code() == Code::kCorruption);
}

TEST_CASE("ValidateRequest applies the same checks the decoder does") {
  CHECK(ValidateRequest(CreateTapRequest{"bgt-1", "bg0"}).ok());
  auto st = ValidateRequest(DeleteTapRequest{"eth0"});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message() ==
        "request 'delete_tap': field 'name': 'eth0' does not start with banger's prefix 'bg'");
}

}  // namespace
}  // namespace banger::helper
