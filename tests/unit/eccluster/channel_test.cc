// The ECCluster channel on 127.0.0.1 with real CURVE key pairs: a request reaches its handler
// with the key's node as principal and the reply comes back; a key nobody committed, a client
// without CURVE, and frames that are not ecc1 get nothing; without CURVE the stated name is
// used (development mode).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <zmq_addon.hpp>

#include "eccluster/channel_client.h"
#include "eccluster/channel_server.h"
#include "eccluster/frames.h"
#include "msgc/curve_keys.h"
#include "tests/unit/eccluster/channel_test_util.h"

namespace ec::eccluster {
namespace {

using namespace std::chrono_literals;
using testing::KeyDir;
using testing::LoopThread;

class ChannelTest : public ::testing::Test {
 protected:
  void StartServer(bool curve) {
    loop_.Run([&] {
      ChannelServerOptions o{.listen = {"127.0.0.1:0"},
                             .peers = {"node1", "node2", "manager"},
                             .log = [](std::string_view) {}};
      if (curve) o.curve = keys_.Curve("node1");
      server_ = ChannelServer::Start(loop_.base().get(), std::move(o)).value();
      // "whoami [<words>]": the principal and the words; "later": answers after 100 ms.
      ASSERT_TRUE(server_->commands()
                      .RegisterSync("whoami", "",
                                    [](const control::Request& r) -> Result<std::string> {
                                      return r.principal + " " + r.args;
                                    })
                      .ok());
      ASSERT_TRUE(server_->commands()
                      .Register("later", "",
                                [this](const control::Request&, control::Reply reply) {
                                  later_ = std::make_unique<std::thread>([this, reply] {
                                    std::this_thread::sleep_for(100ms);
                                    loop_.base().RunInLoop([reply] { reply.Ok("late"); });
                                  });
                                })
                      .ok());
    });
    endpoint_ = server_->addresses().at(0);
  }
  void TearDown() override {
    if (later_) later_->join();
    loop_.Run([&] { server_.reset(); });
  }
  std::unique_ptr<ChannelClient> Client(const std::string& self, bool curve,
                                        const std::string& key_of = "") {
    ChannelClientOptions o{.endpoint = endpoint_, .self = self};
    if (curve) {
      o.secret_key_file = keys_.SecretKeyFile(key_of.empty() ? self : key_of);
      o.server_public_key = msgc::ReadPublicKeyFile(keys_.PublicKeyDir() + "/node1.pub").value();
    }
    return ChannelClient::Create(std::move(o)).value();
  }
  ChannelStats Stats() {
    return loop_.Get<ChannelStats>([&] { return server_->stats(); });
  }
  bool WaitFor(const std::function<bool()>& condition) {
    for (int i = 0; i < 250; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  KeyDir keys_{{"node1", "node2", "manager"}, {"intruder"}};
  LoopThread loop_;
  std::unique_ptr<ChannelServer> server_;
  std::unique_ptr<std::thread> later_;
  std::string endpoint_;
};

TEST_F(ChannelTest, RoundTripCarriesTheKeysNodeAsPrincipal) {
  StartServer(true);
  auto client = Client("manager", true);
  auto reply = client->Send("whoami a  b", 5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(reply->ok);
  EXPECT_EQ(reply->text, "msgc:manager a  b");
  // The stated name is ignored under CURVE: node2's key says node2, whatever the frame says.
  auto liar = Client("manager", true, "node2");
  reply = liar->Send("whoami", 5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->text, "msgc:node2 ");
  reply = client->Send("no such command", 5s);
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->ok);
  EXPECT_EQ(reply->text, "unknown command");
  EXPECT_EQ(Stats().keys_refused, 0u);
}

TEST_F(ChannelTest, RepliesMayComeLater) {
  StartServer(true);
  auto client = Client("manager", true);
  auto reply = client->Send("later", 5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->text, "late");
  // The next request on the same client still gets its own answer.
  reply = client->Send("whoami", 5s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->text, "msgc:manager ");
}

TEST_F(ChannelTest, AnUnknownKeyIsRefusedWithoutAReply) {
  StartServer(true);
  auto intruder = Client("manager", true, "intruder");
  auto reply = intruder->Send("whoami", 1500ms);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(WaitFor([&] { return Stats().keys_refused > 0; }));
  EXPECT_EQ(Stats().requests, 0u);
}

TEST_F(ChannelTest, ReloadedPeersTakeEffectForTheNextHandshake) {
  StartServer(true);
  EXPECT_FALSE(Client("intruder", true)->Send("whoami", 1s).ok());
  // The member joins: its key is committed and the bus reloaded.
  const std::string secret = msgc::ReadSecretKeyFile(keys_.SecretKeyFile("intruder"))->secret_key;
  ASSERT_TRUE(msgc::WritePublicKeyFile(keys_.PublicKeyDir() + "/intruder.pub",
                                       msgc::PublicKeyFor(secret).value())
                  .ok());
  Status s = loop_.Get<Status>(
      [&] { return server_->ReloadPeers({"node1", "node2", "manager", "intruder"}); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto reply = Client("intruder", true)->Send("whoami", 5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->text, "msgc:intruder ");
  // A member removed from the bus cannot start a new session.
  s = loop_.Get<Status>([&] { return server_->ReloadPeers({"node1", "node2", "intruder"}); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(Client("manager", true)->Send("whoami", 1s).ok());
}

TEST_F(ChannelTest, AClientWithoutCurveGetsNothingFromACurveServer) {
  StartServer(true);
  auto plain = Client("manager", false);
  auto reply = plain->Send("whoami", 1500ms);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Stats().requests, 0u);
}

TEST_F(ChannelTest, WithoutCurveTheStatedNameIsBelieved) {
  StartServer(false);
  auto reply = Client("manager", false)->Send("whoami", 5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->text, "msgc:manager ");
  reply = Client("", false)->Send("whoami", 5s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->text, " ");  // nobody named: no principal
}

TEST_F(ChannelTest, FramesThatAreNotEcc1AreDroppedAndCounted) {
  StartServer(false);
  zmq::context_t context;
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect("tcp://" + endpoint_);
  std::vector<std::vector<std::string>> bad = {
      {"journal read mainlog master 10"},
      {"ecc1", "1", "manager"},
      {"ecc2", "1", "manager", "whoami"},
      {"ecc1", "x", "manager", "whoami"},
      {"ecc1", "1", "manager", "whoami\nsecond line"},
      {"ecc1", "1", "manager", std::string(kMaxCommandLine + 1, 'a')},
  };
  for (const auto& frames : bad) {
    // Blocking until connected: a DEALER queues until the connection is up.
    std::vector<zmq::const_buffer> buffers;
    for (const std::string& f : frames) buffers.push_back(zmq::buffer(f));
    ASSERT_TRUE(zmq::send_multipart(dealer, buffers));
  }
  EXPECT_TRUE(WaitFor([&] { return Stats().malformed == bad.size(); })) << Stats().malformed;
  zmq::message_t reply;
  EXPECT_FALSE(dealer.recv(reply, zmq::recv_flags::dontwait));
  EXPECT_EQ(Stats().requests, 0u);
}

TEST(FramesTest, RoundTrip) {
  auto request = EncodeRequest({.id = 42, .node = "manager", .line = "journal ack m s 1 16"});
  auto decoded = DecodeRequest({request.begin(), request.end()});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->id, 42u);
  EXPECT_EQ(decoded->node, "manager");
  EXPECT_EQ(decoded->line, "journal ack m s 1 16");
  auto reply = EncodeReply({.id = 7, .response = {false, "no"}});
  auto back = DecodeReply({reply.begin(), reply.end()});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, 7u);
  EXPECT_FALSE(back->response.ok);
  EXPECT_EQ(back->response.text, "no");
  EXPECT_FALSE(DecodeReply({"ecc1", "7", "maybe", ""}).ok());
}

}  // namespace
}  // namespace ec::eccluster
