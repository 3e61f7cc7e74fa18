// xtext (RFC 3461 §4), shared by the listener, the outbound client and the DSN builder.
#include "mta/smtp/xtext.h"

#include <gtest/gtest.h>

namespace ec::smtp {
namespace {

TEST(Xtext, EncodeDecode) {
  EXPECT_EQ(XtextEncode("a b+c=d\r\n\x7f\xff~!"), "a+20b+2Bc+3Dd+0D+0A+7F+FF~!");
  EXPECT_TRUE(IsXtext("a+20b+2Bc+3Dd+0D+0A+7F+FF~!"));
  EXPECT_EQ(XtextDecode("a+20b+2Bc+3Dd+0D+0A+7F+FF~!"), "a b+c=d\r\n\x7f\xff~!");
  EXPECT_TRUE(IsXtext(""));
  EXPECT_FALSE(IsXtext("a b"));
  EXPECT_FALSE(IsXtext("a=b"));
  EXPECT_FALSE(IsXtext("a+2"));
  EXPECT_FALSE(IsXtext("a+2b"));  // hex must be upper case
  EXPECT_FALSE(IsXtext("a+"));
  EXPECT_EQ(XtextDecode("not xtext+"), "not xtext+");  // left as it is
  // Every byte round-trips.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string enc = XtextEncode(all);
  EXPECT_TRUE(IsXtext(enc));
  EXPECT_EQ(XtextDecode(enc), all);
}

}  // namespace
}  // namespace ec::smtp
