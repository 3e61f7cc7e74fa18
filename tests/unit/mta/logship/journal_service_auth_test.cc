// Who may read and acknowledge a node's journals over the ECCluster channel: a real Journal
// behind JournalService on a real CURVE channel server (127.0.0.1, any port). Only a member in
// the manager role gets lines or moves the cursor; another member's valid key is not enough.
#include <gtest/gtest.h>

#include "eccluster/batch.h"
#include "eccluster/channel_client.h"
#include "eccluster/channel_server.h"
#include "msgc/curve_keys.h"
#include "mta/journal/journal.h"
#include "mta/logship/journal_service.h"
#include "tests/unit/eccluster/channel_test_util.h"

namespace ec::logship {
namespace {

using namespace std::chrono_literals;

class JournalServiceAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_.Run([&] {
      journal_ = journal::Journal::Open(
                     {.dir = (keys_.dir() / "journal").string(), .subscribers = {"master"}})
                     .value();
      for (int i = 0; i < 5; ++i) ASSERT_TRUE(journal_->Append("line " + std::to_string(i)).ok());
      service_ = std::make_unique<JournalService>(
          loop_.base(), std::map<std::string, journal::Journal*>{{"mainlog", journal_.get()}});
      service_->SetManagers({"manager"});
      server_ = eccluster::ChannelServer::Start(loop_.base().get(),
                                                {.listen = {"127.0.0.1:0"},
                                                 .curve = keys_.Curve("node1"),
                                                 .peers = {"node1", "node2", "manager"},
                                                 .log = [](std::string_view) {}})
                    .value();
      service_->RegisterCommands(server_->commands());
    });
  }
  void TearDown() override {
    loop_.Run([&] {
      server_.reset();
      service_.reset();
      journal_.reset();
    });
  }
  Result<control::Response> Send(const std::string& as, const std::string& line) {
    auto client = eccluster::ChannelClient::Create(
        {.endpoint = server_->addresses().at(0),
         .self = as,
         .secret_key_file = keys_.SecretKeyFile(as),
         .server_public_key =
             msgc::ReadPublicKeyFile(keys_.PublicKeyDir() + "/node1.pub").value()});
    if (!client.ok()) return client.status();
    return (*client)->Send(line, 5s);
  }
  journal::Position Cursor() {
    return loop_.Get<journal::Position>(
        [&] { return journal_->Stats().subscribers.at(0).position; });
  }

  eccluster::testing::KeyDir keys_{{"node1", "node2", "manager"}};
  eccluster::testing::LoopThread loop_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<JournalService> service_;
  std::unique_ptr<eccluster::ChannelServer> server_;
};

TEST_F(JournalServiceAuthTest, OnlyTheManagerReadsAndAcks) {
  const journal::Position start = Cursor();
  // node2 is a cluster member with a committed key, but not in control_peers.
  const std::vector<std::string> lines = {
      "journal read mainlog master 10",
      "journal ack mainlog master " + std::to_string(start.segment) + " 1000000",
      "cluster show logs"};
  for (const std::string& line : lines) {
    auto reply = Send("node2", line);
    ASSERT_TRUE(reply.ok()) << line << ": " << reply.status().ToString();
    EXPECT_FALSE(reply->ok) << line;
    EXPECT_NE(reply->text.find("refused: msgc:node2 is not a manager"), std::string::npos)
        << reply->text;
    EXPECT_EQ(reply->text.find("line 0"), std::string::npos);
  }
  EXPECT_EQ(Cursor(), start);

  auto read = Send("manager", "journal read mainlog master 10");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->ok) << read->text;
  auto records = eccluster::DecodeBatch(read->text);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 5u);
  EXPECT_EQ(records->front().payload, "line 0");
  // An ack inside a record is refused even from the manager; a boundary is taken.
  const eccluster::JournalPosition second = (*records)[1].position;
  auto bad = Send("manager", "journal ack mainlog master " + std::to_string(second.segment) + " " +
                                 std::to_string(second.offset + 3));
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok) << bad->text;
  EXPECT_EQ(Cursor(), start);
  auto ack = Send("manager", "journal ack mainlog master " + std::to_string(second.segment) + " " +
                                 std::to_string(second.offset));
  ASSERT_TRUE(ack.ok());
  EXPECT_TRUE(ack->ok) << ack->text;
  EXPECT_EQ(Cursor(), (journal::Position{second.segment, second.offset}));
}

TEST_F(JournalServiceAuthTest, NobodyIsAManagerByDefault) {
  loop_.Run([&] { service_->SetManagers({}); });
  auto reply = Send("manager", "journal read mainlog master 10");
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->ok);
}

}  // namespace
}  // namespace ec::logship
