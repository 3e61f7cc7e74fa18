// The parsed configuration tree: a root Scope ("global") holding options and nested scopes, each
// node with its Location and read-only flag. Built once by the loader (loader.h), then frozen:
// daemons keep a std::shared_ptr<const Config> snapshot and swap it on reload, so readers on any
// thread never see a change.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/location.h"
#include "common/config/value.h"

namespace ec::config {

struct Option {
  std::string name;      // lower-cased
  std::string spelling;  // as written, for messages
  Value value;
  Location location;
  bool read_only = false;  // came from readonly_include or a file included twice
};

struct Scope {
  std::string type = "global";  // lower-cased scope type ("domain", "esmtp_listener", ...)
  std::string spelling = "global";
  std::optional<std::string> name;  // Domain "example.com" -> example.com; none for singletons
  Location location;
  bool read_only = false;
  std::vector<Option> options;  // in file order
  std::vector<Scope> children;  // in file order

  // The last option `name` (lower-case) set directly in this scope, or nullptr.
  const Option* FindOption(std::string_view name) const;
  // Children of `type` (lower-case), optionally with exactly `name` (case-sensitive), in order.
  std::vector<const Scope*> Children(std::string_view type) const;
  std::vector<const Scope*> Children(std::string_view type, std::string_view name) const;
  // `Domain "example.com"` / `ESMTP_Listener` / `global`, as the operator wrote it.
  std::string Label() const;
};

struct Config {
  Scope root;
  // Every file read, in the order first opened (the main file first).
  std::vector<std::string> files;
};

}  // namespace ec::config
