// #mmove end to end over a real ECCluster channel on 127.0.0.1 with CURVE keys: node1 moves a
// spooled message to node2's MoveService. Stored once, removed from the sender only after the
// receiver's answer; a retried move (the sender died before its removal was durable, or the
// receiver restarted in between) is answered "dup" and stores nothing; non-members and damaged
// payloads are refused.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "eccluster/channel_client.h"
#include "eccluster/channel_server.h"
#include "msgc/curve_keys.h"
#include "mta/mmove/move_sender.h"
#include "mta/mmove/move_service.h"
#include "tests/unit/eccluster/channel_test_util.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::mmove {
namespace {

using namespace std::chrono_literals;

class MmoveProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_logs_ = mta::MtaLogs::Open({.mainlog = receiver_dir_.path() + "/mainlog"}).value();
    sender_logs_ = mta::MtaLogs::Open({.mainlog = sender_dir_.path() + "/mainlog"}).value();
    sender_spool_ = spool::testing::OpenOrDie(spool::testing::QuietOptions(sender_dir_.path()));
    StartReceiver();
    eccluster::ChannelClientOptions o{.endpoint = endpoint_, .self = "node1"};
    o.secret_key_file = keys_.SecretKeyFile("node1");
    o.server_public_key =
        msgc::ReadPublicKeyFile(keys_.PublicKeyDir() + "/node2.pub").value();
    client_ = eccluster::ChannelClient::Create(std::move(o)).value();
  }
  void TearDown() override { StopReceiver(); }

  // The receiver's spool, moved-in record, service and channel, as a node start makes them.
  void StartReceiver() {
    loop_.Run([&] {
      spool::SpoolOptions so = spool::testing::QuietOptions(receiver_dir_.path() + "/spool");
      so.post = [this](std::function<void()> fn) { loop_.base().RunInLoop(std::move(fn)); };
      receiver_spool_ = spool::testing::OpenOrDie(so);
      moved_in_ = MovedInLog::Open({.path = receiver_dir_.path() + "/movedin"}, Now(),
                                   [this](uint64_t id) {
                                     return receiver_spool_->ReadMessage(spool::QueueId(id)).ok();
                                   })
                      .value();
      service_ = std::make_unique<MoveService>(MoveServiceOptions{
          .spool = receiver_spool_.get(),
          .moved_in = moved_in_.get(),
          .logs = receiver_logs_.get(),
          .on_stored = [this](spool::QueueId, const spool::Envelope&) { ++scheduled_; }});
      service_->SetMembers({"node1"});
      eccluster::ChannelServerOptions o{.listen = {endpoint_.empty() ? "127.0.0.1:0" : endpoint_},
                                        .curve = keys_.Curve("node2"),
                                        .peers = {"node1", "node2", "node3"},
                                        .log = [](std::string_view) {}};
      server_ = eccluster::ChannelServer::Start(loop_.base().get(), std::move(o)).value();
      service_->RegisterCommands(server_->commands());
      endpoint_ = server_->addresses().at(0);
    });
  }
  void StopReceiver() {
    loop_.Run([&] {
      server_.reset();
      service_.reset();
      moved_in_.reset();
      receiver_spool_.reset();
    });
  }
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  spool::SpooledMessage Queue(const std::string& tag) {
    spool::Envelope e = spool::testing::MakeEnvelope(tag, 3);
    e.binding = "vip1";
    auto id = spool::testing::SubmitAndWait(*sender_spool_, e, spool::testing::MakeBody(tag, 9000));
    EXPECT_TRUE(id.ok());
    // The second recipient was delivered here already: it must not travel.
    EXPECT_TRUE(sender_spool_
                    ->Update(*id, {{.index = 1,
                                    .state = {.kind = spool::RecipientState::Kind::kDone}}})
                    .ok());
    return sender_spool_->ReadMessage(*id).value();
  }
  Result<MoveOutcome> Move(const spool::SpooledMessage& m) {
    std::string payload = PayloadFor(m, sender_spool_->ReadBody(m.id).value(), "vip1", false);
    return SendMove(*client_, m.id, payload, 3000ms);
  }
  size_t ReceiverSize() { return loop_.Get<size_t>([&] { return receiver_spool_->size(); }); }

  eccluster::testing::KeyDir keys_{{"node1", "node2", "node3"}};
  eccluster::testing::LoopThread loop_;
  spool::testing::TempDir sender_dir_, receiver_dir_;
  std::unique_ptr<mta::MtaLogs> sender_logs_, receiver_logs_;
  std::unique_ptr<spool::Spool> sender_spool_, receiver_spool_;
  std::unique_ptr<MovedInLog> moved_in_;
  std::unique_ptr<MoveService> service_;
  std::unique_ptr<eccluster::ChannelServer> server_;
  std::unique_ptr<eccluster::ChannelClient> client_;
  std::string endpoint_;
  int scheduled_ = 0;  // loop thread
};

