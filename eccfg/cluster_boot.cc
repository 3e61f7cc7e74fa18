#include "eccfg/cluster_boot.h"

#include <fstream>

namespace ec::eccfg {

Result<ClusterBoot> ClusterBoot::Load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return FailedPrecondition("cannot read " + path.string() + "; run eccfg bootstrap");
  ClusterBoot boot;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument(path.string() + ":" + std::to_string(number) + ": expected key=value");
    }
    std::string key = line.substr(start, eq - start);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::string value = line.substr(eq + 1);
    size_t v = value.find_first_not_of(" \t");
    value = v == std::string::npos ? "" : value.substr(v);
    if (key == "cluster_name") {
      boot.cluster_name = value;
    } else if (key == "node_name") {
      boot.node_name = value;
    } else if (key == "repo") {
      boot.repo = value;
    } else if (key == "autoupdate") {
      if (value != "true" && value != "false" && value != "ifunchanged") {
        return InvalidArgument(path.string() + ":" + std::to_string(number) +
                               ": autoupdate must be true, ifunchanged or false");
      }
      boot.autoupdate = value;
    } else if (key == "reload_config_on_update") {
      boot.reload_config_on_update = value == "true" || value == "yes" || value == "1";
    } else if (key == "validate_command") {
      boot.validate_command = value;
    } else if (key == "reload_command") {
      boot.reload_command = value;
    } else if (key == "ecmta") {
      boot.ecmta = value;
    } else if (key == "control_socket") {
      boot.control_socket = value;
    } else {
      return InvalidArgument(path.string() + ":" + std::to_string(number) + ": unknown key " + key);
    }
  }
  if (boot.cluster_name.empty()) return InvalidArgument(path.string() + ": cluster_name is empty");
  return boot;
}

std::string ClusterBoot::Render() const {
  std::string s = "# written by eccfg bootstrap\ncluster_name=" + cluster_name + "\n";
  if (!node_name.empty()) s += "node_name=" + node_name + "\n";
  s += "repo=" + repo + "\nautoupdate=" + autoupdate + "\n";
  s +=
      std::string("reload_config_on_update=") + (reload_config_on_update ? "true" : "false") + "\n";
  if (!validate_command.empty()) s += "validate_command=" + validate_command + "\n";
  if (!reload_command.empty()) s += "reload_command=" + reload_command + "\n";
  if (!ecmta.empty()) s += "ecmta=" + ecmta + "\n";
  if (!control_socket.empty()) s += "control_socket=" + control_socket + "\n";
  return s;
}

}  // namespace ec::eccfg
