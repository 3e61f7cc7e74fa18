#include "mta/mmove/commands.h"

#include <map>
#include <string>

namespace ec::mmove {

void RegisterMmoveCommands(control::CommandRegistry& commands, Mover& mover,
                           const Receiver& receiver) {
  (void)commands.RegisterSync(
      "cluster mmove stats", "#mmove: messages moved out and in, moves in doubt per node",
      [&mover, &receiver](const control::Request&) -> Result<std::string> {
        const Mover::Stats out = mover.stats();
        const MoveService::Stats in = receiver.stats();
        std::string text = "moved out: " + std::to_string(out.moved) + ", duplicates " +
                           std::to_string(out.duplicates) + ", failed " +
                           std::to_string(out.failed) + ", in doubt " +
                           std::to_string(mover.in_doubt()) + "\nmoved in: " +
                           std::to_string(in.stored) + ", duplicates " +
                           std::to_string(in.duplicates) + ", refused " +
                           std::to_string(in.refused) + "\n";
        for (const auto& [node, n] : mover.InDoubtByNode()) {
          text += "in doubt to " + node + ": " + std::to_string(n) + "\n";
        }
        return text;
      });
  (void)commands.RegisterSync(
      "cluster mmove release",
      "<node>: schedule here the moves in doubt to <node>, gone for good (it may still deliver "
      "its copies)",
      [&mover](const control::Request& r) -> Result<std::string> {
        if (r.arg_words.size() != 1) return InvalidArgument("usage: cluster mmove release <node>");
        EC_ASSIGN_OR_RETURN(ReleasePlan plan, mover.Release(r.arg_words[0]));
        std::string text = "released " + std::to_string(plan.ids.size()) + "\n";
        if (plan.moving) {
          text += std::to_string(plan.moving) + " in a move now: try again when it has ended\n";
        }
        return text;
      });
}

}  // namespace ec::mmove