TEST_F(MmoveProtocolTest, MovesOnceAndRecognisesRetries) {
  spool::SpooledMessage m = Queue("one");
  auto first = Move(m);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_FALSE(first->duplicate);
  ASSERT_EQ(ReceiverSize(), 1u);
  auto stored = loop_.Get<spool::SpooledMessage>(
      [&] { return receiver_spool_->ReadMessage(first->receiver_id).value(); });
  ASSERT_EQ(stored.envelope.rcpts.size(), 2u);  // the delivered one stayed behind
  EXPECT_EQ(stored.envelope.rcpts[0].address, m.envelope.rcpts[0].address);
  EXPECT_EQ(stored.envelope.rcpts[1].address, m.envelope.rcpts[2].address);
  EXPECT_EQ(stored.envelope.binding, "vip1");
  EXPECT_EQ(loop_.Get<std::string>([&] {
              return receiver_spool_->ReadBody(first->receiver_id).value();
            }),
            sender_spool_->ReadBody(m.id).value());

  // The sender died before its removal was durable: the copy is back and the move repeats.
  auto again = Move(m);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->receiver_id, first->receiver_id);
  // The receiver restarts (kill -9 after its answer) and the sender retries again.
  StopReceiver();
  StartReceiver();
  auto third = Move(m);
  ASSERT_TRUE(third.ok()) << third.status().message();
  EXPECT_TRUE(third->duplicate);
  EXPECT_EQ(ReceiverSize(), 1u);
  EXPECT_EQ(loop_.Get<int>([&] { return scheduled_; }), 1);  // only the first move stored
  ASSERT_TRUE(FinishMoved(*sender_spool_, sender_logs_.get(), m, 9000, "vip1", "node2", *third).ok());
  EXPECT_EQ(sender_spool_->size(), 0u);
  // Mainlogs: one R ... xfer per moved recipient on the receiver, one X per domain here.
  auto lines = [](const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  };
  const std::string rid = first->receiver_id.ToString(), sid = m.id.ToString();
  std::vector<std::string> r = lines(receiver_dir_.path() + "/mainlog");
  ASSERT_EQ(r.size(), 2u);
  for (const std::string& l : r) {
    EXPECT_NE(l.find("@" + rid + "@@node1:" + sid + "@R@"), std::string::npos) << l;
    EXPECT_NE(l.find("@9000@xfer@default@vip1"), std::string::npos) << l;
  }
  std::vector<std::string> x = lines(sender_dir_.path() + "/mainlog");
  ASSERT_EQ(x.size(), 1u);
  EXPECT_NE(x[0].find("@" + sid + "@@" + rid + "@X@example.net@9000@default@vip1@0@"),
            std::string::npos)
      << x[0];
  EXPECT_EQ(x[0].substr(x[0].size() - 6), "@node2");
}

TEST_F(MmoveProtocolTest, ReceiverDiedBetweenIntentAndStore) {
  spool::SpooledMessage m = Queue("two");
  // An intent with no stored message (the receiver died before the spool's fsync): settled
  // away at the next open, so the retry stores the message.
  loop_.Run([&] { ASSERT_TRUE(moved_in_->Intent({"node1", m.id.value()}, 77, Now()).ok()); });
  StopReceiver();
  StartReceiver();
  auto r = Move(m);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(ReceiverSize(), 1u);
  EXPECT_EQ(loop_.Get<int>([&] { return scheduled_; }), 1);
}

