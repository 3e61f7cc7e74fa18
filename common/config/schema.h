// Option and scope schemas: what may be written where, with which type, default and range.
// The registry is built once (DefaultSchema(), from the options/*.cc files by topic) and is
// immutable afterwards, so every thread may read it. An option name may have several specs
// when it means different things in different scopes (file_mode on a listener vs. in Logs).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/config/value.h"

namespace ec::config {

enum class OptionType {
  kBool,
  kInt,      // enum_values, when set, are words accepted besides integers ("auto", "none")
  kBytes,    // integer, optional K/M/G suffix
  kSeconds,  // non-negative number of seconds
  kString,
  kPath,
  kEnum,      // one of enum_values (case-insensitive)
  kList,      // ( a b c ) of single values
  kCidrList,  // ( "10.0.0.0/8" "::1" ) addresses or CIDR blocks
  kDict,      // [ k = v ]
  kRate,      // "N" or "N/secs"
  kOctal,     // file mode 0640
};
std::string_view OptionTypeName(OptionType type);

// Whether our code acts on an option yet. Accepted options parse and validate so Momentum
// configs load, but change nothing.
enum class Support { kImplemented, kPlanned, kAccepted };
std::string_view SupportName(Support support);

struct OptionSpec {
  std::string name;  // lower-case
  OptionType type = OptionType::kString;
  std::string default_text;         // in config syntax ("32", "( a b )"); empty = no default
  std::vector<std::string> scopes;  // scope types where it may be set ("global", "domain", ...)
  bool reloadable = true;           // false: takes effect only after a restart
  std::optional<int64_t> min;       // for kInt, kBytes, kSeconds
  std::optional<int64_t> max;
  std::vector<std::string> enum_values;
  // Enum values accepted for Momentum's configurations but not acted on by an option that is
  // otherwise implemented: --check-config warns when one is set.
  std::vector<std::string> values_not_acted_on;
  std::string doc;  // one line
  Support support = Support::kAccepted;

  std::optional<Value> default_value;  // parsed from default_text by the registry
};

enum class ScopeNaming { kSingleton, kNamed, kOptionalName };

struct ScopeSpec {
  std::string name;  // lower-case type
  ScopeNaming naming = ScopeNaming::kSingleton;
  std::vector<std::string> parents;  // scope types it may appear in
  // Two of it with the same name (or two singletons) in one parent are an error; otherwise the
  // stanzas merge (Binding_Group, Domain).
  bool unique = true;
  std::string doc;
};

class SchemaRegistry {
 public:
  // Aborts on a malformed spec (bad default, unknown scope): specs are code, not input.
  void AddOption(OptionSpec spec);
  void AddScope(ScopeSpec spec);
  // Checks every option names known scopes; call once after the last Add.
  void Finalize();

  const ScopeSpec* FindScope(std::string_view type) const;
  // Every spec named `name` (lower-case), over all scopes.
  std::vector<const OptionSpec*> FindOptions(std::string_view name) const;
  // The spec that applies to `name` in scope type `scope`, or nullptr.
  const OptionSpec* FindOption(std::string_view name, std::string_view scope) const;
  std::vector<const OptionSpec*> OptionsForScope(std::string_view scope) const;

  const std::vector<OptionSpec>& options() const { return options_; }
  const std::vector<ScopeSpec>& scopes() const { return scopes_; }
  std::vector<std::string> OptionNames() const;
  std::vector<std::string> ScopeNames() const;

 private:
  std::vector<OptionSpec> options_;
  std::vector<ScopeSpec> scopes_;
  std::multimap<std::string, size_t, std::less<>> option_index_;
};

// Checks `value` against the spec's type, range and enum. The message names what was expected.
Status CheckValue(const OptionSpec& spec, const Value& value);

// The project's schema: every option and scope declared in common/config/options/.
const SchemaRegistry& DefaultSchema();

// Scope sets used by many options (momentum-options.md's macros).
namespace scope_sets {
extern const std::vector<std::string> kOut;      // binding, binding_group, domain, global
extern const std::vector<std::string> kOutHost;  // kOut + host
extern const std::vector<std::string> kIn;       // esmtp_listener, listen, pathway(_group), peer
extern const std::vector<std::string> kInG;      // kIn + global
extern const std::vector<std::string> kPw;       // global, pathway, pathway_group
extern const std::vector<std::string> kLsn;      // every listener + listen
extern const std::vector<std::string> kTlsl;     // inbound TLS scopes
extern const std::vector<std::string> kAuth;     // listeners + pathways that authenticate
extern const std::vector<std::string> kModules;  // module instance scopes
}  // namespace scope_sets

// Registration functions, one per topic file under options/.
void RegisterScopes(SchemaRegistry* r);
void RegisterNodeOptions(SchemaRegistry* r);
void RegisterListenerOptions(SchemaRegistry* r);
void RegisterOutboundOptions(SchemaRegistry* r);
void RegisterClusterOptions(SchemaRegistry* r);
void RegisterLoggingOptions(SchemaRegistry* r);

}  // namespace ec::config
