#include "common/config/schema.h"

#include <algorithm>
#include <set>

#include "common/net/cidr.h"
#include "common/config/parser.h"
#include "common/config/text_util.h"

namespace ec::config {

std::string_view OptionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kBool:
      return "bool";
    case OptionType::kInt:
      return "int";
    case OptionType::kBytes:
      return "bytes";
    case OptionType::kSeconds:
      return "seconds";
    case OptionType::kString:
      return "string";
    case OptionType::kPath:
      return "path";
    case OptionType::kEnum:
      return "enum";
    case OptionType::kList:
      return "list";
    case OptionType::kCidrList:
      return "cidr list";
    case OptionType::kDict:
      return "dict";
    case OptionType::kRate:
      return "rate";
    case OptionType::kOctal:
      return "octal mode";
  }
  return "?";
}

std::string_view SupportName(Support support) {
  switch (support) {
    case Support::kImplemented:
      return "implemented";
    case Support::kPlanned:
      return "planned";
    case Support::kAccepted:
      return "accepted";
  }
  return "?";
}

namespace {

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

Status CheckRange(const OptionSpec& spec, const Value& value, double n) {
  if ((spec.min && n < static_cast<double>(*spec.min)) ||
      (spec.max && n > static_cast<double>(*spec.max))) {
    std::string range = spec.min && spec.max
                            ? std::to_string(*spec.min) + " to " + std::to_string(*spec.max)
                        : spec.min ? "at least " + std::to_string(*spec.min)
                                   : "at most " + std::to_string(*spec.max);
    return InvalidArgument("value " + value.text() + " is out of range (allowed: " + range + ")");
  }
  return Status::Ok();
}

bool InEnum(const OptionSpec& spec, const Value& value) {
  return value.is_scalar() &&
         std::any_of(spec.enum_values.begin(), spec.enum_values.end(),
                     [&](const std::string& e) { return EqualsIgnoreCase(e, value.text()); });
}

}  // namespace

Status CheckValue(const OptionSpec& spec, const Value& value) {
  switch (spec.type) {
    case OptionType::kBool:
      return value.AsBool().status();
    case OptionType::kInt: {
      if (InEnum(spec, value)) return Status::Ok();
      auto n = value.AsInt();
      if (!n.ok()) {
        if (spec.enum_values.empty()) return n.status();
        return InvalidArgument("expected an integer or one of: " + JoinWords(spec.enum_values) +
                               ", found " + value.Describe());
      }
      return CheckRange(spec, value, static_cast<double>(*n));
    }
    case OptionType::kBytes: {
      auto n = value.AsBytes();
      if (!n.ok()) return n.status();
      return CheckRange(spec, value, static_cast<double>(*n));
    }
    case OptionType::kSeconds: {
      auto n = value.AsSeconds();
      if (!n.ok()) return n.status();
      return CheckRange(spec, value, *n);
    }
    case OptionType::kString:
    case OptionType::kPath: {
      auto s = value.AsString();
      if (!s.ok()) return s.status();
      if (spec.type == OptionType::kPath && s->empty()) {
        return InvalidArgument("expected a path, found an empty string");
      }
      return Status::Ok();
    }
    case OptionType::kEnum:
      if (InEnum(spec, value)) return Status::Ok();
      return InvalidArgument("expected one of: " + JoinWords(spec.enum_values) + ", found " +
                             value.Describe());
    case OptionType::kList:
      return value.AsStringList().status();
    case OptionType::kCidrList: {
      auto list = value.AsStringList();
      if (!list.ok()) return list.status();
      for (const std::string& item : *list) EC_RETURN_IF_ERROR(net::Cidr::Parse(item).status());
      return Status::Ok();
    }
    case OptionType::kDict:
      if (!value.is_dict()) {
        return InvalidArgument("expected a dictionary [ key = value ... ], found " +
                               value.Describe());
      }
      return Status::Ok();
    case OptionType::kRate:
      return value.AsRate().status();
    case OptionType::kOctal:
      return value.AsOctal().status();
  }
  return Status::Ok();
}

void SchemaRegistry::AddOption(OptionSpec spec) {
  spec.name = ToLower(spec.name);
  EC_CHECK(!spec.scopes.empty());
  if (!spec.default_text.empty()) {
    auto v = ParseValueText(spec.default_text, "<default>");
    if (!v.ok()) EC_PANIC(("bad default for option " + spec.name).c_str());
    Status s = CheckValue(spec, *v);
    if (!s.ok())
      EC_PANIC(("default of " + spec.name + " fails its own type: " + s.message()).c_str());
    spec.default_value = std::move(v).value();
  }
  for (const std::string& v : spec.values_not_acted_on) {
    if (std::find(spec.enum_values.begin(), spec.enum_values.end(), v) == spec.enum_values.end())
      EC_PANIC(("option " + spec.name + ": value not acted on is not one of its values: " + v)
                   .c_str());
  }
  for (const OptionSpec* other : FindOptions(spec.name)) {
    for (const std::string& sc : spec.scopes) {
      if (std::find(other->scopes.begin(), other->scopes.end(), sc) != other->scopes.end()) {
        EC_PANIC(("option " + spec.name + " declared twice for scope " + sc).c_str());
      }
    }
  }
  option_index_.emplace(spec.name, options_.size());
  options_.push_back(std::move(spec));
}

