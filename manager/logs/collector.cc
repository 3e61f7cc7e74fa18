#include "manager/logs/collector.h"

namespace ec::logcollect {

Result<std::unique_ptr<Collector>> Collector::Start(CollectorOptions options,
                                                    const std::vector<CollectorNode>& nodes) {
  if (options.log_root.empty() || options.state_dir.empty()) {
    return InvalidArgument("log collection needs a log root and a state directory");
  }
  // A bad pattern should fail now, not in every puller's first write.
  EC_RETURN_IF_ERROR(
      ExpandLogfilePattern(options.pattern, {"mainlog", "default", "node"}, 0).status());
  std::unique_ptr<Collector> c(new Collector(std::move(options)));
  for (const CollectorNode& node : nodes) EC_RETURN_IF_ERROR(c->Add(node));
  return c;
}

Collector::~Collector() { Stop(); }

void Collector::Stop() {
  for (auto& [name, pulled] : nodes_) {
    for (auto& p : pulled.pullers) p->Stop();
  }
}

const CollectorNode* Collector::Find(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second.node;
}

void Collector::Remove(const std::string& name) { nodes_.erase(name); }

Status Collector::Add(const CollectorNode& node) {
  if (const CollectorNode* now = Find(node.name); now != nullptr && *now == node) {
    return Status::Ok();
  }
  Remove(node.name);  // joins its pullers before new ones take over the state files
  EC_RETURN_IF_ERROR(CheckPathName("subcluster", node.subcluster).WithContext("node " + node.name));
  Pulled pulled{node, {}};
  for (const std::string& log : options_.logs) {
    PullerOptions p;
    p.endpoint = node.endpoint;
    p.self = options_.self;
    p.curve = options_.curve;
    p.context = context_;
    p.name = {log, node.subcluster, node.name};
    p.log_root = options_.log_root;
    p.pattern = options_.pattern;
    p.state_path = options_.state_dir + "/" + node.name + "/" + log + ".state";
    p.subscribers = node.subscribers;
    p.wait = options_.wait;
    p.on_line = options_.on_line;
    p.on_error = options_.on_error;
    auto puller = std::make_unique<NodeLogPuller>(std::move(p));
    EC_RETURN_IF_ERROR(puller->Start().WithContext("logs of " + node.name + " " + log));
    pulled.pullers.push_back(std::move(puller));
  }
  nodes_.emplace(node.name, std::move(pulled));
  return Status::Ok();
}

std::string Collector::Report() const {
  std::string out;
  for (const auto& [name, pulled] : nodes_) {
    for (size_t i = 0; i < pulled.pullers.size(); ++i) {
      PullerStats s = pulled.pullers[i]->stats();
      out += name + " " + options_.logs[i] + ": " + std::to_string(s.lines) + " lines in " +
             std::to_string(s.batches) + " batches, " + std::to_string(s.skipped) +
             " resent lines skipped, " + std::to_string(s.errors) + " errors, " +
             (s.connected ? "connected as =>" + s.subscriber : std::string("not connected")) +
             ", subcluster " + pulled.node.subcluster + "\n";
    }
  }
  if (nodes_.empty()) out += "no nodes to pull (no MTA node seen on the bus yet)\n";
  return out;
}

}  // namespace ec::logcollect
