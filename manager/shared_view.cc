#include "manager/shared_view.h"

#include <algorithm>
#include <variant>
#include <vector>

#include "manager/prometheus_text.h"
#include "replication/shared_message.h"

namespace ec::manager {

using prometheus::Header;
using prometheus::LabelValue;

std::string ClusterGroupOf(const config::Config& config) {
  std::string group = "ec_cluster";
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    if (const config::Option* o = cluster->FindOption("cluster_group")) group = o->value.text();
  }
  return group;
}

Status SharedView::OnMessage(const std::string& sender, std::string_view payload) {
  auto decoded = replication::DecodeMessage(payload);
  if (!decoded.ok()) {
    if (decoded.status().code() != StatusCode::kNotFound) ++rejected_;
    return decoded.status();
  }
  if (const auto* report = std::get_if<replication::ReportMessage>(&*decoded)) {
    table_.Apply(sender, *report);
  }
  return Status::Ok();
}

std::string SharedView::Prometheus() const {
  const std::vector<std::string> keys = table_.Keys();
  const std::vector<std::string> nodes = table_.Nodes();
  std::string usage = Header("ec_cluster_shared_usage", "gauge",
                             "Units of a cluster-wide limit a node holds (open connections, "
                             "throttled sends in the window), as it last reported.");
  std::string grant = Header("ec_cluster_shared_grant", "gauge",
                             "The grant a node holds of a cluster-wide limit (its static share "
                             "while it has no leader), as it last reported.");
  std::string limit = Header("ec_cluster_shared_limit", "gauge",
                             "A cluster-wide limit as the nodes configure it (the largest if "
                             "they differ).");
  std::string total = Header("ec_cluster_shared_total", "gauge",
                             "Units of a cluster-wide limit held by all nodes together.");
  for (const std::string& key : keys) {
    const std::string object = "object=\"" + LabelValue(key) + "\"";
    uint64_t largest = 0;
    for (const std::string& node : nodes) {
      const replication::ObjectFigures* f = table_.Find(node, key);
      if (f == nullptr) continue;
      const std::string labels = "{" + object + ",node=\"" + LabelValue(node) + "\"} ";
      usage += "ec_cluster_shared_usage" + labels + std::to_string(f->usage) + "\n";
      grant += "ec_cluster_shared_grant" + labels + std::to_string(f->held) + "\n";
      largest = std::max(largest, f->limit);
    }
    limit += "ec_cluster_shared_limit{" + object + "} " + std::to_string(largest) + "\n";
    total +=
        "ec_cluster_shared_total{" + object + "} " + std::to_string(table_.TotalUsage(key)) + "\n";
  }
  return usage + grant + limit + total +
         Header("ec_cluster_shared_messages_rejected_total", "counter",
                "Malformed shared-limits messages eccmgr dropped.") +
         "ec_cluster_shared_messages_rejected_total " + std::to_string(rejected_) + "\n";
}

}  // namespace ec::manager
