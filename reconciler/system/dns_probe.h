// Whether a DNS server answers: one UDP query, any well-formed answer with
// the query's id (NXDOMAIN included) counts. Used by `system status` for
// the resolver the helper runs on each bridge.
#pragma once

#include <chrono>
#include <string>

#include "reconciler/base/error.h"

namespace banger::system {

// Asks `server`:53 (IPv4) for the A record of `name`; returns the answer's
// RCODE (0 NOERROR, 3 NXDOMAIN, ...). kTimeout when nothing answers within
// `timeout`, kIo when the query cannot be sent.
Result<int> ProbeDns(const std::string& server, const std::string& name,
                     std::chrono::milliseconds timeout);

}  // namespace banger::system
