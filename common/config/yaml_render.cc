#include "common/config/yaml_render.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace ec::config {
namespace {

void EmitValue(YAML::Emitter& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kScalar:
      // Quoted in YAML when the config quoted it, so "0640" stays a string for readers.
      if (v.quoted()) out << YAML::DoubleQuoted;
      out << v.text();
      return;
    case Value::Kind::kList:
      out << YAML::BeginSeq;
      for (const Value& item : v.items()) EmitValue(out, item);
      out << YAML::EndSeq;
      return;
    case Value::Kind::kDict:
      out << YAML::BeginMap;
      for (size_t i = 0; i < v.items().size(); ++i) {
        out << YAML::Key << v.keys()[i] << YAML::Value;
        EmitValue(out, v.items()[i]);
      }
      out << YAML::EndMap;
      return;
  }
}

void EmitScopeBody(YAML::Emitter& out, const Scope& s) {
  if (!s.options.empty()) {
    out << YAML::Key << "options" << YAML::Value << YAML::BeginMap;
    std::set<std::string> emitted;
    for (const Option& o : s.options) {
      if (emitted.count(o.name)) continue;
      emitted.insert(o.name);
      const Option* last = s.FindOption(o.name);
      out << YAML::Key << o.name << YAML::Value;
      EmitValue(out, last->value);
    }
    out << YAML::EndMap;
  }
  if (!s.children.empty()) {
    out << YAML::Key << "scopes" << YAML::Value << YAML::BeginSeq;
    for (const Scope& c : s.children) {
      out << YAML::BeginMap;
      out << YAML::Key << "type" << YAML::Value << c.type;
      if (c.name) out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << *c.name;
      out << YAML::Key << "location" << YAML::Value << c.location.ToString();
      if (c.read_only) out << YAML::Key << "read_only" << YAML::Value << true;
      EmitScopeBody(out, c);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
}

}  // namespace

std::string TreeToYaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
  for (const std::string& f : config.files) out << f;
  out << YAML::EndSeq;
  out << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  EmitScopeBody(out, config.root);
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string ResolvedToYaml(const std::vector<Resolved>& values) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const Resolved& r : values) {
    out << YAML::Key << r.option << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "value" << YAML::Value;
    EmitValue(out, r.value);
    out << YAML::Key << "from" << YAML::Value
        << (r.from_default ? std::string("default") : r.location.ToString());
    out << YAML::Key << "scope" << YAML::Value << r.scope;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace ec::config
