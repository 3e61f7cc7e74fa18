// Every validation message: unknown names with suggestions, types, ranges, enums, placement,
// scope names, duplicates; and that all problems are reported at once.
#include "common/config/validate.h"

#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

using testing::Check;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ValidateTest, AMomentumStyleConfigHasNoErrors) {
  EXPECT_THAT(
      Check("Spoolbase = \"/var/spool/ecelerity\"\n"
            "ESMTP_Listener {\n"
            "  Listen \":25\" { Peer \"10.0.0.0/8\" { Relay_Hosts = ( \"10.0.0.0/8\" ) } }\n"
            "  SMTP_Extensions = ( \"ENHANCEDSTATUSCODES\" \"STARTTLS\" )\n"
            "  AuthLoginParameters = [ uri = \"file:///etc/passwd\" ]\n"
            "  max_message_size = 10M\n"
            "}\n"
            "Binding_Group \"g\" { Binding \"b1\" { bind_address = 10.0.0.1 "
            "Domain \"example.com\" { max_outbound_connections = 4 } } }\n"
            "Domain \"/\\.example\\.org$/\" { tls = ifavailable }\n"
            "outbound_throttle_messages = \"100/60\"\n"
            "max_retries = auto\n"
            "cluster { logs = [ mainlog = \"/x\" ] Replicate \"OBTM\" { max_delay = 0.5 } }\n"),
      // Only the two settings ecmta does not act on yet are mentioned.
      ElementsAre("t.conf:11:1: warning: option 'max_retries' is accepted but not acted on yet "
                  "(docs/config-reference.md: planned)",
                  "t.conf:12:11: warning: option 'logs' is accepted but not acted on yet "
                  "(docs/config-reference.md: planned)"));
}

TEST(ValidateTest, ImplementedOptionsDoNotWarn) {
  EXPECT_THAT(Check("max_outbound_connections = 4\n"
                    "ESMTP_Listener { max_message_size = 10M }\n"),
              IsEmpty());
}

TEST(ValidateTest, APlannedOptionWarnsOnceWhereItIsSet) {
  EXPECT_THAT(Check("hostname = mta1\nDomain \"d\" {\n  max_retries = 3\n}\n"),
              ElementsAre("t.conf:3:3: warning: option 'max_retries' is accepted but not acted "
                          "on yet (docs/config-reference.md: planned)"));
}

TEST(ValidateTest, AnAcceptedOptionWarnsOnceWhereItIsSet) {
  EXPECT_THAT(Check("max_outbound_connections = 4\n  _Unsafe_Spool = true\n"),
              ElementsAre("t.conf:2:3: warning: option '_Unsafe_Spool' is accepted but not "
                          "acted on yet (docs/config-reference.md: accepted)"));
}

TEST(ValidateTest, EverySettingOfAnOptionNotActedOnWarns) {
  EXPECT_THAT(
      Check("spool_mode = 0600\nspool_mode = 0640\n"),
      ElementsAre("t.conf:1:1: warning: option 'spool_mode' is accepted but not acted on yet "
                  "(docs/config-reference.md: planned)",
                  "t.conf:2:1: warning: option 'spool_mode' is set again in global (first at "
                  "t.conf:1:1); the last setting wins",
                  "t.conf:2:1: warning: option 'spool_mode' is accepted but not acted on yet "
                  "(docs/config-reference.md: planned)"));
}

TEST(ValidateTest, ABadValueIsReportedWithoutTheNotActedOnWarning) {
  // The warning follows once the value is fixed; see WrongTypes for more planned options.
  EXPECT_THAT(Check("max_retries = sometimes\n"),
              ElementsAre("t.conf:1:15: error: option 'max_retries' (int): expected an integer "
                          "or one of: auto, none, found 'sometimes'"));
}

TEST(ValidateTest, UnknownOptionSuggestsTheClosestName) {
  EXPECT_THAT(Check("Max_Outbund_Connections = 3\nzzzzzzzz = 1\n"),
              ElementsAre("t.conf:1:1: error: unknown option 'Max_Outbund_Connections' (did you "
                          "mean 'max_outbound_connections'?)",
                          "t.conf:2:1: error: unknown option 'zzzzzzzz'"));
}

TEST(ValidateTest, UnknownScopeSuggestsTheClosestName) {
  EXPECT_THAT(Check("Bindng \"b\" { }\nesmtp_listner { }\n"),
              ElementsAre("t.conf:1:1: error: unknown scope 'Bindng' (did you mean 'binding'?)",
                          "t.conf:2:1: error: unknown scope 'esmtp_listner' (did you mean "
                          "'esmtp_listener'?)"));
}

TEST(ValidateTest, OptionsAndScopesConfused) {
  EXPECT_THAT(Check("Domain = x\ntls { }\n"),
              ElementsAre("t.conf:1:1: error: 'Domain' is a scope, not an option: write Domain "
                          "{ ... } or Domain \"name\" { ... }",
                          "t.conf:2:1: error: 'tls' is an option, not a scope: write tls = value"));
}

