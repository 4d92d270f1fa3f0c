#include "cli/subprocess.h"

#include <gtest/gtest.h>

#include <chrono>

namespace essim::cli {
namespace {

sim::Result<ProcessOutput> shell(const std::string& script, ProcessLimits limits = {}) {
  return run_process("/bin/sh", {"sh", "-c", script}, limits);
}

TEST(RunProcess, ReadsAllOfStandardOutputAndTheEndOfStandardError) {
  ProcessLimits limits;
  limits.err_tail_bytes_max = 8;
  const auto r = shell("head -c 300000 /dev/zero | tr '\\0' a; echo 0123456789abcdef >&2", limits);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().out, std::string(300000, 'a'));
  EXPECT_EQ(r.value().err_tail, "9abcdef\n");
  EXPECT_TRUE(r.value().exited_ok());
}

TEST(RunProcess, SaysHowItEnded) {
  const auto code = shell("exit 5");
  ASSERT_TRUE(code.ok());
  EXPECT_FALSE(code.value().exited_ok());
  EXPECT_EQ(code.value().how_it_ended(), "exited with code 5");
  const auto killed = shell("echo last words >&2; kill -SEGV $$");
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed.value().how_it_ended(), "was ended by signal 11 (SIGSEGV)");
  EXPECT_EQ(killed.value().err_tail, "last words\n");
}

TEST(RunProcess, KillsWhatPassesItsDeadline) {
  ProcessLimits limits;
  limits.deadline_seconds = 0.3;
  const auto started = std::chrono::steady_clock::now();
  // The pipes stay open (sleep holds them), and then the process runs on
  // with them closed: both are bounded.
  for (const char* script : {"exec sleep 30", "exec >&- 2>&-; exec sleep 30"}) {
    const auto r = shell(script, limits);
    ASSERT_FALSE(r.ok()) << script;
    EXPECT_NE(r.error().message.find("did not end within 0.3s; it was killed"), std::string::npos)
        << r.error().message;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(RunProcess, KillsWhatWritesTooMuch) {
  ProcessLimits limits;
  limits.out_bytes_max = 1000;
  const auto r = shell("exec cat /dev/zero", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "it wrote more than 1000 bytes; it was killed");
}

TEST(RunProcess, SaysWhatCannotStart) {
  const auto r = run_process("/no/such/program", {"x"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot start /no/such/program"), std::string::npos);
}

}  // namespace
}  // namespace essim::cli
