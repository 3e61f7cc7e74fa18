#include "common/config/validate.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/net/cidr.h"
#include "common/config/name_regex.h"
#include "common/config/text_util.h"

namespace ec::config {

namespace {

class Validator {
 public:
  Validator(const SchemaRegistry& schema, Diagnostics* diags)
      : schema_(schema),
        diags_(diags),
        option_names_(schema.OptionNames()),
        scope_names_(schema.ScopeNames()) {}

  void Scope(const config::Scope& s) {
    CheckOptions(s);
    std::map<std::pair<std::string, std::string>, const config::Scope*> seen;
    for (const config::Scope& c : s.children) {
      const ScopeSpec* spec = schema_.FindScope(c.type);
      if (!spec) {
        UnknownScope(c);
        continue;
      }
      if (std::find(spec->parents.begin(), spec->parents.end(), s.type) == spec->parents.end()) {
        Error(c.location, "scope " + c.Label() + " is not allowed in " + s.Label() +
                              "; allowed in: " + Join(spec->parents));
      }
      CheckName(c, *spec);
      if (spec->unique) {
        auto key = std::make_pair(c.type, c.name.value_or(""));
        if (c.type == "domain" || c.type == "host") key.second = ToLower(key.second);
        auto [it, inserted] = seen.emplace(key, &c);
        if (!inserted) {
          Error(c.location, "duplicate " + c.Label() + " in " + s.Label() + " (first at " +
                                it->second->location.ToString() + ")");
        }
      }
      Scope(c);
    }
  }

 private:
  void Error(const Location& loc, std::string message) {
    diags_->push_back(Diagnostic{Severity::kError, loc, std::move(message)});
  }
  void Warning(const Location& loc, std::string message) {
    diags_->push_back(Diagnostic{Severity::kWarning, loc, std::move(message)});
  }
  static std::string Join(const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
  }
  static std::string Suggest(const std::string& closest) {
    return closest.empty() ? "" : " (did you mean '" + closest + "'?)";
  }

  void CheckOptions(const config::Scope& s) {
    std::map<std::string, const Option*> first;
    for (const Option& o : s.options) {
      auto [it, inserted] = first.emplace(o.name, &o);
      if (!inserted) {
        Warning(o.location, "option '" + o.spelling + "' is set again in " + s.Label() +
                                " (first at " + it->second->location.ToString() +
                                "); the last setting wins");
      }
      const OptionSpec* spec = schema_.FindOption(o.name, s.type);
      if (!spec) {
        std::vector<const OptionSpec*> all = schema_.FindOptions(o.name);
        if (all.empty()) {
          if (schema_.FindScope(o.name)) {
            Error(o.location, "'" + o.spelling + "' is a scope, not an option: write " +
                                  o.spelling + " { ... } or " + o.spelling + " \"name\" { ... }");
          } else {
            Error(o.location, "unknown option '" + o.spelling + "'" +
                                  Suggest(ClosestMatch(o.name, option_names_)));
          }
        } else {
          std::set<std::string> allowed;
          for (const OptionSpec* a : all) allowed.insert(a->scopes.begin(), a->scopes.end());
          Error(o.location, "option '" + o.spelling + "' is not allowed in " + s.Label() +
                                "; allowed in: " + Join({allowed.begin(), allowed.end()}));
        }
        continue;
      }
      // A bad value is reported alone: the warning below follows once it is fixed.
      if (CheckValueOf(o, *spec)) NotActedOn(o, *spec);
    }
  }