TEST(ValidateTest, WrongTypes) {
  EXPECT_THAT(
      Check("force_fsync = maybe\n"
            "max_outbound_connections = many\n"
            "retry_interval = -5\n"
            "relay_hosts = \"10.0.0.0/8\"\n"
            "prohibited_hosts = ( 10.0.0.0/8 not-an-ip )\n"
            "spool_mode = 0999\n"
            "outbound_throttle_messages = \"10/0\"\n"
            "cluster { logs = ( a b ) }\n"
            "hostname = ( a )\n"
            "ESMTP_Listener { max_message_size = 10Q }\n"),
      ElementsAre(
          "t.conf:1:15: error: option 'force_fsync' (bool): expected a boolean (true or false), "
          "found 'maybe'",
          "t.conf:2:28: error: option 'max_outbound_connections' (int): expected an integer, "
          "found 'many'",
          "t.conf:3:18: error: option 'retry_interval' (seconds): expected a number of seconds, "
          "found '-5'",
          "t.conf:4:15: error: option 'relay_hosts' (cidr list): expected a list ( ... ), found "
          "'10.0.0.0/8'",
          "t.conf:5:33: error: option 'prohibited_hosts': expected an IP address or CIDR "
          "block, found 'not-an-ip'",
          "t.conf:6:14: error: option 'spool_mode' (octal mode): expected an octal file mode "
          "such as 0640, found '0999'",
          "t.conf:7:30: error: option 'outbound_throttle_messages' (rate): expected a rate \"N\" "
          "or \"N/seconds\", found '10/0'",
          "t.conf:8:18: error: option 'logs' (dict): expected a dictionary [ key = value ... ], "
          "found a list",
          "t.conf:9:12: error: option 'hostname' (string): expected a single value, found a list",
          "t.conf:10:37: error: option 'max_message_size' (bytes): expected a size in bytes "
          "(optionally with K, M or G), found '10Q'"));
}

TEST(ValidateTest, RangesAndEnums) {
  EXPECT_THAT(
      Check("remote_smtp_port = 70000\n"
            "max_outbound_connections = -2\n"
            "tls = maybe\n"
            "max_retries = sometimes\n"
            "TLS = Required\n"),
      ElementsAre(
          "t.conf:1:20: error: option 'remote_smtp_port' (int): value 70000 is out of range "
          "(allowed: 1 to 65535)",
          "t.conf:2:28: error: option 'max_outbound_connections' (int): value -2 is out of range "
          "(allowed: at least -1)",
          "t.conf:3:7: error: option 'tls' (enum): expected one of: no, ifavailable, required, "
          "found 'maybe'",
          "t.conf:4:15: error: option 'max_retries' (int): expected an integer or one of: auto, "
          "none, found 'sometimes'",
          "t.conf:5:1: warning: option 'TLS' is set again in global (first at t.conf:3:1); the "
          "last setting wins"));
}

TEST(ValidateTest, OptionInTheWrongScopeNamesTheAllowedScopes) {
  EXPECT_THAT(Check("Domain \"x\" { listen_backlog = 5 }\nESMTP_Listener { tls = no }\n"),
              ElementsAre("t.conf:1:14: error: option 'listen_backlog' is not allowed in Domain "
                          "\"x\"; allowed in: control_listener, eccluster_listener, "
                          "ecstream_listener, esmtp_listener, listen",
                          "t.conf:2:18: error: option 'tls' is not allowed in ESMTP_Listener; "
                          "allowed in: binding, binding_group, domain, global"));
}

TEST(ValidateTest, ScopeInTheWrongParent) {
  EXPECT_THAT(Check("Listen \":25\" { }\nDomain \"d\" { Binding \"b\" { } }\n"),
              ElementsAre("t.conf:1:1: error: scope Listen \":25\" is not allowed in global; "
                          "allowed in: esmtp_listener, control_listener, eccluster_listener, "
                          "ecstream_listener, msgcserver_listener",
                          "t.conf:2:14: error: scope Binding \"b\" is not allowed in Domain "
                          "\"d\"; allowed in: global, binding_group"));
}

TEST(ValidateTest, ScopeNames) {
  EXPECT_THAT(
      Check("Domain { }\nSecurity \"s\" { }\nBinding \"a b\" { }\nidle_tme = 1\n"
            "ESMTP_Listener { Peer \"300.1.1.1\" { } }\n"
            "Domain \"/(unclosed/\" { }\nDomain \"/(a{100}){100}/\" { }\nDomain \"\" { }\n"),
      ElementsAre(
          "t.conf:1:1: error: scope Domain needs a name: Domain \"name\" { ... }",
          "t.conf:2:1: error: scope Security takes no name: write Security { ... }",
          "t.conf:3:1: error: scope Binding \"a b\": binding names may not contain spaces or ':'",
          "t.conf:4:1: error: unknown option 'idle_tme' (did you mean 'idle_time'?)",
          "t.conf:5:18: error: scope Peer \"300.1.1.1\": expected an IP address or CIDR block, "
          "found '300.1.1.1'",
          ::testing::StartsWith("t.conf:6:1: error: scope Domain \"/(unclosed/\": invalid "
                                "regular expression"),
          "t.conf:7:1: error: scope Domain \"/(a{100}){100}/\": regular expression repeat "
          "counts multiply beyond 1000",
          "t.conf:8:1: error: scope Domain has an empty name"));
}

TEST(ValidateTest, DuplicateScopes) {
  EXPECT_THAT(Check("ESMTP_Listener { Listen \":25\" { } Listen \":25\" { } }\n"
                    "ESMTP_Listener { }\n"
                    "Binding_Group \"g\" { }\nBinding_Group \"g\" { }\n"
                    "Domain \"a.com\" { }\nDomain \"A.com\" { }\n"
                    "Security { }\nSecurity { }\n"),
              ElementsAre("t.conf:1:35: error: duplicate Listen \":25\" in ESMTP_Listener (first "
                          "at t.conf:1:18)",
                          "t.conf:2:1: error: duplicate ESMTP_Listener in global (first at "
                          "t.conf:1:1)"));
}

TEST(ValidateTest, ReportsEveryProblemNotOnlyTheFirst) {
  std::vector<std::string> all = Check(
      "a = 1\nb = 2\nESMTP_Listener { c = 3 Listen \":1\" { d = 4 } }\nBinding \"x\" { e = 5 }\n");
  EXPECT_EQ(all.size(), 5u);
}

}  // namespace
}  // namespace ec::config
