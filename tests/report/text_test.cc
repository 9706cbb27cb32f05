// The export's building blocks: text hygiene, excerpts, times, atomic files.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "report/atomic_file.h"
#include "report/excerpt.h"
#include "report/text.h"
#include "report/time_format.h"

namespace runbook::report {
namespace {

TEST(Utf8SanitizerTest, KeepsValidTextAndReplacesInvalidBytes) {
  EXPECT_EQ(Sanitize("héllo ✓", ControlChars::kKeep), "héllo ✓");
  EXPECT_EQ(Sanitize("a\xff" "b", ControlChars::kKeep), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(Sanitize("\xC0\xAF", ControlChars::kKeep), "\xEF\xBF\xBD\xEF\xBF\xBD");   // overlong
  EXPECT_EQ(Sanitize("\xED\xA0\x80", ControlChars::kKeep), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(Sanitize("x\xE2\x9C", ControlChars::kKeep), "x\xEF\xBF\xBD");             // cut short at the end
  EXPECT_TRUE(IsValidUtf8("✓ ok"));
  EXPECT_FALSE(IsValidUtf8("\xfe"));
}

TEST(Utf8SanitizerTest, JoinsACharacterSplitAcrossChunks) {
  Utf8Sanitizer s(ControlChars::kKeep);
  std::string out;
  s.Feed("a\xE2", out);
  s.Feed("\x9C", out);
  s.Feed("\x93z", out);
  s.Finish(out);
  EXPECT_EQ(out, "a✓z");
  EXPECT_TRUE(s.valid());
}

TEST(Utf8SanitizerTest, ShowsControlCharactersAsPictures) {
  EXPECT_EQ(Sanitize("\x1b[31mred\x1b[0m\r\nnext\rx\x00y\x7f\tz\n", ControlChars::kPicture).substr(0, 3), "␛");
  EXPECT_EQ(Sanitize(std::string("a\r\nb\rc\0d\x7f\te", 11)), "a\nb␍c␀d␡\te");
  EXPECT_EQ(Sanitize("end\r"), "end␍");
}

TEST(EscapeTest, HtmlEscapesMarkupCharacters) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(EscapeTest, CsvQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
}

TEST(Base64Test, StreamedEncodingEqualsOneShot) {
  const std::string data = "\xff\xfe\x00 any bytes at all \x01";
  std::string whole, parts;
  Base64Encoder a;
  a.Feed(std::string_view(data.data(), data.size()), whole);
  a.Finish(whole);
  Base64Encoder b;
  for (char c : data) b.Feed(std::string_view(&c, 1), parts);
  b.Finish(parts);
  EXPECT_EQ(whole, parts);
  std::string s;
  Base64Encoder c;
  c.Feed("Ma", s);
  c.Finish(s);
  EXPECT_EQ(s, "TWE=");
  s.clear();
  Base64Encoder d;
  d.Feed("M", s);
  d.Finish(s);
  EXPECT_EQ(s, "TQ==");
}

TEST(ExcerptTest, KeepsHeadAndTailAndCountsTheRest) {
  ExcerptBuilder b(journal::Stream::kStdout, 2);
  b.Feed("one\ntwo\nthr");
  b.Feed("ee\nfour\nfive\nsix");  // no final newline
  OutputExcerpt x = b.Finish();
  EXPECT_EQ(x.lines, 6);
  EXPECT_EQ(x.head, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(x.tail, (std::vector<std::string>{"five", "six"}));
  EXPECT_EQ(x.omitted_lines, 2);
  EXPECT_EQ(x.bytes, 27);
}

TEST(ExcerptTest, ShortOutputIsAllHead) {
  ExcerptBuilder b(journal::Stream::kStderr, 10);
  b.Feed("only\n");
  OutputExcerpt x = b.Finish();
  EXPECT_EQ(x.lines, 1);
  EXPECT_EQ(x.head, std::vector<std::string>{"only"});
  EXPECT_TRUE(x.tail.empty());
  EXPECT_EQ(x.omitted_lines, 0);
}

TEST(ExcerptTest, CapsLongLinesAtACharacterBoundary) {
  ExcerptBuilder b(journal::Stream::kStdout, 1);
  std::string line(kMaxExcerptLineBytes - 1, 'a');
  b.Feed(line + "✓✓✓\n");
  OutputExcerpt x = b.Finish();
  ASSERT_EQ(x.head.size(), 1u);
  EXPECT_EQ(x.head[0], line + "✓…");
  EXPECT_TRUE(x.valid_utf8);
}

TEST(ExcerptTest, RecordsInvalidUtf8AndLongestBacktickRun) {
  ExcerptBuilder b(journal::Stream::kStdout, 3);
  b.Feed("``x`");
  b.Feed("``\xff\n");
  OutputExcerpt x = b.Finish();
  EXPECT_FALSE(x.valid_utf8);
  EXPECT_EQ(x.longest_backtick_run, 3);
}

TEST(TimeRendererTest, UtcByDefault) {
  TimeRenderer t;
  EXPECT_TRUE(t.is_utc());
  EXPECT_EQ(t.Format(1772355600123456), "2026-03-01T09:00:00.123Z");
  EXPECT_EQ(t.Format(1772355600123456, TimePrecision::kMicros), "2026-03-01T09:00:00.123456Z");
  EXPECT_EQ(t.Format(std::nullopt, "—"), "—");
  EXPECT_EQ(t.TimeOfDay(1772355600123456), "09:00:00Z");
}

TEST(TimeRendererTest, ZoneGivesLocalTimeWithItsOffsetIncludingSummerTime) {
  auto t = TimeRenderer::ForZone("Europe/Berlin");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->zone_name(), "Europe/Berlin");
  EXPECT_EQ(t->Format(1772355600000000), "2026-03-01T10:00:00.000+01:00");
  EXPECT_EQ(t->Format(1782896400000000), "2026-07-01T11:00:00.000+02:00");
  EXPECT_EQ(t->TimeOfDay(1772355600000000), "10:00:00+01:00");
  auto utc = TimeRenderer::ForZone("UTC");
  ASSERT_TRUE(utc.ok());
  EXPECT_TRUE(utc->is_utc());
}

TEST(TimeRendererTest, UnknownZoneIsAnError) {
  auto t = TimeRenderer::ForZone("Mars/Olympus");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin, or UTC)");
}

TEST(FormatSpanTest, CompactDurations) {
  EXPECT_EQ(FormatSpan(0, 250000), "250ms");
  EXPECT_EQ(FormatSpan(0, 4200000), "4.2s");
  EXPECT_EQ(FormatSpan(0, 303000000), "5m 3s");
  EXPECT_EQ(FormatSpan(0, 5400000000), "1h 30m");
  EXPECT_EQ(FormatSpan(0, 183600000000), "2d 3h");
  EXPECT_EQ(FormatSpan(10, 0), "0ms");
}

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "atomic_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  size_t Entries() {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir_), {}));
  }
  std::string dir_;
};

TEST_F(AtomicFileTest, WritesTheWholeFileWithMode0600) {
  std::string path = dir_ + "/report.md";
  Status s = WriteFileAtomically(path, [](std::ostream& out) {
    for (int i = 0; i < 100000; ++i) out << "line " << i << "\n";
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.message();
  std::string text = Read(path);
  EXPECT_EQ(text.substr(text.size() - 11), "line 99999\n");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Entries(), 1u) << "no temporary file is left behind";
}

TEST_F(AtomicFileTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  std::string path = dir_ + "/report.md";
  { std::ofstream(path) << "old\n"; }
  Status s = WriteFileAtomically(path, [](std::ostream& out) {
    out << "half of the new";
    return Status::IoError("journal read failed");
  });
  EXPECT_EQ(s.message(), "journal read failed");
  EXPECT_EQ(Read(path), "old\n");
  EXPECT_EQ(Entries(), 1u);
}

TEST_F(AtomicFileTest, AMissingDirectoryIsAClearError) {
  Status s = WriteFileAtomically(dir_ + "/no/such/dir/x.html", [](std::ostream&) { return Status::Ok(); });
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_EQ(s.message(), "cannot write " + dir_ + "/no/such/dir/x.html: No such file or directory");
}

}  // namespace
}  // namespace runbook::report