TEST_F(MmoveProtocolTest, RefusesNonMembersAndDamage) {
  spool::SpooledMessage m = Queue("three");
  loop_.Run([&] { service_->SetMembers({"node3"}); });
  EXPECT_FALSE(Move(m).ok());
  loop_.Run([&] { service_->SetMembers({"node1"}); });
  std::string payload = PayloadFor(m, sender_spool_->ReadBody(m.id).value(), "vip1", true);
  std::vector<MoveCommand> cmds = CommandsFor(m.id, payload);
  cmds[1].data[10] ^= 1;  // a flipped bit in the first chunk
  bool refused = false;
  for (const MoveCommand& c : cmds) {
    auto r = client_->Send(EncodeCommand(c), 3000ms);
    ASSERT_TRUE(r.ok());
    if (!r->ok) refused = true;
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(ReceiverSize(), 0u);
  EXPECT_TRUE(Move(m).ok());  // the undamaged move afterwards goes through
  EXPECT_EQ(ReceiverSize(), 1u);
}

// Without the channel: a sender that begins and never commits holds a staging slot only until
// it is stale, and only a member's principal is served.
TEST(MmoveServiceStaging, StalePayloadsMakeRoom) {
  spool::testing::TempDir dir;
  auto moved_in = MovedInLog::Open({.path = dir.path() + "/movedin"}, 0,
                                   [](uint64_t) { return false; })
                      .value();
  int64_t now = 0;
  MoveService service({.moved_in = moved_in.get(),
                       .now_us = [&] { return now; },
                       .max_staged = 1,
                       .stale_us = 10});
  service.SetMembers({"node1"});
  control::CommandRegistry commands;
  service.RegisterCommands(commands);
  auto send = [&](const std::string& line, const std::string& principal) {
    auto match = commands.Find(line);
    EXPECT_TRUE(match.has_value()) << line;
    control::Response out{false, "no reply"};
    match->request.principal = principal;
    (*match->handler)(match->request, control::Reply([&](control::Response r) { out = r; }));
    return out;
  };
  const std::string a = spool::QueueId(0x10).ToString(), b = spool::QueueId(0x20).ToString();
  EXPECT_TRUE(send("mmove begin " + a + " 100 1", "msgc:node1").ok);
  now = 5;
  EXPECT_FALSE(send("mmove begin " + b + " 100 1", "msgc:node1").ok);  // busy: A is fresh
  now = 20;
  EXPECT_TRUE(send("mmove begin " + b + " 100 1", "msgc:node1").ok);  // A was stale
  EXPECT_FALSE(send("mmove chunk " + a + " 0 YQ==", "msgc:node1").ok);
  EXPECT_TRUE(send("mmove chunk " + b + " 0 YQ==", "msgc:node1").ok);
  EXPECT_FALSE(send("mmove chunk " + b + " 1 YQ==", "msgc:node3").ok);
  EXPECT_FALSE(send("mmove chunk " + b + " 1 YQ==", "").ok);
  EXPECT_FALSE(send("mmove chunk " + b + " 5 YQ==", "msgc:node1").ok);  // a gap
  EXPECT_EQ(service.stats().refused, 2u);
}

// Staged payloads are held in memory: their declared sizes together are bounded too.
TEST(MmoveServiceStaging, DeclaredBytesAreBounded) {
  spool::testing::TempDir dir;
  auto moved_in = MovedInLog::Open({.path = dir.path() + "/movedin"}, 0,
                                   [](uint64_t) { return false; })
                      .value();
  MoveService service({.moved_in = moved_in.get(),
                       .now_us = [] { return int64_t{0}; },
                       .max_staged_bytes = 1000});
  service.SetMembers({"node1"});
  control::CommandRegistry commands;
  service.RegisterCommands(commands);
  auto begin = [&](uint64_t id, uint64_t bytes) {
    auto match = commands.Find("mmove begin " + spool::QueueId(id).ToString() + " " +
                               std::to_string(bytes) + " 1");
    EXPECT_TRUE(match.has_value());
    control::Response out{false, "no reply"};
    match->request.principal = "msgc:node1";
    (*match->handler)(match->request, control::Reply([&](control::Response r) { out = r; }));
    return out;
  };
  EXPECT_TRUE(begin(0x10, 600).ok);
  const control::Response refused = begin(0x20, 401);  // 1001 declared
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.text.find("busy"), std::string::npos) << refused.text;
  EXPECT_TRUE(begin(0x20, 400).ok);  // exactly 1000
  EXPECT_FALSE(begin(0x30, 1).ok);
}

}  // namespace
}  // namespace ec::mmove
