// Fallback lookups (config eval): outbound and inbound orders, exact vs regex domains, peers by
// most specific CIDR, pathways, defaults and typed getters.
#include "common/config/resolve.h"

#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

using ::testing::HasSubstr;

constexpr char kOutbound[] = R"(max_outbound_connections = 1
Domain "example.com" { max_outbound_connections = 2 }
Domain "/\.regex\.com$/" { max_outbound_connections = 20 tls = required }
Domain "/^a\.regex\.com$/" { max_outbound_connections = 21 }
Domain "exact.regex.com" { retry_interval = 7 }
Binding_Group "g" {
  max_outbound_connections = 3
  Binding "b" {
    max_outbound_connections = 4
    Domain "example.com" { max_outbound_connections = 5 }
    Host "mx.example.com" { max_outbound_connections = 9 }
  }
  Domain "example.com" { max_outbound_connections = 6 idle_timeout = 61 }
  Domain "other.com" { max_outbound_connections = 7 }
}
Binding_Group "g" { Domain "other.com" { max_outbound_connections = 77 } }
Binding "solo" { max_outbound_connections = 8 Domain "example.com" { connect_timeout = 11 } }
Host "mx.example.com" { max_outbound_connections = 10 }
)";

constexpr char kInbound[] = R"(max_receptions_per_connection = 1
ESMTP_Listener {
  max_receptions_per_connection = 2
  pathway = "pw"
  Peer "10.0.0.0/8" { max_receptions_per_connection = 3 }
  Peer "2001:db8::/32" { max_receptions_per_connection = 7 }
  Listen "*:25" {
    max_receptions_per_connection = 4
    Peer "10.1.0.0/16" { max_receptions_per_connection = 5 }
    Peer "10.1.2.0/24" { max_receptions_per_connection = 6 }
  }
  Listen "*:587" { }
}
Pathway "pw" { rfc2822_trace_headers = false }
Control_Listener { Listen "127.0.0.1:2025" { } timeout = 9 }
)";

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    out_ = testing::Parse(kOutbound, &diags);
    in_ = testing::Parse(kInbound, &diags);
    Diagnostics v1 = Validate(*out_, DefaultSchema()), v2 = Validate(*in_, DefaultSchema());
    diags.insert(diags.end(), v1.begin(), v1.end());
    diags.insert(diags.end(), v2.begin(), v2.end());
    // The resolution tests use one option nothing acts on yet; anything else is a mistake.
    EXPECT_THAT(testing::Messages(diags),
                ::testing::ElementsAre(
                    "t.conf:15:48: warning: option 'timeout' is accepted but not acted on yet "
                    "(docs/config-reference.md: planned)"));
  }
  // "value@line scope" for compact assertions.
  std::string Out(ScopePath p, const std::string& option = "max_outbound_connections") {
    return Show(*out_, p, option);
  }
  std::string In(ScopePath p, const std::string& option = "max_receptions_per_connection") {
    return Show(*in_, p, option);
  }
  static std::string Show(const Config& c, const ScopePath& p, const std::string& option) {
    auto r = Eval(c, DefaultSchema(), p, option);
    if (!r.ok()) return r.status().ToString();
    return r->value.ToConfigText() + "@" + std::to_string(r->location.line) + " " + r->scope;
  }

  std::shared_ptr<const Config> out_, in_;
};

TEST_F(ResolveTest, OutboundFallbackOrder) {
  EXPECT_EQ(Out({}), "1@1 global");
  EXPECT_EQ(Out({.domain = "example.com"}), "2@2 domain \"example.com\"");
  EXPECT_EQ(Out({.domain = "EXAMPLE.com"}), "2@2 domain \"EXAMPLE.com\"");
  // binding_group::binding::domain, with the group found from the binding.
  EXPECT_EQ(Out({.binding = "b", .domain = "example.com"}),
            "5@10 binding_group \"g\" > binding \"b\" > domain \"example.com\"");
  // binding_group::domain beats binding; merged Binding_Group stanzas: the last setting wins.
  EXPECT_EQ(Out({.binding = "b", .domain = "other.com"}),
            "77@16 binding_group \"g\" > domain \"other.com\"");
  EXPECT_EQ(Out({.binding = "b", .domain = "new.com"}), "4@9 binding_group \"g\" > binding \"b\"");
  EXPECT_EQ(Out({.binding_group = "g", .domain = "example.com"}),
            "6@13 binding_group \"g\" > domain \"example.com\"");
  EXPECT_EQ(Out({.binding_group = "g"}), "3@7 binding_group \"g\"");
  EXPECT_EQ(Out({.binding = "b", .domain = "example.com"}, "idle_timeout"),
            "61@13 binding_group \"g\" > domain \"example.com\"");
  // binding beats the global domain.
  EXPECT_EQ(Out({.binding = "solo", .domain = "example.com"}), "8@17 binding \"solo\"");
  EXPECT_EQ(Out({.binding = "solo", .domain = "example.com"}, "connect_timeout"),
            "11@17 binding \"solo\" > domain \"example.com\"");
  EXPECT_EQ(Out({.binding = "nobody"}), "1@1 global");
}

TEST_F(ResolveTest, HostsComeBeforeDomains) {
  EXPECT_EQ(Out({.binding = "b", .domain = "example.com", .host = "mx.example.com"}),
            "9@11 binding_group \"g\" > binding \"b\" > host \"mx.example.com\"");
  EXPECT_EQ(Out({.binding = "solo", .domain = "example.com", .host = "mx.example.com"}),
            "10@18 host \"mx.example.com\"");
}

