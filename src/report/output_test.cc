// Writing reports: all or nothing for files, in place for devices and pipes.
#include "report/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace cg {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const char* name) {
  fs::path dir = fs::temp_directory_path() / (std::string(name) + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `report -o /dev/null` once renamed a temporary file over the device node. A FIFO stands in for the device:
// it must still be a FIFO afterwards and must have received the data.
TEST(Output, WritesIntoAPipeInPlaceInsteadOfReplacingIt) {
  fs::path dir = TempDir("cg_output_fifo_");
  fs::path fifo = dir / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The read end first (non-blocking, so no thread): the write end then opens at once, and the data fits
  // the pipe's buffer.
  int rd = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(rd, 0);
  std::string err;
  EXPECT_TRUE(WriteTextFile(fifo.string(), "through the pipe\n", &err)) << err;
  char buf[64];
  ssize_t n = read(rd, buf, sizeof buf);
  close(rd);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "through the pipe\n");
  struct stat st;
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  fs::remove_all(dir);
}

TEST(Output, StreamWriterShowsTheFileOnlyOnCloseAndLeavesNothingWhenAbandoned) {
  fs::path dir = TempDir("cg_output_stream_");
  fs::path path = dir / "out.csv";
  std::string err;
  {
    StreamWriter w;
    ASSERT_TRUE(w.Open(path.string(), &err)) << err;
    std::string big(3 << 20, 'x');  // past the buffer: written through before Close
    EXPECT_TRUE(w.Write(big));
    EXPECT_FALSE(fs::exists(path));
  }  // abandoned: no file, no temporary left behind
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir));
  StreamWriter w;
  ASSERT_TRUE(w.Open(path.string(), &err)) << err;
  EXPECT_TRUE(w.Write("a,b\r\n"));
  EXPECT_TRUE(w.Write("1,2\r\n"));
  ASSERT_TRUE(w.Close(&err)) << err;
  EXPECT_EQ(Slurp(path), "a,b\r\n1,2\r\n");
  fs::remove_all(dir);
}

TEST(Output, StreamWriterNamesTheFileItCannotCreate) {
  StreamWriter w;
  std::string err;
  EXPECT_FALSE(w.Open("/nonexistent-dir/out.csv", &err));
  EXPECT_NE(err.find("'/nonexistent-dir/out.csv'"), std::string::npos) << err;
}

}  // namespace
}  // namespace cg
