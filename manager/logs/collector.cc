#include "manager/logs/collector.h"

namespace ec::logcollect {

Result<std::unique_ptr<Collector>> Collector::Start(CollectorOptions options,
                                                    const std::vector<CollectorNode>& nodes) {
  if (options.log_root.empty() || options.state_dir.empty()) {
    return InvalidArgument("log collection needs a log root and a state directory");
  }
  // A bad pattern should fail now, not in every puller's first write.
  EC_RETURN_IF_ERROR(
      ExpandLogfilePattern(options.pattern, {"mainlog", options.subcluster, "node"}, 0).status());
  std::unique_ptr<Collector> c(new Collector());
  // One zmq context (one I/O thread) for every puller of this manager.
  auto context = std::make_shared<zmq::context_t>(1);
  for (const CollectorNode& node : nodes) {
    for (const std::string& log : options.logs) {
      PullerOptions p;
      p.endpoint = node.endpoint;
      p.self = options.self;
      p.curve = options.curve;
      p.context = context;
      p.name = {log, options.subcluster, node.name};
      p.log_root = options.log_root;
      p.pattern = options.pattern;
      p.state_path = options.state_dir + "/" + node.name + "/" + log + ".state";
      p.subscriber = options.subscriber;
      p.wait = options.wait;
      p.on_line = options.on_line;
      p.on_error = options.on_error;
      auto puller = std::make_unique<NodeLogPuller>(std::move(p));
      EC_RETURN_IF_ERROR(puller->Start().WithContext("logs of " + node.name + " " + log));
      c->pullers_.push_back(std::move(puller));
      c->names_.push_back({log, options.subcluster, node.name});
    }
  }
  return c;
}

Collector::~Collector() { Stop(); }

void Collector::Stop() {
  for (auto& p : pullers_) p->Stop();
}

std::string Collector::Report() const {
  std::string out;
  for (size_t i = 0; i < pullers_.size(); ++i) {
    PullerStats s = pullers_[i]->stats();
    out += names_[i].node + " " + names_[i].log + ": " + std::to_string(s.lines) + " lines in " +
           std::to_string(s.batches) + " batches, " + std::to_string(s.skipped) +
           " resent lines skipped, " + std::to_string(s.errors) + " errors, " +
           (s.connected ? "connected" : "not connected") + "\n";
  }
  return out;
}

}  // namespace ec::logcollect
