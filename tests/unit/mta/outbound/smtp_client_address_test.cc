// SmtpClient's on_address hook (per-address connection limits): a refused address is skipped,
// every address refused closes the client as "full" without connecting, and the hold on an
// address lives exactly until the client moves to the next address or closes.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "mta/outbound/smtp_client.h"
#include "tests/unit/mta/outbound/counting_smtp_server.h"

namespace ec::outbound {
namespace {

using testing::CountingSmtpServer;

// Counts holds; records which addresses were asked for, in order.
struct Holds {
  class Lease : public LimitLease {
   public:
    explicit Lease(Holds* h) : h_(h) { h_->max_held = std::max(++h_->held, h_->max_held); }
    ~Lease() override { --h_->held; }

   private:
    Holds* h_;
  };
  int held = 0, max_held = 0;
  std::vector<std::string> asked;
  std::vector<std::string> refuse;  // "ip:port" refused
};

struct Attempt {
  bool closed = false;
  bool full = false;
  bool was_ready = false;
  int held_when_ready = -1;
  int held_when_closed = -1;
  Status why;
};

event::SocketAddress Addr(const std::string& host, uint16_t port) {
  return event::SocketAddress::ParseHostPort(host + ":" + std::to_string(port)).value();
}

// A loopback port with nothing listening: connections to it are refused.
uint16_t RefusingPort(int* fd) {
  *fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EC_CHECK(::bind(*fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  EC_CHECK(::getsockname(*fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return ntohs(a.sin_port);
}

void Connect(std::vector<event::SocketAddress> addresses, Holds* holds, Attempt* run) {
  auto base = event::EventBase::Create().value();
  auto policy = std::make_shared<DomainPolicy>();
  policy->domain = "example.test";
  policy->ehlo_hostname = "client.test";
  policy->timeouts.connect = std::chrono::milliseconds(2000);
  policy->timeouts.ehlo = std::chrono::milliseconds(2000);
  SmtpClient::Callbacks cb;
  cb.on_address = [holds](const event::SocketAddress& a) -> std::unique_ptr<LimitLease> {
    const std::string key = a.host() + ":" + std::to_string(a.port());
    holds->asked.push_back(key);
    if (std::find(holds->refuse.begin(), holds->refuse.end(), key) != holds->refuse.end()) {
      return nullptr;
    }
    return std::make_unique<Holds::Lease>(holds);
  };
  cb.on_ready = [holds, run](SmtpClient* c) {
    run->held_when_ready = holds->held;
    c->Quit();
  };
  cb.on_closed = [holds, run](SmtpClient* c, const Status& why) {
    run->closed = true;
    run->full = c->addresses_full();
    run->was_ready = c->was_ready();
    run->held_when_closed = holds->held;
    run->why = why;
  };
  auto client = std::make_unique<SmtpClient>(*base, policy, std::move(addresses), "", cb);
  client->Start();
  ASSERT_TRUE(base->RunUntil([run] { return run->closed; }, std::chrono::seconds(10)));
}

TEST(SmtpClientAddress, ARefusedAddressIsSkipped) {
  CountingSmtpServer server;
  Holds holds;
  holds.refuse = {"127.0.0.2:" + std::to_string(server.port())};
  Attempt run;
  Connect({Addr("127.0.0.2", server.port()), Addr("127.0.0.1", server.port())}, &holds, &run);
  EXPECT_EQ(holds.asked, (std::vector<std::string>{holds.refuse[0],
                                                   "127.0.0.1:" + std::to_string(server.port())}));
  EXPECT_TRUE(run.was_ready);
  EXPECT_FALSE(run.full);
  EXPECT_EQ(run.held_when_ready, 1);   // held while connected
  EXPECT_EQ(run.held_when_closed, 0);  // released before on_closed
  EXPECT_EQ(server.connections(), 1u);
}

TEST(SmtpClientAddress, EveryAddressRefusedClosesAsFullWithoutConnecting) {
  CountingSmtpServer server;
  Holds holds;
  holds.refuse = {"127.0.0.1:" + std::to_string(server.port())};
  Attempt run;
  Connect({Addr("127.0.0.1", server.port())}, &holds, &run);
  EXPECT_TRUE(run.full);
  EXPECT_FALSE(run.was_ready);
  EXPECT_EQ(run.why.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(holds.max_held, 0);
  EXPECT_EQ(server.connections(), 0u);
}

TEST(SmtpClientAddress, TheHoldMovesWithTheClient) {
  CountingSmtpServer server;
  int fd = -1;
  const uint16_t dead = RefusingPort(&fd);
  Holds holds;
  Attempt run;
  Connect({Addr("127.0.0.1", dead), Addr("127.0.0.1", server.port())}, &holds, &run);
  ::close(fd);
  EXPECT_EQ(holds.asked.size(), 2u);
  EXPECT_EQ(holds.max_held, 1);  // the dead address's hold went before the next was taken
  EXPECT_EQ(run.held_when_ready, 1);
  EXPECT_EQ(run.held_when_closed, 0);
  EXPECT_FALSE(run.full);
}

TEST(SmtpClientAddress, AFailedConnectIsNotFull) {
  int fd = -1;
  const uint16_t dead = RefusingPort(&fd);
  Holds holds;
  Attempt run;
  Connect({Addr("127.0.0.1", dead)}, &holds, &run);
  ::close(fd);
  EXPECT_FALSE(run.full);
  EXPECT_FALSE(run.was_ready);
  EXPECT_EQ(run.why.code(), StatusCode::kUnavailable);
  EXPECT_EQ(run.held_when_closed, 0);
}

}  // namespace
}  // namespace ec::outbound
