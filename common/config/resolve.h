// Fallback lookups, as Momentum's `config eval`: the most specific setting of an option for a
// scope path, with where it came from, else the schema default.
//   outbound: binding_group::binding::host > binding::host > binding_group::host > host >
//             binding_group::binding::domain > binding::domain > binding_group::domain >
//             binding > binding_group > global domain > global
//   inbound:  peer (most specific CIDR holding the client IP, inside the Listen first) >
//             listen > listener > pathway_group::pathway > pathway > pathway_group > global
// Exact Domain/Host names (any case) win over "/regex/" ones, tried in file order. Several
// stanzas of the same scope at one level merge; the last setting wins. Pure functions over an
// immutable Config; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "common/config/schema.h"
#include "common/config/tree.h"

namespace ec::config {

struct ScopePath {
  // Outbound.
  std::string binding_group;  // found from `binding` when empty
  std::string binding;
  std::string domain;
  std::string host;
  // Inbound. `listener` defaults to esmtp_listener when listen or peer is set.
  std::string listener;
  std::string listen;   // the Listen scope's name as written, e.g. "*:25"
  std::string peer;     // the client IP address
  std::string pathway;  // else the `pathway` option found on the peer/listen/listener
  std::string pathway_group;

  bool inbound() const;
  bool outbound() const;
  // "binding_group \"g\" binding \"b\" domain \"d\"" style, for messages.
  std::string ToString() const;
};

struct Resolved {
  std::string option;  // lower-case
  Value value;
  Location location;  // of the setting, or "<default>"
  bool from_default = false;
  std::string scope;  // where it was set ("binding \"b\" > domain \"d\"", "global", "default")
  const OptionSpec* spec = nullptr;
};

// Fails with kInvalidArgument for an unknown option or a path mixing inbound and outbound,
// kNotFound when the option is unset everywhere and has no default.
Result<Resolved> Eval(const Config& config, const SchemaRegistry& schema, const ScopePath& path,
                      std::string_view option);

// Every option that may be set in the path's innermost scope, resolved (unset options without
// a default are left out). Sorted by name.
std::vector<Resolved> EvalAll(const Config& config, const SchemaRegistry& schema,
                              const ScopePath& path);

// Typed shortcuts: Eval, then convert; a conversion error names the setting's location.
Result<bool> EvalBool(const Config& c, const ScopePath& p, std::string_view option,
                      const SchemaRegistry& schema = DefaultSchema());
Result<int64_t> EvalInt(const Config& c, const ScopePath& p, std::string_view option,
                        const SchemaRegistry& schema = DefaultSchema());
Result<double> EvalSeconds(const Config& c, const ScopePath& p, std::string_view option,
                           const SchemaRegistry& schema = DefaultSchema());
Result<int64_t> EvalBytes(const Config& c, const ScopePath& p, std::string_view option,
                          const SchemaRegistry& schema = DefaultSchema());
Result<std::string> EvalString(const Config& c, const ScopePath& p, std::string_view option,
                               const SchemaRegistry& schema = DefaultSchema());
Result<std::vector<std::string>> EvalList(const Config& c, const ScopePath& p,
                                          std::string_view option,
                                          const SchemaRegistry& schema = DefaultSchema());

// For an Eval* result: stores the value in *out, or leaves *out alone when the option is unset
// everywhere and has no default (NotFound is not an error); other errors pass through.
template <typename T>
Status Optional(Result<T> r, T* out) {
  if (r.ok()) {
    *out = std::move(r).value();
    return Status::Ok();
  }
  if (r.status().code() == StatusCode::kNotFound) return Status::Ok();
  return r.status();
}

}  // namespace ec::config
