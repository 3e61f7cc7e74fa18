// The shipped schema is consistent, and values convert as documented.
#include "common/config/schema.h"

#include "common/config/parser.h"
#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

Value V(const std::string& text) { return *ParseValueText(text, "<test>"); }

TEST(SchemaTest, EveryOptionTheProjectNeedsIsDeclaredWithItsDefault) {
  const SchemaRegistry& s = DefaultSchema();
  struct Expect {
    const char* name;
    const char* scope;
    const char* def;
  };
  for (const Expect& e : {
           Expect{"max_outbound_connections", "host", "32"},
           Expect{"server_max_outbound_connections", "binding", "20000"},
           Expect{"retry_interval", "domain", "1200"},
           Expect{"message_expiration", "global", "86400"},
           Expect{"listen_backlog", "esmtp_listener", "500"},
           Expect{"reconfig_message", "esmtp_listener", "\"4.3.2 Reconfiguration in progress\""},
           Expect{"idle_timeout", "binding", "5"},
           Expect{"idle_timeout", "msgc_server", "30"},
           Expect{"file_mode", "listen", "0660"},
           Expect{"file_mode", "logs", "0640"},
           Expect{"port", "msgc_server", "4809"},
           Expect{"view_mature_time", "cluster", "5"},
           Expect{"cluster_max_outbound_connections", "domain", "-1"},
           Expect{"tls", "binding_group", "no"},
           Expect{"heartbeat", "ec_logger", "60"},
       }) {
    const OptionSpec* o = s.FindOption(e.name, e.scope);
    ASSERT_NE(o, nullptr) << e.name << " in " << e.scope;
    EXPECT_EQ(o->default_text, e.def) << e.name;
    EXPECT_TRUE(o->default_value.has_value());
  }
  for (const char* name : {"hostname",
                           "pidfile",
                           "spoolbase",
                           "spool_mode",
                           "force_fsync",
                           "enable",
                           "peer",
                           "static_banner",
                           "relay_domains",
                           "open_relay",
                           "prohibited_hosts",
                           "tls_certificate",
                           "tls_key",
                           "starttls_injection_policy",
                           "authplainparameters",
                           "gateway",
                           "routes",
                           "never_retry",
                           "generate_bounces",
                           "mailerdaemon",
                           "tls_verify",
                           "tls_ca",
                           "suspend_delivery",
                           "resolv_conf",
                           "enable_duravip",
                           "duravip_preference",
                           "duravip_follow",
                           "cluster_outbound_throttle_messages",
                           "nodename",
                           "peers",
                           "server",
                           "mainlog",
                           "log_receptions",
                           "bouncelog",
                           "logfile",
                           "subscriber",
                           "concurrency"}) {
    if (std::string(name) == "peer") {
      EXPECT_NE(s.FindScope(name), nullptr);
      continue;
    }
    EXPECT_FALSE(s.FindOptions(name).empty()) << name;
  }
  EXPECT_EQ(s.FindOption("tls_key", "domain"), s.FindOption("tls_key", "listen"));
  EXPECT_EQ(s.FindOption("listen_backlog", "peer"), nullptr);
}

TEST(SchemaTest, ScopesKnowTheirParents) {
  const SchemaRegistry& s = DefaultSchema();
  EXPECT_EQ(s.FindScope("peer")->naming, ScopeNaming::kNamed);
  EXPECT_EQ(s.FindScope("esmtp_listener")->naming, ScopeNaming::kSingleton);
  EXPECT_EQ(s.FindScope("ec_logger")->naming, ScopeNaming::kOptionalName);
  EXPECT_FALSE(s.FindScope("binding_group")->unique);
  EXPECT_EQ(s.FindScope("nope"), nullptr);
}

TEST(SchemaTest, ValueConversions) {
  EXPECT_TRUE(*V("Yes").AsBool());
  EXPECT_FALSE(*V("off").AsBool());
  EXPECT_EQ(*V("-12").AsInt(), -12);
  EXPECT_FALSE(V("12abc").AsInt().ok());
  EXPECT_FALSE(V("99999999999999999999").AsInt().ok());
  EXPECT_EQ(*V("20M").AsBytes(), 20 << 20);
  EXPECT_EQ(*V("4kb").AsBytes(), 4096);
  EXPECT_EQ(*V("1.5").AsSeconds(), 1.5);
  EXPECT_EQ(*V("0755").AsOctal(), 0755u);
  Rate r = *V("\"100/60\"").AsRate();
  EXPECT_EQ(r.count, 100);
  EXPECT_EQ(r.per_seconds, 60);
  EXPECT_EQ(V("5").AsRate()->per_seconds, 1);
  EXPECT_EQ(V("( a b )").AsString().status().message(), "expected a single value, found a list");
  EXPECT_EQ(V("[ k = \"v w\" ]").ToConfigText(), "[ k = \"v w\" ]");
}

TEST(SchemaTest, CheckValueUsesTheSpec) {
  OptionSpec spec{
      .name = "x", .type = OptionType::kSeconds, .scopes = {"global"}, .min = 1, .max = 10};
  EXPECT_TRUE(CheckValue(spec, V("10")).ok());
  EXPECT_EQ(CheckValue(spec, V("0.5")).message(), "value 0.5 is out of range (allowed: 1 to 10)");
}

}  // namespace
}  // namespace ec::config
