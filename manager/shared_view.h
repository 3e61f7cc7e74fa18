// SharedView: eccmgr's read-only view of the cluster-wide limits (docs/cluster-limits.md). The
// nodes' shared-limits reports on the cluster group (cluster_group) merge into a
// replication::SharedTable, shown in /metrics per object and node. eccmgr holds no share and
// sends no grant: it only watches. Owned by ManagerDaemon; loop thread of the Bus.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "replication/shared_table.h"

namespace ec::manager {

// The cluster group, `cluster { cluster_group }` (default ec_cluster), as ecmta reads it.
std::string ClusterGroupOf(const config::Config& config);

class SharedView {
 public:
  // A message `sender` sent on the cluster group. kNotFound: not a shared-limits message (the
  // group carries DuraVIP's too); kInvalidArgument: malformed (counted). Grants are the
  // leader's business: accepted, not kept.
  Status OnMessage(const std::string& sender, std::string_view payload);
  // Dropped from eccmgr's view (dead, left the group, removed from the config).
  void Forget(const std::string& node) { table_.Forget(node); }

  const replication::SharedTable& table() const { return table_; }
  // ec_cluster_shared_{usage,grant}{object,node}, ec_cluster_shared_{limit,total}{object}.
  std::string Prometheus() const;

 private:
  replication::SharedTable table_;
  uint64_t rejected_ = 0;
};

}  // namespace ec::manager
