// SharedTable: every member's latest figures for every limited object, merged from reports
// (this node's own included). ecmta's limits and eccmgr's console and /metrics read it. A node
// dropped from the view is dropped here (Forget), so its share stops counting; a full report
// replaces the node's figures (objects it no longer has go). Not thread-safe; one owner.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "replication/share_allocator.h"
#include "replication/shared_message.h"

namespace ec::replication {

class SharedTable {
 public:
  // A report from `node` (a full one replaces what the node had).
  void Apply(const std::string& node, const ReportMessage& report);
  void Forget(const std::string& node);

  // The nodes' shares of one object, for the allocator (sorted by node name).
  std::vector<NodeShare> Shares(const std::string& key) const;
  // One node's figures of one object; null if none.
  const ObjectFigures* Find(const std::string& node, const std::string& key) const;
  // The leader each node last said it follows.
  std::string LeaderOf(const std::string& node) const;
  // Every key any node reports, sorted; `type` ("" = all) filters by ObjectType.
  std::vector<std::string> Keys(const std::string& type = "") const;
  // Cluster totals of one object.
  uint64_t TotalUsage(const std::string& key) const;
  std::vector<std::string> Nodes() const;

 private:
  struct NodeEntry {
    std::string leader;
    std::map<std::string, ObjectFigures> objects;
  };
  std::map<std::string, NodeEntry> nodes_;
};

}  // namespace ec::replication
