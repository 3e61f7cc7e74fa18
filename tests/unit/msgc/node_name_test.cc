// The node-name rule, exhaustively: every byte in the first and in a later position, the length
// bounds, and the names that would be dangerous as file names. The bus (peers, frame senders)
// and enrolment both call this function; ecconfigd_enrol_test checks that enrolment agrees.
#include "msgc/node_name.h"

#include <gtest/gtest.h>

#include <string>

#include "msgc/bus_options.h"
#include "msgc/codec.h"

namespace ec::msgc {
namespace {

bool LowerOrDigit(int c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

TEST(NodeNameTest, EveryByteInTheFirstPosition) {
  for (int c = 0; c < 256; ++c) {
    const std::string name(1, static_cast<char>(c));
    EXPECT_EQ(IsValidNodeName(name), LowerOrDigit(c)) << "byte " << c;
    EXPECT_EQ(IsValidNodeName(name + "x"), LowerOrDigit(c)) << "byte " << c;
  }
}

TEST(NodeNameTest, EveryByteInALaterPosition) {
  for (int c = 0; c < 256; ++c) {
    const bool allowed = LowerOrDigit(c) || c == '_' || c == '.' || c == '-';
    const std::string middle = "a" + std::string(1, static_cast<char>(c)) + "b";
    const std::string last = "a" + std::string(1, static_cast<char>(c));
    EXPECT_EQ(IsValidNodeName(middle), allowed) << "byte " << c;
    EXPECT_EQ(IsValidNodeName(last), allowed) << "byte " << c;
  }
}

TEST(NodeNameTest, Lengths) {
  EXPECT_FALSE(IsValidNodeName(""));
  EXPECT_TRUE(IsValidNodeName("a"));
  EXPECT_TRUE(IsValidNodeName(std::string(kMaxNodeNameLength, 'a')));
  EXPECT_FALSE(IsValidNodeName(std::string(kMaxNodeNameLength + 1, 'a')));
}

TEST(NodeNameTest, UsualAndDangerousNames) {
  for (const char* good : {"node1", "mta-01.east_2", "0", "mta1.example.com", "a..b"}) {
    EXPECT_TRUE(IsValidNodeName(good)) << good;
  }
  for (const char* bad : {".", "..", ".hidden", "-x", "_x", "a/b", "a b", "MTA", "Node1", "a\nb"}) {
    EXPECT_FALSE(IsValidNodeName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidNodeName(std::string_view("a\0b", 3)));
}

// The bus applies the same rule to its own name, its peers and every frame's sender.
TEST(NodeNameTest, TheBusUsesTheRule) {
  for (const char* name : {"mta1.east", "-x", ".x", "Upper"}) {
    BusOptions options;
    options.self = name;
    options.peers = {{name, "127.0.0.1"}};
    options.port = 4809;
    Status s = ValidateBusOptions(options);
    EXPECT_EQ(s.message().find("is not " + std::string(kNodeNameRule)) == std::string::npos,
              IsValidNodeName(name))
        << name << ": " << s.ToString();
    Frame f;
    f.type = MessageType::kGoodbye;
    f.incarnation = 1;
    f.sender = name;
    EXPECT_EQ(Validate(f).ok(), IsValidNodeName(name)) << name;
  }
}

}  // namespace
}  // namespace ec::msgc
