#include "trial/trial.h"

#include <gtest/gtest.h>

namespace cg {

TEST(SeedExitCode, MatchesWhatAShellLoopWouldSee) {
  TrialResult r;
  r.outcome = Outcome::kClean;
  EXPECT_EQ(SeedExitCode(r), 0);
  r.outcome = Outcome::kCrashed;
  r.signal = 11;
  EXPECT_EQ(SeedExitCode(r), 139);
  r.outcome = Outcome::kHung;
  EXPECT_EQ(SeedExitCode(r), 124);
  r.outcome = Outcome::kFailed;
  r.exit_code = 3;
  EXPECT_EQ(SeedExitCode(r), 3);
}

TEST(CellKey, RoundTrips) {
  Cell c = {{"threads", "4"}, {"sessions", "2"}};
  EXPECT_EQ(CellKey(c), "threads=4,sessions=2");
  Cell back;
  ASSERT_TRUE(ParseCellKey(CellKey(c), &back));
  EXPECT_EQ(back, c);
  EXPECT_FALSE(ParseCellKey("threads", &back));
}

TEST(NormalizeErrorMessage, GroupsNumbersAndAddresses) {
  EXPECT_EQ(NormalizeErrorMessage("session 12 failed at 0x7f00ab: code 10"),
            "session # failed at 0x#: code #");
  EXPECT_EQ(NormalizeErrorMessage("  plain  "), "plain");
}

TEST(Outcome, NamesRoundTrip) {
  for (Outcome o : {Outcome::kClean, Outcome::kCrashed, Outcome::kHung, Outcome::kFailed, Outcome::kCouldNotStart}) {
    Outcome back;
    ASSERT_TRUE(ParseOutcome(OutcomeName(o), &back));
    EXPECT_EQ(back, o);
  }
}

}  // namespace cg
