#include "mta/logs/log_records.h"

#include <gtest/gtest.h>

namespace ec::mta {
namespace {

// The examples are the ones Momentum's log-format reference gives, field for field.
TEST(Mainlog, ReceptionMatchesMomentum) {
  ReceptionRecord r;
  r.time = 1064868656;
  r.message_id = "00/00-25004-31B987F3";
  r.batch_id = "00/00-03736-F4101B54";
  r.connection_id = "00/00-04532-A3456B54";
  r.rcpt_localpart = "bob";
  r.rcpt_domain = "example.fict";
  r.sender_localpart = "info";
  r.sender_domain = "postalengine.com";
  r.client_ip = "10.0.1.1";
  r.size = 201;
  EXPECT_EQ(FormatReception(r),
            "1064868656@00/00-25004-31B987F3@00/00-03736-F4101B54@00/00-04532-A3456B54@R"
            "@bob@example.fict@info@postalengine.com@10.0.1.1@201@esmtp@default@default");
}

TEST(Mainlog, DeliveryAndFailures) {
  DeliveryRecord d;
  d.time = 1064871280;
  d.message_id = "m";
  d.batch_id = "b";
  d.connection_id = "c";
  d.domain = "postalengine.com";
  d.size = 266;
  d.binding_group = "group-a";
  d.binding = "binding-a";
  d.seconds_since_reception = 0.393;
  d.remote_ip = "10.0.0.1";
  EXPECT_EQ(FormatDelivery(d),
            "1064871280@m@b@c@D@postalengine.com@266@group-a@binding-a@0@0.393@10.0.0.1");

  FailureRecord f;
  f.time = 1064869327;
  f.message_id = "m";
  f.batch_id = "b";
  f.connection_id = "c";
  f.domain = "example.fict";
  f.binding_group = "group-a";
  f.binding = "binding-a";
  f.stage = 15;
  f.seconds_since_reception = 18.53;
  f.remote_ip = "10.0.0.1";
  f.response = "421 no adequate servers\r\n";
  EXPECT_EQ(FormatFailure(f),
            "1064869327@m@b@c@T@example.fict@0@group-a@binding-a@15@0@18.530@10.0.0.1"
            "@421 no adequate servers  ");
  f.permanent = true;
  EXPECT_NE(FormatFailure(f).find("@P@"), std::string::npos);
  EXPECT_EQ(FormatMainlogHeartbeat(1251470342), "1251470342@@@@M");
}

TEST(Rejectlog, MatchesMomentum) {
  RejectionRecord r;
  r.time = 1236672125;
  r.remote = "10.79.25.142:42601";
  r.local = "10.79.25.142:25";
  r.connection_id = "18/00-07149-D7E16B94";
  r.phase = "awaiting mailfrom";
  r.code = 550;
  r.module = "scriptlet";
  r.connection_context = {{"pathway", "default"},
                          {"ehlo_string", "EHLO rh52-node1"},
                          {"ehlo_domain", "rh52-node1"}};
  r.message_context = {{"mailfrom_domain", ""},
                       {"mailfrom_string", "MAIL FROM:<>"},
                       {"mailfrom_localpart", ""}};
  r.text = "relaying denied";
  EXPECT_EQ(FormatRejection(r),
            "1236672125: R=\"10.79.25.142:42601\" L=\"10.79.25.142:25\" "
            "C=\"18/00-07149-D7E16B94\" PATH=\"default\" PATH_GRP=\"default\" "
            "P=\"awaiting mailfrom\" E=550 M=scriptlet "
            "CTXCONN=[pathway=default,ehlo_string=\"EHLO rh52-node1\",ehlo_domain=rh52-node1] "
            "CTXMESS=[mailfrom_domain=,mailfrom_string=\"MAIL FROM:<>\",mailfrom_localpart=] "
            "relaying denied");
  EXPECT_EQ(FormatRejectlogHeartbeat(1252064908), "1252064908: Marker 1");
}

TEST(Acctlog, AuthenticationMatchesMomentum) {
  // Momentum's example: 1160172232@N@*:2025@10.80.116.126:37164@ec_user@1
  AuthenticationRecord r{.time = 1160172232,
                         .listener = "*:2025",
                         .peer = "10.80.116.126:37164",
                         .user = "ec_user",
                         .accepted = true};
  EXPECT_EQ(FormatAuthentication(r), "1160172232@N@*:2025@10.80.116.126:37164@ec_user@1");
  r.accepted = false;
  r.timeout = true;
  r.peer.clear();
  EXPECT_EQ(FormatAuthentication(r), "1160172232@T@*:2025@@ec_user@0");
}

TEST(Acctlog, FieldsAreEscaped) {
  AuthenticationRecord r{.time = 1, .listener = "l", .peer = "p", .user = "a@b\\c\nd\x01"};
  EXPECT_EQ(FormatAuthentication(r), "1@N@l@p@a\\@b\\\\c\\nd\\x01@0");
}

TEST(Acctlog, AuthorizationMatchesMomentum) {
  // Momentum's examples: 1160172223@Z@*:2025@10.80.116.126:37162@ec-user@1@summary@users
  //                      1160504707@Z@/tmp/2025@@ec-user@0@shutdown
  EXPECT_EQ(FormatAuthorization({.time = 1160172223,
                                 .listener = "*:2025",
                                 .peer = "10.80.116.126:37162",
                                 .user = "ec-user",
                                 .result = 1,
                                 .command = "summary",
                                 .role = "users"}),
            "1160172223@Z@*:2025@10.80.116.126:37162@ec-user@1@summary@users");
  EXPECT_EQ(FormatAuthorization({.time = 1160504707,
                                 .listener = "/tmp/2025",
                                 .user = "ec-user",
                                 .result = 0,
                                 .command = "shutdown",
                                 .role = "not written when refused"}),
            "1160504707@Z@/tmp/2025@@ec-user@0@shutdown");
  EXPECT_EQ(FormatAuthorization({.time = 1, .result = -1, .command = "x"}), "1@Z@@@@-1@x");
  // Our allowed commands carry an empty role (no console roles): still eight fields.
  EXPECT_EQ(FormatAuthorization(
                {.time = 1, .listener = "l", .user = "u", .result = 1, .command = "config reload"}),
            "1@Z@l@@u@1@config reload@");
  EXPECT_EQ(FormatAuthorization({.time = 1, .result = 0, .command = "a@b\n"}), "1@Z@@@@0@a\\@b\\n");
}

TEST(Logs, HostileFieldsStayOnOneLine) {
  RejectionRecord r;
  r.text = "evil\r\n1234@@@@M";
  r.message_context = {{"mailfrom_string", "MAIL FROM:<a\"b>\n"}};
  std::string line = FormatRejection(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_NE(line.find("mailfrom_string=\"MAIL FROM:<a\\\"b> \""), std::string::npos);
  EXPECT_EQ(FormatPanic(5, "a\nb"), "5: a b");
  ReceptionRecord rec;
  rec.time = 7;
  rec.rcpt_localpart = "x\r\n1@@@@M";
  rec.size = 12;
  EXPECT_EQ(FormatReception(rec), "7@@@@R@x  1@@@@M@@@@@12@esmtp@default@default");
}

}  // namespace
}  // namespace ec::mta