TEST_F(ResolveTest, ExactDomainsWinOverRegexDomainsWhichGoInFileOrder) {
  EXPECT_EQ(Out({.domain = "a.regex.com"}), "20@3 domain \"a.regex.com\"");
  EXPECT_EQ(Out({.domain = "b.REGEX.com"}, "tls"), "required@3 domain \"b.REGEX.com\"");
  // An exact stanza hides the regex one entirely: the global value applies.
  EXPECT_EQ(Out({.domain = "exact.regex.com"}), "1@1 global");
  EXPECT_EQ(Out({.domain = "exact.regex.com"}, "retry_interval"), "7@5 domain \"exact.regex.com\"");
  EXPECT_EQ(Out({.domain = "regex.org"}), "1@1 global");
}

TEST_F(ResolveTest, DefaultsUnknownOptionsAndBadPaths) {
  auto r = Eval(*out_, DefaultSchema(), {.domain = "example.com"}, "Retry_Interval");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->from_default);
  EXPECT_EQ(r->value.text(), "1200");
  EXPECT_EQ(r->location.file, "<default>");
  EXPECT_EQ(r->scope, "default");
  EXPECT_EQ(Out({}, "max_outbund_connections"),
            "invalid argument: unknown option 'max_outbund_connections' (did you mean "
            "'max_outbound_connections'?)");
  EXPECT_THAT(Out({.domain = "x.com"}, "gateway"),
              HasSubstr("option 'gateway' is not set for domain \"x.com\" and has no default"));
  EXPECT_THAT(Out({.domain = "x.com", .listen = "*:25"}),
              HasSubstr("either inbound (listener, listen, peer, pathway) or outbound"));
}

TEST_F(ResolveTest, InboundPeerListenListenerGlobal) {
  EXPECT_EQ(In({}), "1@1 global");
  EXPECT_EQ(In({.listener = "ESMTP_Listener"}), "2@3 esmtp_listener");
  EXPECT_EQ(In({.listen = "*:587"}), "2@3 esmtp_listener");
  EXPECT_EQ(In({.listen = "*:25"}), "4@8 listen \"*:25\"");
  EXPECT_EQ(In({.listen = "*:25", .peer = "10.1.2.3"}),
            "6@10 peer \"10.1.2.0/24\" (client 10.1.2.3)");
  EXPECT_EQ(In({.listen = "*:25", .peer = "10.1.9.9"}),
            "5@9 peer \"10.1.0.0/16\" (client 10.1.9.9)");
  EXPECT_EQ(In({.listen = "*:25", .peer = "10.9.9.9"}),
            "3@5 peer \"10.0.0.0/8\" (client 10.9.9.9)");
  EXPECT_EQ(In({.listen = "*:25", .peer = "192.0.2.1"}), "4@8 listen \"*:25\"");
  EXPECT_EQ(In({.listen = "*:587", .peer = "10.1.2.3"}),
            "3@5 peer \"10.0.0.0/8\" (client 10.1.2.3)");
  EXPECT_EQ(In({.peer = "2001:db8::1"}), "7@6 peer \"2001:db8::/32\" (client 2001:db8::1)");
  EXPECT_THAT(In({.peer = "not-an-ip"}), HasSubstr("peer: expected an IP address"));
  EXPECT_EQ(In({.listener = "control_listener", .listen = "127.0.0.1:2025"}, "timeout"),
            "9@15 control_listener");
}

TEST_F(ResolveTest, PathwayFromTheListenerOption) {
  EXPECT_EQ(In({.listen = "*:25"}, "rfc2822_trace_headers"), "false@14 pathway \"pw\"");
  EXPECT_EQ(In({.pathway = "pw"}, "rfc2822_trace_headers"), "false@14 pathway \"pw\"");
}

TEST_F(ResolveTest, TypedGetters) {
  EXPECT_EQ(*EvalInt(*out_, {.binding = "b"}, "max_outbound_connections"), 4);
  EXPECT_EQ(*EvalSeconds(*out_, {.binding = "b", .domain = "example.com"}, "idle_timeout"), 61);
  EXPECT_FALSE(*EvalBool(*in_, {.listen = "*:25"}, "rfc2822_trace_headers"));
  EXPECT_EQ(*EvalString(*out_, {}, "tls"), "no");
  EXPECT_EQ(*EvalBytes(*in_, {.listen = "*:25"}, "max_message_size"), 0);
  EXPECT_EQ(EvalList(*out_, {}, "max_outbound_connections").status().message(),
            "t.conf:1:1: max_outbound_connections: expected a list ( ... ), found '1'");
}

TEST_F(ResolveTest, EvalAllCoversTheInnermostScope) {
  std::vector<Resolved> all =
      EvalAll(*out_, DefaultSchema(), {.binding = "b", .domain = "example.com"});
  ASSERT_FALSE(all.empty());
  auto it = std::find_if(all.begin(), all.end(),
                         [](const Resolved& r) { return r.option == "max_outbound_connections"; });
  ASSERT_NE(it, all.end());
  EXPECT_EQ(it->value.text(), "5");
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const Resolved& a, const Resolved& b) {
    return a.option < b.option;
  }));
  for (const Resolved& r : all) EXPECT_NE(r.option, "listen_backlog");
}

}  // namespace
}  // namespace ec::config
