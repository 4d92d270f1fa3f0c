#include "harness/names.h"

#include <gtest/gtest.h>

namespace essim::harness {
namespace {

TEST(Names, WordsAreLettersDigitsAndThreeMarks) {
  EXPECT_EQ(name_problem("balances_v2.read-model", NameRule::kWord), "");
  EXPECT_EQ(name_problem("", NameRule::kWord), "must not be empty");
  EXPECT_NE(name_problem("two words", NameRule::kWord), "");
  EXPECT_NE(name_problem("../up", NameRule::kWord).find("'/'"), std::string::npos);
  EXPECT_NE(name_problem(std::string(65, 'a'), NameRule::kWord), "");
  EXPECT_EQ(name_problem(std::string(64, 'a'), NameRule::kWord), "");
}

TEST(Names, TextIsOneLineOfUtf8) {
  EXPECT_EQ(name_problem("Überweisung <script> mit Leerzeichen", NameRule::kText), "");
  EXPECT_NE(name_problem("a\nb", NameRule::kText).find("U+000A"), std::string::npos);
  EXPECT_NE(name_problem("a\x7f", NameRule::kText), "");
  EXPECT_NE(name_problem("a\xc2\x85", NameRule::kText).find("U+0085"), std::string::npos);
  EXPECT_NE(name_problem("\xff", NameRule::kText).find("UTF-8"), std::string::npos);
  EXPECT_NE(name_problem("\xc0\xaf", NameRule::kText).find("UTF-8"),
            std::string::npos);  // overlong
  EXPECT_NE(name_problem("\xed\xa0\x80", NameRule::kText).find("UTF-8"), std::string::npos);
  EXPECT_NE(name_problem("", NameRule::kText), "");
  EXPECT_EQ(name_problem("", NameRule::kProse), "");
  EXPECT_EQ(name_problem("two\nlines", NameRule::kProse), "");
  EXPECT_NE(name_problem("tab\there", NameRule::kProse), "");
}

TEST(Names, Utf8ValidPrefix) {
  EXPECT_EQ(utf8_valid_prefix("abc"), 3U);
  EXPECT_EQ(utf8_valid_prefix("ab\xe2\x82"), 2U);  // truncated euro sign
  EXPECT_EQ(utf8_valid_prefix("\xe2\x82\xac!"), 4U);
  EXPECT_EQ(utf8_valid_prefix("\xf4\x90\x80\x80"), 0U);  // past U+10FFFF
}

TEST(Names, PrintableEscapesEveryOtherByte) {
  EXPECT_EQ(printable("a\n\xff"), "a\\x0A\\xFF");
}

}  // namespace
}  // namespace essim::harness