void SchemaRegistry::AddScope(ScopeSpec spec) {
  spec.name = ToLower(spec.name);
  EC_CHECK(FindScope(spec.name) == nullptr);
  scopes_.push_back(std::move(spec));
}

void SchemaRegistry::Finalize() {
  for (const OptionSpec& o : options_) {
    for (const std::string& sc : o.scopes) {
      if (sc != "global" && !FindScope(sc)) {
        EC_PANIC(("option " + o.name + " names unknown scope " + sc).c_str());
      }
    }
  }
  for (const ScopeSpec& s : scopes_) {
    for (const std::string& p : s.parents) {
      if (p != "global" && !FindScope(p)) {
        EC_PANIC(("scope " + s.name + " names unknown parent " + p).c_str());
      }
    }
  }
}

const ScopeSpec* SchemaRegistry::FindScope(std::string_view type) const {
  for (const ScopeSpec& s : scopes_) {
    if (s.name == type) return &s;
  }
  return nullptr;
}

std::vector<const OptionSpec*> SchemaRegistry::FindOptions(std::string_view name) const {
  std::vector<const OptionSpec*> out;
  auto [begin, end] = option_index_.equal_range(name);
  for (auto it = begin; it != end; ++it) out.push_back(&options_[it->second]);
  return out;
}

const OptionSpec* SchemaRegistry::FindOption(std::string_view name, std::string_view scope) const {
  for (const OptionSpec* o : FindOptions(name)) {
    if (std::find(o->scopes.begin(), o->scopes.end(), scope) != o->scopes.end()) return o;
  }
  return nullptr;
}

std::vector<const OptionSpec*> SchemaRegistry::OptionsForScope(std::string_view scope) const {
  std::vector<const OptionSpec*> out;
  for (const OptionSpec& o : options_) {
    if (std::find(o.scopes.begin(), o.scopes.end(), scope) != o.scopes.end()) out.push_back(&o);
  }
  std::sort(out.begin(), out.end(),
            [](const OptionSpec* a, const OptionSpec* b) { return a->name < b->name; });
  return out;
}

std::vector<std::string> SchemaRegistry::OptionNames() const {
  std::set<std::string> names;
  for (const OptionSpec& o : options_) names.insert(o.name);
  return {names.begin(), names.end()};
}

std::vector<std::string> SchemaRegistry::ScopeNames() const {
  std::vector<std::string> names;
  for (const ScopeSpec& s : scopes_) names.push_back(s.name);
  std::sort(names.begin(), names.end());
  return names;
}

namespace scope_sets {
const std::vector<std::string> kOut = {"binding", "binding_group", "domain", "global"};
const std::vector<std::string> kOutHost = {"binding", "binding_group", "domain", "global", "host"};
const std::vector<std::string> kIn = {"esmtp_listener", "listen", "pathway", "pathway_group",
                                      "peer"};
const std::vector<std::string> kInG = {"esmtp_listener", "listen", "pathway",
                                       "pathway_group",  "peer",   "global"};
const std::vector<std::string> kPw = {"global", "pathway", "pathway_group"};
const std::vector<std::string> kLsn = {"control_listener", "eccluster_listener",
                                       "ecstream_listener", "esmtp_listener", "listen"};
const std::vector<std::string> kTlsl = {"ecstream_listener", "esmtp_listener", "listen",
                                        "pathway",           "pathway_group",  "peer"};
const std::vector<std::string> kAuth = {"control_listener", "esmtp_listener", "listen",
                                        "pathway",          "pathway_group",  "peer"};
const std::vector<std::string> kModules = {"cluster", "msgc_server", "msgc_client", "ec_logger",
                                           "bounce_logger"};
}  // namespace scope_sets

const SchemaRegistry& DefaultSchema() {
  static const SchemaRegistry* const kRegistry = [] {
    auto* r = new SchemaRegistry;
    RegisterScopes(r);
    RegisterNodeOptions(r);
    RegisterListenerOptions(r);
    RegisterOutboundOptions(r);
    RegisterClusterOptions(r);
    RegisterLoggingOptions(r);
    r->Finalize();
    return r;
  }();
  return *kRegistry;
}

}  // namespace ec::config