  // Reports a bad value; true when the value is good.
  bool CheckValueOf(const Option& o, const OptionSpec& spec) {
    // List elements are checked one by one so each bad one is reported where it is.
    if (o.value.is_list() && spec.type == OptionType::kCidrList) {
      bool good = true;
      for (const Value& item : o.value.items()) {
        Status st = item.is_scalar()
                        ? net::Cidr::Parse(item.text()).status()
                        : InvalidArgument("expected an address, found " + item.Describe());
        if (st.ok()) continue;
        Error(item.location(), "option '" + o.spelling + "': " + st.message());
        good = false;
      }
      return good;
    }
    Status st = CheckValue(spec, o.value);
    if (st.ok()) return true;
    Error(o.value.location(), "option '" + o.spelling + "' (" +
                                  std::string(OptionTypeName(spec.type)) + "): " + st.message());
    return false;
  }

  // An operator must not believe a setting is in force when our code ignores it.
  void NotActedOn(const Option& o, const OptionSpec& spec) {
    if (spec.support != Support::kImplemented) {
      Warning(o.location, "option '" + o.spelling +
                              "' is accepted but not acted on yet (docs/config-reference.md: " +
                              std::string(SupportName(spec.support)) + ")");
      return;
    }
    if (spec.values_not_acted_on.empty() || !o.value.is_scalar()) return;
    const std::string value = ToLower(o.value.text());
    for (const std::string& v : spec.values_not_acted_on) {
      if (v != value) continue;
      Warning(o.value.location(), "option '" + o.spelling + "': value '" + o.value.text() +
                                      "' is accepted but not acted on yet "
                                      "(docs/config-reference.md)");
    }
  }

  void UnknownScope(const config::Scope& c) {
    if (!schema_.FindOptions(c.type).empty()) {
      Error(c.location,
            "'" + c.spelling + "' is an option, not a scope: write " + c.spelling + " = value");
      return;
    }
    Error(c.location,
          "unknown scope '" + c.spelling + "'" + Suggest(ClosestMatch(c.type, scope_names_)));
  }

  void CheckName(const config::Scope& c, const ScopeSpec& spec) {
    if (spec.naming == ScopeNaming::kNamed && !c.name) {
      Error(c.location,
            "scope " + c.spelling + " needs a name: " + c.spelling + " \"name\" { ... }");
      return;
    }
    if (spec.naming == ScopeNaming::kSingleton && c.name) {
      Error(c.location, "scope " + c.spelling + " takes no name: write " + c.spelling + " { ... }");
      return;
    }
    if (!c.name) return;
    const std::string& name = *c.name;
    if (name.empty()) {
      Error(c.location, "scope " + c.spelling + " has an empty name");
      return;
    }
    if (c.type == "peer") {
      auto cidr = net::Cidr::Parse(name);
      if (!cidr.ok()) Error(c.location, "scope " + c.Label() + ": " + cidr.status().message());
    }
    if ((c.type == "domain" || c.type == "host") && IsRegexName(name)) {
      auto re = CompileNameRegex(name);
      if (!re.ok()) Error(c.location, "scope " + c.Label() + ": " + re.status().message());
    }
    if (c.type == "binding" && name.find_first_of(" \t:") != std::string::npos) {
      Error(c.location, "scope " + c.Label() + ": binding names may not contain spaces or ':'");
    }
  }

  const SchemaRegistry& schema_;
  Diagnostics* diags_;
  const std::vector<std::string> option_names_;  // for suggestions
  const std::vector<std::string> scope_names_;
};

}  // namespace

Diagnostics Validate(const Config& config, const SchemaRegistry& schema) {
  Diagnostics diags;
  Validator v(schema, &diags);
  v.Scope(config.root);
  SortByLocation(config, &diags);
  return diags;
}

void SortByLocation(const Config& config, Diagnostics* diags) {
  auto file_rank = [&](const std::string& f) {
    auto it = std::find(config.files.begin(), config.files.end(), f);
    return static_cast<size_t>(it - config.files.begin());
  };
  std::stable_sort(diags->begin(), diags->end(), [&](const Diagnostic& a, const Diagnostic& b) {
    return std::make_tuple(file_rank(a.location.file), a.location.line, a.location.column) <
           std::make_tuple(file_rank(b.location.file), b.location.line, b.location.column);
  });
}

}  // namespace ec::config
