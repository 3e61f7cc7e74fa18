// mmove_crash_peer: one side of #mmove in a process of its own, for the kill -9 test
// (crash_test.cc), which SIGKILLs it at random moments and starts it again.
//
//   mmove_crash_peer inject DIR COUNT              spool COUNT messages (body token "m<i>")
//   mmove_crash_peer receive DIR LISTEN KEYDIR     node2: prints "ready <address>", serves
//   mmove_crash_peer send DIR ENDPOINT KEYDIR      node1: moves every spooled message to node2,
//                                                  retrying until its spool is empty; exits 0
//
// KEYDIR holds <name>.key and msgc_keys/<name>.pub (eccluster/testing KeyDir). DIR/spool is
// the spool, DIR/movedin the receiver's moved-in record.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "common/event/event_base.h"
#include "eccluster/channel_client.h"
#include "eccluster/channel_server.h"
#include "mta/mmove/move_sender.h"
#include "mta/mmove/move_service.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace {

using namespace std::chrono_literals;
namespace sp = ec::spool;

int Inject(const std::string& dir, int count) {
  auto spool = sp::testing::OpenOrDie(sp::testing::QuietOptions(dir + "/spool"));
  for (int i = 0; i < count; ++i) {
    const std::string token = "m" + std::to_string(i);
    sp::Envelope e = sp::testing::MakeEnvelope(token, 1);
    e.binding = "vip1";
    if (!sp::testing::SubmitAndWait(*spool, e, sp::testing::MakeBody(token, 3000 + i * 37)).ok()) {
      return 1;
    }
  }
  return 0;
}

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Receive(const std::string& dir, const std::string& listen, const std::string& keydir) {
  auto base = ec::event::EventBase::Create().value();
  sp::SpoolOptions so = sp::testing::QuietOptions(dir + "/spool");
  so.post = [b = base.get()](std::function<void()> fn) { b->RunInLoop(std::move(fn)); };
  auto spool = sp::testing::OpenOrDie(so);
  auto moved_in = ec::mmove::MovedInLog::Open(
      {.path = dir + "/movedin"}, WallMicros(),
      [&](uint64_t id) { return spool->ReadMessage(sp::QueueId(id)).ok(); });
  if (!moved_in.ok()) return 2;
  ec::mmove::MoveService service({.spool = spool.get(), .moved_in = moved_in->get()});
  service.SetMembers({"node1"});
  auto server = ec::eccluster::ChannelServer::Start(
      base->get(), {.listen = {listen},
                    .curve = {.secret_key_file = keydir + "/node2.key",
                              .public_key_dir = keydir + "/msgc_keys"},
                    .peers = {"node1", "node2"},
                    .log = [](std::string_view) {}});
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().message().c_str());
    return 2;
  }
  service.RegisterCommands((*server)->commands());
  std::printf("ready %s\n", (*server)->addresses().at(0).c_str());
  std::fflush(stdout);
  return base->Run().ok() ? 0 : 1;
}

int Send(const std::string& dir, const std::string& endpoint, const std::string& keydir) {
  auto spool = sp::testing::OpenOrDie(sp::testing::QuietOptions(dir + "/spool"));
  auto options = ec::eccluster::ClientOptionsFor(
      {.secret_key_file = keydir + "/node1.key", .public_key_dir = keydir + "/msgc_keys"},
      "node1", "node2", endpoint);
  if (!options.ok()) return 2;
  options->connect_timeout = 300ms;
  auto client = ec::eccluster::ChannelClient::Create(std::move(*options)).value();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (spool->size() > 0) {
    if (std::chrono::steady_clock::now() > deadline) return 1;
    for (sp::QueueId id : spool->ListIds()) {
      auto m = spool->ReadMessage(id);
      auto body = spool->ReadBody(id);
      if (!m.ok() || !body.ok()) return 1;
      auto outcome = ec::mmove::SendMove(
          *client, id, ec::mmove::PayloadFor(*m, *body, "vip1", true), 1000ms);
      if (!outcome.ok()) {
        std::this_thread::sleep_for(50ms);  // receiver down or busy: retry
        break;
      }
      if (!ec::mmove::FinishMoved(*spool, nullptr, *m, body->size(), "vip1", "node2", *outcome)
               .ok()) {
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "inject" && argc == 4) return Inject(argv[2], std::atoi(argv[3]));
  if (mode == "receive" && argc == 5) return Receive(argv[2], argv[3], argv[4]);
  if (mode == "send" && argc == 5) return Send(argv[2], argv[3], argv[4]);
  std::fprintf(stderr, "usage: mmove_crash_peer inject|receive|send ...\n");
  return 2;
}
