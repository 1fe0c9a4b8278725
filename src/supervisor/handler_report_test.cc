#include "supervisor/handler_report.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace cg {
namespace {

const char* kRecord =
    "CRASHGRID-HANDLER 1\n"
    "pid 100\n"
    "tid 102\n"
    "signal 11\n"
    "code 1\n"
    "addr 0x10\n"
    "name encoder-3\n"
    "pc 0x7f0000001234\n"
    "pc 0x555500002010\n"
    "pc 0xdead\n"
    "maps\n"
    "555500000000-555500001000 r--p 00000000 fd:01 11   /usr/bin/prog\n"
    "555500001000-555500003000 r-xp 00001000 fd:01 11   /usr/bin/prog\n"
    "7f0000000000-7f0000001000 r--p 00000000 fd:01 22   /usr/lib/libnvcuvid.so.1\n"
    "7f0000001000-7f0000005000 r-xp 00001000 fd:01 22   /usr/lib/libnvcuvid.so.1\n"
    "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0    [stack]\n"
    "end\n";

TEST(HandlerRecord, ParsesSignalThreadAndModuleOffsets) {
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord(std::string("junk before\n") + kRecord, &r, &err)) << err;
  EXPECT_EQ(r.method, "handler");
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.si_code, 1);
  EXPECT_TRUE(r.has_fault_address);
  EXPECT_EQ(r.fault_address, 0x10u);
  EXPECT_EQ(r.faulting_tid, 102);
  EXPECT_EQ(r.faulting_thread_name, "encoder-3");
  EXPECT_TRUE(r.error.empty());
  ASSERT_EQ(r.threads.size(), 1u);
  const ThreadStack& t = r.threads[0];
  EXPECT_TRUE(t.faulting);
  EXPECT_EQ(t.tid, 102);
  ASSERT_EQ(t.frames.size(), 3u);
  EXPECT_EQ(t.frames[0].module, "/usr/lib/libnvcuvid.so.1");
  EXPECT_EQ(t.frames[0].offset, 0x1234u);  // from the load base (lowest mapping), not the r-x segment
  EXPECT_EQ(t.frames[1].module, "/usr/bin/prog");
  EXPECT_EQ(t.frames[1].offset, 0x2010u);
  EXPECT_EQ(t.frames[2].module, "");  // outside every mapping
}

TEST(HandlerRecord, OnlyTheFirstRecordCounts) {
  std::string two = std::string(kRecord) + "CRASHGRID-HANDLER 1\ntid 999\nsignal 6\nmaps\nend\n";
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord(two, &r, &err));
  EXPECT_EQ(r.faulting_tid, 102);
}

TEST(HandlerRecord, TornRecordKeepsPcsAndSaysSo) {
  std::string torn(kRecord);
  torn.resize(torn.find("[stack]"));
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord(torn, &r, &err));
  EXPECT_NE(r.error.find("incomplete"), std::string::npos);
  EXPECT_EQ(r.threads[0].frames.size(), 3u);
}

TEST(HandlerRecord, NoRecordIsAnError) {
  CrashReport r;
  std::string err;
  EXPECT_FALSE(ParseHandlerRecord("", &r, &err));
  EXPECT_FALSE(ParseHandlerRecord("CRASHGRID-HANDLER 1\ntid 5\n", &r, &err));
  EXPECT_FALSE(err.empty());
}

TEST(HandlerRecord, AbortHasNoFaultAddress) {
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord("CRASHGRID-HANDLER 1\ntid 7\nsignal 6\ncode -6\nnoaddr\npc 0x1\nmaps\nend\n", &r,
                                 &err));
  EXPECT_EQ(r.signal, SIGABRT);
  EXPECT_FALSE(r.has_fault_address);
}

}  // namespace
}  // namespace cg
